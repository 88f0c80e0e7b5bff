"""Browser tests: the real server (waitress, in a thread, on a free loopback port, fresh SQLite database) driven by
Debian's Chromium through Playwright. Without Chromium or the playwright package they SKIP, loudly.

Screenshots go to $HILUM_E2E_SCREENSHOTS or tests/e2e/screenshots/ (ignored by git); the run prints where."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import build_app, dicom_bytes

CHROMIUM = os.environ.get("HILUM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SHOTS = Path(os.environ.get("HILUM_E2E_SCREENSHOTS", Path(__file__).parent / "screenshots"))
PASSWORD = "annotator passphrase"
REPORT = ("EXAM: CT chest without contrast.\n\nFINDINGS:\n"
          "LUNGS: 2.3 x 1.8 cm spiculated nodule in the right upper lobe. No pleural effusion. No pneumothorax.\n"
          "MEDIASTINUM: No lymphadenopathy.\n\n"
          "IMPRESSION:\n1. Spiculated right upper lobe nodule, suspicious for malignancy.\n")
_missing: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in _missing:
        terminalreporter.write_line(f"WARNING: browser tests were SKIPPED: {reason}", yellow=True, bold=True)
    if SHOTS.exists() and any(SHOTS.glob("*.png")):
        terminalreporter.write_line(f"browser screenshots: {SHOTS}")


def _skip(reason: str) -> None:
    _missing.append(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip("the playwright package is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        _skip(f"{CHROMIUM} is missing (apt-get install chromium; scripts/test does it when it can)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Server:
    """The live server and direct access to its app for seeding (API calls with a bearer token)."""

    def __init__(self, app: Any, url: str):
        self.app = app
        self.url = url
        self.client = app.test_client()

    def api(self, method: str, path: str, token: str, **kw: Any) -> Any:
        r = self.client.open(f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {token}"}, **kw)
        assert r.status_code < 400, (method, path, r.status_code, r.get_json())
        return r.get_json()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_template: str) -> Iterator[Server]:
    from waitress import create_server

    tmp = tmp_path_factory.mktemp("e2e")
    shutil.copy(sqlite_template, tmp / "hilum.sqlite3")
    app = build_app(tmp, f"sqlite:///{tmp / 'hilum.sqlite3'}")
    server = create_server(app, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield Server(app, f"http://127.0.0.1:{server.effective_port}")
    server.close()
    thread.join(timeout=5)
    app.extensions["hilum.runner"].shutdown()
    app.extensions["hilum.engine"].dispose()


def seed_study(live: Server, *, project_name: str, username: str, report: str = REPORT) -> dict[str, Any]:
    """A project with one annotator, a CT study (pydicom's CT_small.dcm) with a paired report, a proposed
    NER span with ranked concept candidates, and a task for the annotator. Returns the ids and a token."""
    import io

    from server import db, projects
    from server.auth import issue_token
    from server.models import User

    with live.app.app_context():
        s = db.session()
        admin = s.query(User).filter_by(username="root").one_or_none() or projects.create_user(
            s, "root", "root passphrase", admin=True, actor="test")
        user = projects.create_user(s, username, PASSWORD, actor="test")
        project = projects.create_project(s, project_name, actor="test")
        projects.add_member(s, project, username, projects.parse_role("annotator"), actor="test")
        _, token = issue_token(admin)
        _, user_token = issue_token(user)
        s.commit()
        project_id = project.id
    files = {"files": [(io.BytesIO(dicom_bytes("CT_small.dcm")), "ct.dcm")]}
    up = live.api("POST", f"/projects/{project_id}/uploads", token, data=files, content_type="multipart/form-data")
    study_id = up["files"][0]["study_id"]
    live.api("POST", f"/studies/{study_id}/documents", token, json={"text": report, "kind": "report"})
    detail = live.api("GET", f"/studies/{study_id}", token)
    doc_id = detail["documents"][0]["id"]
    start = report.index("spiculated nodule")
    span = live.api("POST", f"/studies/{study_id}/annotations", token, json={
        "kind": "span", "label": "FINDING", "document_id": doc_id, "start": start, "end": start + 17,
        "source": "hilum_ner@0.1.0", "attributes": {"assertion": "present"},
        "concepts": [{"ontology": "radlex", "id": "RID39058", "name": "spiculated nodule", "score": 0.82},
                     {"ontology": "mesh", "id": "D055613", "name": "Solitary Pulmonary Nodule", "score": 0.91}]})
    neg_start = report.index("pleural effusion")
    negated = live.api("POST", f"/studies/{study_id}/annotations", token, json={
        "kind": "span", "label": "FINDING", "document_id": doc_id, "start": neg_start, "end": neg_start + 16,
        "source": "hilum_ner@0.1.0", "attributes": {"assertion": "negated"},
        "concepts": [{"ontology": "mesh", "id": "D010996", "name": "Pleural Effusion", "score": 0.97}]})
    live.api("POST", f"/projects/{project_id}/tasks", token, json={"study_ids": [study_id], "username": username})
    return {"project_id": project_id, "study_id": study_id, "document_id": doc_id, "span_id": span["id"],
            "negated_id": negated["id"], "instance_id": detail["series"][0]["instances"][0]["id"],
            "token": token, "user_token": user_token, "username": username}


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def login(page: Any, live: Server, username: str) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live.url}/")


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def wav_bytes(seconds: float = 3.0, rate: int = 8000) -> bytes:
    """A quiet tone, long enough to seek in."""
    import io
    import math
    import struct
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(800 * math.sin(i / 9))) for i in range(int(seconds * rate))))
    return out.getvalue()


def add_dictation(live: Server, ids: dict[str, Any], text: str, words: list[dict[str, Any]]) -> int:
    """A recording and its transcript (with word timings, set directly: the API takes text only)."""
    import io

    from server import db
    from server.models import Document

    uid = live.api("GET", f"/studies/{ids['study_id']}", ids["token"])["study_instance_uid"]
    live.api("POST", f"/projects/{ids['project_id']}/uploads", ids["token"], content_type="multipart/form-data",
             data={"files": [(io.BytesIO(wav_bytes()), "dictation.wav")], "study_instance_uid": uid})
    doc = live.api("POST", f"/studies/{ids['study_id']}/documents", ids["token"],
                   json={"text": text, "kind": "transcript", "source": "faster-whisper@tiny.en"})
    with live.app.app_context():
        s = db.session()
        s.get(Document, doc["id"]).words = words
        s.commit()
    return doc["id"]


def add_study(live: Server, ids: dict[str, Any], filename: str, report: str) -> int:
    """Another study in the same project, with a report and a task for the same annotator."""
    import io

    up = live.api("POST", f"/projects/{ids['project_id']}/uploads", ids["token"], content_type="multipart/form-data",
                  data={"files": [(io.BytesIO(dicom_bytes(filename)), filename)]})
    study_id = up["files"][0]["study_id"]
    live.api("POST", f"/studies/{study_id}/documents", ids["token"], json={"text": report})
    live.api("POST", f"/projects/{ids['project_id']}/tasks", ids["token"],
             json={"study_ids": [study_id], "username": ids["username"]})
    return study_id
