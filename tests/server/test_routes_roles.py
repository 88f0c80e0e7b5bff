"""Walk every API route against every role and check the answer matches the route's declared rule and the
PERMISSIONS table: anonymous → 401, outsiders → 404 (project objects do not leak), members without the
permission → 403, members with it → anything but an authorization error. Requests carry minimal or invalid
bodies, so authorization is what decides; destructive routes are called with missing versions."""

from __future__ import annotations

import re

import pytest

from server.auth import PERMISSIONS
from server.models import Role
from tests.conftest import dicom_bytes
from tests.server.conftest import upload

ROLES = [r.value for r in Role]
# Routes whose rule is `authenticated` but which check a project permission inside the view.
INNER = {"jobs.get_job": "job.read", "audit.list_events": "audit.read"}


@pytest.fixture
def world(app, client, make, admin_headers):
    project = make.project("walk")
    users = {}
    for role in ROLES:
        users[role] = make.user(f"m_{role}")
        make.member(project, users[role], role)
    users["outsider"] = make.user("outsider")
    users["site_admin"] = make.user("site", admin=True)
    r = upload(client, project.id, admin_headers, ("ct.dcm", dicom_bytes()))
    study_id = r.json["files"][0]["study_id"]
    uid = client.get(f"/api/v1/studies/{study_id}", headers=admin_headers).json["study_instance_uid"]
    r = upload(client, project.id, admin_headers, ("r.txt", b"Nodule."), ("d.wav", _wav()), study_instance_uid=uid)
    assert r.status_code == 201, r.json
    detail = client.get(f"/api/v1/studies/{study_id}", headers=admin_headers).json
    inst = detail["series"][0]["instances"][0]["id"]
    doc = detail["documents"][0]["id"]
    span = client.post(f"/api/v1/studies/{study_id}/annotations", headers=admin_headers, json={
        "kind": "span", "label": "FINDING", "document_id": doc, "start": 0, "end": 6}).json["id"]
    client.post(f"/api/v1/projects/{project.id}/tasks", headers=admin_headers,
                json={"study_ids": [study_id], "username": "m_annotator"})
    task = client.get(f"/api/v1/projects/{project.id}/tasks", headers=admin_headers).json["items"][0]["id"]
    job = client.post(f"/api/v1/projects/{project.id}/exports", headers=admin_headers,
                      json={"deidentify": False}).json["job"]["id"]
    ids = {"project_id": project.id, "study_id": study_id, "instance_id": inst, "document_id": doc,
           "recording_id": detail["recordings"][0]["id"], "annotation_id": span, "task_id": task, "job_id": job,
           "token_id": 999_999, "user_id": users["outsider"].id, "frame": 0}
    headers = {name: make.headers(u) for name, u in users.items()}
    headers["anonymous"] = {}
    return ids, headers


def _wav() -> bytes:
    import io
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 4000)
    return out.getvalue()


def _expected(kind: str, permission: str | None, who: str) -> str:
    if kind == "public":
        return "allowed"
    if who == "anonymous":
        return "401"
    if who == "site_admin":
        return "allowed"
    if kind == "authenticated":
        return "allowed"
    if kind == "site_admin":
        return "403"
    if who == "outsider":
        return "404"
    return "allowed" if Role(who) in PERMISSIONS[permission] else "403"


class _QueueOnly:
    """Jobs are stored but not run: this test's subject is authorization, not the engines behind jobs."""

    def dispatch(self, job_id: str) -> None:
        pass

    def shutdown(self) -> None:
        pass


@pytest.fixture
def queue_only(app):
    real = app.extensions["hilum.runner"]
    app.extensions["hilum.runner"] = _QueueOnly()
    yield
    app.extensions["hilum.runner"] = real


def test_every_route_for_every_role(app, client, world, queue_only):
    ids, headers = world
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        kind, permission = view.hilum_rule.kind, view.hilum_rule.permission
        if rule.endpoint in INNER:
            kind, permission = "permission", INNER[rule.endpoint]
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        if rule.endpoint == "audit.list_events":
            url += f"?project_id={ids['project_id']}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who, h in headers.items():
                r = client.open(url, method=method, headers=h, json={} if method in ("POST", "PATCH") else None)
                body = r.get_data()[:200]
                r.close()
                want = _expected(kind, permission, who)
                where = f"{method} {rule.rule} as {who}: {r.status_code} {body!r}"
                if want == "allowed":
                    assert r.status_code not in (401, 403), where
                    assert not (r.status_code == 404 and "project" in (r.json or {}).get("message", "")), where
                else:
                    assert r.status_code == int(want), where
                if r.status_code >= 400 and r.is_json:
                    assert {"error", "message"} <= set(r.json), where
                checked += 1
    assert checked >= 30 * len(headers)  # every route-method × every role was exercised


@pytest.mark.parametrize("who, status", [("anonymous", 302), ("outsider", 404), ("annotator", 200),
                                         ("privacy_officer", 200)])
def test_study_page_by_role(app, client, world, make, who, status):
    ids, _ = world
    if who != "anonymous":
        name = who if who == "outsider" else f"m_{who}"
        with client.session_transaction() as sess:
            from server import db
            from server.models import User

            with app.app_context():
                sess["user_id"] = db.session().query(User).filter_by(username=name).one().id
    r = client.get(f"/studies/{ids['study_id']}")
    assert r.status_code == status
