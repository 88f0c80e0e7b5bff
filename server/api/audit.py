"""The audit log, read-only, for admins and privacy officers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from sqlalchemy import select

from server import audit, db
from server.api._common import int_arg, paginate
from server.auth import authenticated, require
from server.errors import PermissionDenied
from server.models import AuditEvent

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@authenticated
def list_events() -> Any:
    """Audit events, newest first. Site admins see all; project admins and privacy officers pass
    `project_id` (`audit.read` in that project). Filters: `action`, `actor`, `since_seq`."""
    q = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if "project_id" in request.args:
        project_id = int_arg("project_id", 0)
        require("audit.read", project_id)
        q = q.where(AuditEvent.project_id == project_id)
    elif not g.user.is_admin:
        raise PermissionDenied("pass project_id: only site admins read the whole log")
    if action := request.args.get("action"):
        q = q.where(AuditEvent.action == action)
    if who := request.args.get("actor"):
        q = q.where(AuditEvent.actor == who)
    if "since_seq" in request.args:
        q = q.where(AuditEvent.seq > int_arg("since_seq", 0))
    page = paginate(q, audit.as_dict)
    s = db.session()
    audit.record(
        s,
        f"user:{g.user.username}",
        "view.audit",
        target_type="audit",
        project_id=request.args.get("project_id", type=int),
        count=len(page["items"]),
    )
    s.commit()
    return page
