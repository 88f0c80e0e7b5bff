"""Tasks, the audit chain, and frame rendering."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import text

from tests.conftest import dicom_bytes
from tests.server.conftest import upload

# ------------------------------------------------------------------ tasks

def test_assign_next_and_finish(client, study, make, project, admin_headers):
    annie = make.user("annie")
    make.member(project, annie, "annotator")
    h = make.headers(annie)
    r = client.post(f"/api/v1/projects/{project.id}/tasks", headers=admin_headers,
                    json={"study_ids": [study["id"]]})  # into the shared pool
    assert r.status_code == 201 and r.json["created"][0]["assignee_id"] is None
    nxt = client.post(f"/api/v1/projects/{project.id}/tasks/next", headers=h).json["task"]
    assert nxt["study_id"] == study["id"] and nxt["assignee_id"] == annie.id
    mine = client.get(f"/api/v1/projects/{project.id}/tasks?assignee=me", headers=h).json
    assert mine["total"] == 1
    done = client.patch(f"/api/v1/tasks/{nxt['id']}", headers=h, json={"version": nxt["version"], "status": "done"})
    assert done.status_code == 200 and done.json["status"] == "done"
    assert client.post(f"/api/v1/projects/{project.id}/tasks/next", headers=h).json["task"] is None
    stale = client.patch(f"/api/v1/tasks/{nxt['id']}", headers=h, json={"version": nxt["version"], "status": "open"})
    assert stale.status_code == 409


def test_annotator_cannot_reassign_or_touch_others_tasks(client, study, make, project, admin_headers):
    annie, bob = make.user("annie"), make.user("bob")
    for u in (annie, bob):
        make.member(project, u, "annotator")
    task = client.post(f"/api/v1/projects/{project.id}/tasks", headers=admin_headers,
                       json={"study_ids": [study["id"]], "username": "annie"}).json["created"][0]
    r = client.patch(f"/api/v1/tasks/{task['id']}", headers=make.headers(bob), json={"version": 1, "status": "done"})
    assert r.status_code == 403
    r = client.post(f"/api/v1/projects/{project.id}/tasks", headers=make.headers(bob),
                    json={"study_ids": [study["id"]]})
    assert r.status_code == 403


def test_assign_unknown_study(client, project, admin_headers):
    r = client.post(f"/api/v1/projects/{project.id}/tasks", headers=admin_headers, json={"study_ids": [424242]})
    assert r.status_code == 404 and r.json["error"] == "not_found"


def test_pagination(client, project, admin_headers):
    for name in ("CT_small.dcm", "MR_small.dcm", "examples_ybr_color.dcm"):
        upload(client, project.id, admin_headers, (name, dicom_bytes(name)))
    page = client.get(f"/api/v1/projects/{project.id}/studies?per_page=2&page=2", headers=admin_headers).json
    assert (page["total"], page["pages"], len(page["items"])) == (3, 2, 1)
    bad = client.get(f"/api/v1/projects/{project.id}/studies?per_page=0", headers=admin_headers)
    assert bad.status_code == 400 and bad.json["error"] == "invalid_parameter"


# ------------------------------------------------------------------ audit

def _verify(app):
    from server import audit, db

    with app.app_context():
        return audit.verify(db.session())


def test_views_and_changes_are_audited_and_chain_verifies(app, client, study, admin_headers):
    client.get(f"/api/v1/documents/{study['documents'][0]['id']}", headers=admin_headers)
    events = client.get("/api/v1/audit?per_page=500", headers=admin_headers).json["items"]
    actions = {e["action"] for e in events}
    assert {"ingest", "view.study", "view.document", "project.create"} <= actions
    assert all("nodule" not in str(e["details"]).lower() for e in events)  # no report text in the log
    result = _verify(app)
    assert result.ok and result.events >= len(events)


def test_database_refuses_to_edit_or_delete_audit_rows(app, study):
    from sqlalchemy.exc import DBAPIError

    from server import db

    with app.app_context():
        s = db.session()
        with pytest.raises(DBAPIError, match="append-only"):
            s.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 1"))
        s.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            s.execute(text("DELETE FROM audit_events WHERE seq = 1"))
        s.rollback()


def _drop_guards(s, dialect):
    if dialect == "sqlite":
        s.execute(text("DROP TRIGGER audit_events_no_update"))
        s.execute(text("DROP TRIGGER audit_events_no_delete"))
    else:
        s.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))


@pytest.mark.parametrize("tamper, problem", [
    ("UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 2", "edited"),
    ("DELETE FROM audit_events WHERE seq = 2", "missing"),
    ("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)", "tail deleted"),
])
def test_verify_detects_tampering(app, study, tamper, problem):
    """Someone with database access drops the guards and edits history: `audit verify` notices."""
    from click.testing import CliRunner

    from server import db
    from server.cli import main

    assert _verify(app).ok
    with app.app_context():
        s = db.session()
        dialect = db.engine().dialect.name
        _drop_guards(s, dialect)
        s.execute(text(tamper))
        if dialect == "postgresql":  # the database is shared by later tests: put the guard back
            s.execute(text("CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
                           "FOR EACH ROW EXECUTE FUNCTION hilum_audit_append_only()"))
        s.commit()
    result = _verify(app)
    assert not result.ok and any(problem in p for p in result.problems), result.problems
    env = {"HILUM_DATABASE_URL": app.config["DATABASE_URL"], "HILUM_INSTANCE_PATH": app.instance_path,
           "HILUM_SECRET_KEY": "x", "HILUM_AUTO_MIGRATE": "false"}
    cli = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert cli.exit_code == 1 and "TAMPERED" in cli.output


def test_audit_requires_role(client, study, make, project):
    annie, paula = make.user("annie"), make.user("paula")
    make.member(project, annie, "annotator")
    make.member(project, paula, "privacy_officer")
    assert client.get(f"/api/v1/audit?project_id={project.id}", headers=make.headers(annie)).status_code == 403
    assert client.get(f"/api/v1/audit?project_id={project.id}", headers=make.headers(paula)).status_code == 200
    assert client.get("/api/v1/audit", headers=make.headers(paula)).status_code == 403


# ------------------------------------------------------------------ rendering

def _png(r):
    assert r.status_code == 200, r.get_data()[:200]
    return Image.open(io.BytesIO(r.data))


def test_render_ct_frame_with_window_and_presets(client, study, admin_headers):
    inst = study["series"][0]["instances"][0]["id"]
    base = f"/api/v1/instances/{inst}/frames/0.png"
    default = _png(client.get(base, headers=admin_headers))
    assert default.size == (128, 128) and default.mode == "L"
    narrow = _png(client.get(base + "?center=40&width=80", headers=admin_headers))
    lung = _png(client.get(base + "?preset=lung", headers=admin_headers))
    assert narrow.tobytes() != default.tobytes() and lung.tobytes() != narrow.tobytes()


@pytest.mark.parametrize("query, status, code", [
    ("?preset=nope", 400, "invalid_parameter"), ("?center=abc&width=1", 400, "invalid_parameter"),
])
def test_render_bad_parameters(client, study, admin_headers, query, status, code):
    inst = study["series"][0]["instances"][0]["id"]
    r = client.get(f"/api/v1/instances/{inst}/frames/0.png{query}", headers=admin_headers)
    assert r.status_code == status and r.json["error"] == code


def test_render_frame_out_of_range_and_multiframe(client, project, admin_headers):
    r = upload(client, project.id, admin_headers, ("us.dcm", dicom_bytes("examples_ybr_color.dcm")))
    detail = client.get(f"/api/v1/studies/{r.json['files'][0]['study_id']}", headers=admin_headers).json
    inst = detail["series"][0]["instances"][0]["id"]
    assert _png(client.get(f"/api/v1/instances/{inst}/frames/29.png", headers=admin_headers)).mode == "RGB"
    assert client.get(f"/api/v1/instances/{inst}/frames/30.png", headers=admin_headers).status_code == 404


@pytest.mark.parametrize("name", ["MR_small_jp2klossless.dcm", "MR_small_RLE.dcm", "JPGExtended.dcm",
                                  "MR_small_jpeg_ls_lossless.dcm", "MR_small_bigendian.dcm"])
def test_render_compressed_syntaxes(client, project, admin_headers, name):
    r = upload(client, project.id, admin_headers, (name, dicom_bytes(name)))
    detail = client.get(f"/api/v1/studies/{r.json['files'][0]['study_id']}", headers=admin_headers).json
    inst = detail["series"][0]["instances"][0]["id"]
    assert _png(client.get(f"/api/v1/instances/{inst}/frames/0.png", headers=admin_headers)).size[0] > 0


def test_render_undecodable_syntax_is_415(client, project, admin_headers):
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(dicom_bytes("MR_small_jp2klossless.dcm")))
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2 video: no codec installed
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    r = upload(client, project.id, admin_headers, ("video.dcm", out.getvalue()))
    assert r.status_code == 201, r.json
    detail = client.get(f"/api/v1/studies/{r.json['files'][0]['study_id']}", headers=admin_headers).json
    inst = detail["series"][0]["instances"][0]["id"]
    rendered = client.get(f"/api/v1/instances/{inst}/frames/0.png", headers=admin_headers)
    assert rendered.status_code == 415 and rendered.json["error"] == "unsupported_transfer_syntax"
