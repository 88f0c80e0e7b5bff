"""The demo project: pydicom's bundled sample images (CT, MR, an ultrasound cine clip), each paired with a
short invented report, so a newcomer sees studies within a minute of installing."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from flask import current_app
from sqlalchemy import select

from server import db, projects
from server.ingest import Ingestor, summarize
from server.ingest.pairing import PairingKey
from server.ingest.sources import Item, Limits
from server.models import Membership, Role, User
from server.storage import blobs

DEMO_PROJECT = "demo"
DEMO_USER = "demo"


def _reader(path: str) -> Any:
    def read() -> bytes:
        with open(path, "rb") as f:
            return f.read()

    return read


def load_demo() -> dict[str, Any]:
    """Create (or top up) the demo project and the `demo` user. Idempotent; returns what it did, including a
    freshly generated password the first time (also saved to the instance folder, mode 0600)."""
    import pydicom
    from pydicom.data import get_testdata_file

    s = db.session()
    out: dict[str, Any] = {"project": DEMO_PROJECT, "username": DEMO_USER, "password": None}
    user = s.execute(select(User).where(User.username == DEMO_USER)).scalar_one_or_none()
    if user is None:
        password = os.environ.get("HILUM_DEMO_PASSWORD") or secrets.token_urlsafe(9)
        user = projects.create_user(s, DEMO_USER, password, admin=True, actor="demo")
        out["password"] = password
        path = os.path.join(current_app.instance_path, "demo-credentials.txt")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"username: {DEMO_USER}\npassword: {password}\n")
        out["credentials_file"] = path
    project = s.execute(select(projects.Project).where(projects.Project.name == DEMO_PROJECT)).scalar_one_or_none()
    if project is None:
        project = projects.create_project(
            s,
            DEMO_PROJECT,
            actor="demo",
            description="pydicom sample images with invented reports",
            guidelines="Mark every finding in the report and draw it on the image; link the two.",
        )
    if not s.execute(
        select(Membership.id).where(Membership.user_id == user.id, Membership.project_id == project.id)
    ).first():
        projects.add_member(s, project, DEMO_USER, Role.ADMIN, actor="demo")
    s.commit()

    with open(os.path.join(os.path.dirname(__file__), "demo", "reports.json")) as f:
        reports = json.load(f)
    limits = Limits.from_config(current_app.config)
    results = []
    for filename, text in reports.items():
        path = get_testdata_file(filename, download=False)
        if path is None:
            continue
        uid = str(pydicom.dcmread(path, stop_before_pixels=True).StudyInstanceUID)
        data = text.encode()
        items = [
            Item(filename, _reader(path), os.path.getsize(path)),
            Item(filename + ".report.txt", lambda data=data: data, len(data)),
        ]
        ingestor = Ingestor(s, project, blobs(), limits, actor="demo", explicit=PairingKey(study_uid=uid, by="demo"))
        results.extend(ingestor.run(items))
    out["ingest"] = {k: v for k, v in summarize(results).items() if k != "files"}
    return out
