"""The HTML pages without a browser: the project page's task queue and study filters, "next task", the
workspace shell and its assets (the browser tests in tests/e2e drive the rest)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import dicom_bytes
from tests.server.conftest import upload


def _login(client, make, username: str, role: str | None, project=None):
    user = make.user(username, password="page passphrase")
    if role:
        make.member(project, user, role)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = client.post("/login", data={"username": username, "password": "page passphrase", "csrf_token": token})
    assert r.status_code == 302
    home = client.get("/").get_data(as_text=True)  # a new session has a new CSRF token
    return re.search(r'name="csrf-token" content="([^"]+)"', home).group(1)


@pytest.fixture
def two_studies(client, project, admin_headers):
    ids = []
    for name in ("CT_small.dcm", "MR_small.dcm"):
        r = upload(client, project.id, admin_headers, (name, dicom_bytes(name)))
        ids.append(r.json["files"][0]["study_id"])
    uid = client.get(f"/api/v1/studies/{ids[0]}", headers=admin_headers).json["study_instance_uid"]
    upload(client, project.id, admin_headers, ("r.txt", b"Nodule."), study_instance_uid=uid)
    return ids


def test_project_page_filters_studies(client, make, project, two_studies):
    _login(client, make, "viewer", "annotator", project)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f"/studies/{two_studies[0]}" in page and f"/studies/{two_studies[1]}" in page
    page = client.get(f"/projects/{project.id}?modality=MR").get_data(as_text=True)
    assert f"/studies/{two_studies[0]}\"" not in page and f"/studies/{two_studies[1]}\"" in page
    page = client.get(f"/projects/{project.id}?has=report").get_data(as_text=True)
    assert f"/studies/{two_studies[0]}\"" in page and f"/studies/{two_studies[1]}\"" not in page
    page = client.get(f"/projects/{project.id}?q=no-such-accession").get_data(as_text=True)
    assert "No studies match these filters" in page


def test_next_task_claims_and_opens_the_workspace(client, make, project, two_studies, admin_headers):
    client.post(f"/api/v1/projects/{project.id}/tasks", headers=admin_headers, json={"study_ids": two_studies})
    token = _login(client, make, "worker", "annotator", project)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Next annotate task" in page
    assert client.post(f"/projects/{project.id}/next", data={"stage": "annotate"}).status_code == 403  # no CSRF
    r = client.post(f"/projects/{project.id}/next", data={"stage": "annotate", "csrf_token": token})
    assert r.status_code == 302 and re.search(rf"/studies/{two_studies[0]}\?task=\d+$", r.location)
    shell = client.get(r.location).get_data(as_text=True)
    assert 'id="ws"' in shell and 'data-can-write="1"' in shell and "js/workspace.js" in shell
    assert 'data-stage="annotate"' in shell and "lung" in shell  # window presets for the viewer
    r = client.post(f"/projects/{project.id}/next", data={"stage": "review", "csrf_token": token})
    assert r.status_code == 302 and "No+review+tasks+left" in r.location


def test_read_only_roles_get_a_read_only_workspace(client, make, project, two_studies):
    _login(client, make, "officer", "privacy_officer", project)
    shell = client.get(f"/studies/{two_studies[0]}").get_data(as_text=True)
    assert 'data-can-write="0"' in shell
    assert "Next annotate task" not in client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_pages_need_login_and_membership(client, make, project, two_studies):
    r = client.get(f"/projects/{project.id}?q=x")
    assert r.status_code == 302 and "/login?next=" in r.location
    _login(client, make, "stranger", None)
    assert client.get(f"/projects/{project.id}").status_code == 404
    assert client.get(f"/studies/{two_studies[0]}").status_code == 404


@pytest.mark.parametrize("asset", ["hilum.css", "js/workspace.js", "js/store.js", "js/viewer.js", "js/regions.js",
                                   "js/text.js", "js/panels.js", "js/keys.js", "js/api.js", "js/canvas.js",
                                   "js/tools.js", "js/page.js", "js/editing.js", "js/tasks.js",
                                   "js/pending.js", "js/caret.js"])
def test_static_assets_are_served(client, asset):
    r = client.get(f"/static/{asset}")
    assert r.status_code == 200 and r.get_data()
    r.close()


def _audit_actions(app, target_type: str, target_id: int) -> list[str]:
    from server import db
    from server.models import AuditEvent

    with app.app_context():
        rows = db.session().query(AuditEvent).filter_by(target_type=target_type, target_id=str(target_id))
        return [e.action for e in rows.order_by(AuditEvent.seq)]


def test_prefetching_the_next_task_is_not_a_view(app, client, make, project, study):
    """The workspace loads the next task's study and warms its first frame with `?prefetch=1` while the user
    works on the current one: audited as prefetches. Opening it reads them again: those are the views."""
    _login(client, make, "prefetcher", "annotator", project)
    instance_id = study["series"][0]["instances"][0]["id"]
    document_id = study["documents"][0]["id"]
    before = {"study": _audit_actions(app, "study", study["id"]), "frame": _audit_actions(app, "frame", instance_id)}
    assert client.get(f"/api/v1/studies/{study['id']}?prefetch=1").status_code == 200
    r = client.get(f"/api/v1/instances/{instance_id}/frames/0.png?prefetch=1")
    assert r.status_code == 200 and r.data[:4] == b"\x89PNG"
    assert _audit_actions(app, "study", study["id"])[len(before["study"]):] == ["prefetch.study"]
    assert _audit_actions(app, "frame", instance_id)[len(before["frame"]):] == ["prefetch.frame"]

    client.get(f"/api/v1/studies/{study['id']}")
    client.get(f"/api/v1/instances/{instance_id}/frames/0.png")
    assert _audit_actions(app, "study", study["id"])[-1] == "view.study"
    assert _audit_actions(app, "frame", instance_id)[-1] == "view.frame"
    # the flag is honoured only where the workspace prefetches: report text read with it is still a view
    client.get(f"/api/v1/documents/{document_id}?prefetch=1")
    assert _audit_actions(app, "document", document_id)[-1] == "view.document"


def test_opening_the_workspace_page_is_not_a_view(app, client, make, project, study):
    """The page is a shell that shows ids only; its read of the study through the API is the one view."""
    _login(client, make, "opener", "annotator", project)
    before = len(_audit_actions(app, "study", study["id"]))
    assert client.get(f"/studies/{study['id']}").status_code == 200
    assert _audit_actions(app, "study", study["id"])[before:] == []
    client.get(f"/api/v1/studies/{study['id']}")
    assert _audit_actions(app, "study", study["id"])[before:] == ["view.study"]


def _frame_events(app, instance_id: int) -> list[tuple[str, int]]:
    import json

    from server import db
    from server.models import AuditEvent

    with app.app_context():
        rows = db.session().query(AuditEvent).filter_by(target_type="frame", target_id=str(instance_id))
        return [(e.action, json.loads(e.details)["frame"]) for e in rows.order_by(AuditEvent.seq)]


def test_a_prefetched_frame_that_is_shown_is_a_view(app, client, make, project, study):
    """The viewer reads neighbouring frames ahead with `?prefetch=1`; when it shows one it posts a view of it
    (no content comes back), so the log holds a view for each frame shown and only those."""
    token = _login(client, make, "scroller", "annotator", project)
    instance_id = study["series"][0]["instances"][0]["id"]
    before = len(_frame_events(app, instance_id))
    assert client.get(f"/api/v1/instances/{instance_id}/frames/0.png?prefetch=1").status_code == 200
    assert client.post(f"/api/v1/instances/{instance_id}/frames/0/views").status_code == 403  # no CSRF token
    r = client.post(f"/api/v1/instances/{instance_id}/frames/0/views", headers={"X-CSRF-Token": token})
    assert r.status_code == 204 and r.data == b""
    assert _frame_events(app, instance_id)[before:] == [("prefetch.frame", 0), ("view.frame", 0)]
    r = client.post(f"/api/v1/instances/{instance_id}/frames/7/views", headers={"X-CSRF-Token": token})
    assert r.status_code == 404 and r.json["error"] == "no_such_frame"
    assert len(_frame_events(app, instance_id)) == before + 2
