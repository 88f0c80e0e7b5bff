"""The native JSONL export, de-identified by default."""

from __future__ import annotations

import json

import pytest

from server.deid_export import OffsetMap
from tests.server.conftest import upload

REPORT = ("Patient John Smith (MRN 4471823) was seen on 03/14/2021 by Dr. Adams.\n"
          "FINDINGS: Spiculated nodule in the right upper lobe.\n")


def _export(app, client, project, headers, **body):
    from server import jobs

    r = client.post(f"/api/v1/projects/{project.id}/exports", headers=headers, json=body)
    assert r.status_code == 202, r.json
    with app.app_context():
        job = jobs.wait(r.json["job"]["id"], timeout=120)
    status = client.get(f"/api/v1/jobs/{job.id}", headers=headers).json
    assert status["status"] == "succeeded", status
    with client.get(status["result"]["download"], headers=headers) as dl:
        assert dl.status_code == 200
        return [json.loads(line) for line in dl.get_data(as_text=True).splitlines()]


@pytest.fixture
def project(app, make):
    """The project with a fixed secret: surrogate names are keyed by it, and with a random secret a real name's
    surrogate is now and then another real name of the same report ("John" → "Adams", seen once in CI), which
    the checks for leaked PHI below cannot tell from a leak."""
    from server import db

    made = make.project("chest")
    with app.app_context():
        s = db.session()
        s.get(type(made), made.id).secret = "5" * 64
        s.commit()
    return made


@pytest.fixture
def annotated(client, project, admin_headers):
    r = upload(client, project.id, admin_headers, ("r.txt", REPORT.encode()), accession_number="ACC778899")
    study_id = r.json["files"][0]["study_id"]
    doc = client.get(f"/api/v1/studies/{study_id}", headers=admin_headers).json["documents"][0]["id"]
    start = REPORT.index("Spiculated nodule")
    span = client.post(f"/api/v1/studies/{study_id}/annotations", headers=admin_headers, json={
        "kind": "span", "label": "FINDING", "document_id": doc, "start": start, "end": start + 17}).json
    return study_id, span


def test_deidentified_export_by_default(app, client, project, admin_headers, annotated):
    records = _export(app, client, project, admin_headers)
    assert records[0]["type"] == "project"
    blob = json.dumps(records)
    for phi in ("John Smith", "4471823", "03/14/2021", "Adams", "ACC778899"):
        assert phi not in blob, phi
    (doc,) = [r for r in records if r["type"] == "document"]
    (span,) = [r for r in records if r["type"] == "annotation"]
    assert span["text"] == "Spiculated nodule" == doc["text"][span["start"]:span["end"]]


def test_raw_export_for_site_admins_only(app, client, project, admin_headers, annotated, make):
    records = _export(app, client, project, admin_headers, deidentify=False)
    types = [r["type"] for r in records]
    assert types == ["project", "study", "document", "annotation"]
    assert "John Smith" in json.dumps(records)
    paula = make.user("paula")
    make.member(project, paula, "privacy_officer")
    r = client.post(f"/api/v1/projects/{project.id}/exports", headers=make.headers(paula), json={"deidentify": False})
    assert r.status_code == 403


@pytest.mark.parametrize("body, code", [({"format": "xml"}, "invalid_field"), ({"deidentify": "no"}, "invalid_field")])
def test_bad_export_requests(client, project, admin_headers, body, code):
    r = client.post(f"/api/v1/projects/{project.id}/exports", headers=admin_headers, json=body)
    assert r.status_code == 400 and r.json["error"] == code


@pytest.mark.parametrize("pos, start, end", [(0, 0, 0), (5, 5, 5), (10, 10, 10), (12, 10, 14), (20, 14, 14),
                                             (25, 19, 19)])
def test_offset_map(pos, start, end):
    # characters 10..19 (10 long) become 4 characters at 10..13; later text moves 6 to the left
    m = OffsetMap([(10, 20, 4)])
    assert (m.start(pos), m.end(pos)) == (start, end)


def test_export_then_import_roundtrip(app, client, project, admin_headers, annotated, make, tmp_path):
    from click.testing import CliRunner

    from server.cli import main

    study_id, span = annotated
    region_study = client.get(f"/api/v1/studies/{study_id}", headers=admin_headers).json
    assert region_study["documents"]
    records = _export(app, client, project, admin_headers, deidentify=False)
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    env = {"HILUM_DATABASE_URL": app.config["DATABASE_URL"], "HILUM_INSTANCE_PATH": app.instance_path,
           "HILUM_SECRET_KEY": "x", "HILUM_AUTO_MIGRATE": "false"}
    r = CliRunner().invoke(main, ["import-jsonl", str(path), "--project", "restored", "--create"], env=env)
    assert r.exit_code == 0, r.output
    assert "annotations 1" in r.output and "documents 1" in r.output and "studies_created 1" in r.output
    projects = client.get("/api/v1/projects", headers=admin_headers).json["items"]
    restored = next(p for p in projects if p["name"] == "restored")
    studies = client.get(f"/api/v1/projects/{restored['id']}/studies", headers=admin_headers).json["items"]
    anns = client.get(f"/api/v1/studies/{studies[0]['id']}/annotations", headers=admin_headers).json["items"]
    assert [(a["text"], a["label"], a["status"]) for a in anns] == [("Spiculated nodule", "FINDING", "accepted")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "study"}\nnot json\n')
    r = CliRunner().invoke(main, ["import-jsonl", str(bad), "--project", "restored"], env=env)
    assert r.exit_code == 1 and "line 1" in r.output and "Traceback" not in r.output
