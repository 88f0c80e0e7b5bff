"""Project exports: start one (a job), download the result."""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Blueprint, g, request, send_file

from server import audit, db, jobs, serialize
from server.api._common import get_or_404, project_of
from server.auth import actor, authorize
from server.errors import NotFound, PermissionDenied, ValidationError
from server.job_kinds import export_path, report_path
from server.models import Job, JobStatus
from server.openapi import body

bp = Blueprint("exports", __name__)


@bp.post("/projects/<int:project_id>/exports")
@authorize("export.create", project_of)
@body(
    {
        "type": "object",
        "properties": {
            "format": {"type": "string", "enum": ["jsonl"]},
            "deidentify": {"type": "boolean", "default": True},
        },
    }
)
def start_export(project_id: int) -> Any:
    """Start an export job (202). De-identified by default; `deidentify: false` is for site admins only."""
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object", code="invalid_json")
    fmt = data.get("format", "jsonl")
    if fmt != "jsonl":
        raise ValidationError("format must be jsonl", code="invalid_field", field="format")
    deidentify = data.get("deidentify", True)
    if not isinstance(deidentify, bool):
        raise ValidationError("deidentify must be true or false", code="invalid_field", field="deidentify")
    if not deidentify and not g.user.is_admin:
        raise PermissionDenied("only site admins may export without de-identification")
    job = jobs.submit(
        "export.jsonl",
        {"project_id": project_id, "deidentify": deidentify, "actor": actor()},
        project_id=project_id,
        user_id=g.user.id,
    )
    return {"job": serialize.job(job)}, 202


@bp.get("/projects/<int:project_id>/exports/<job_id>")
@authorize("export.create", project_of)
def download_export(project_id: int, job_id: str) -> Any:
    """Download a finished export."""
    job = get_or_404(Job, job_id, "export")
    if job.project_id != project_id or job.kind != "export.jsonl" or job.status is not JobStatus.SUCCEEDED:
        raise NotFound("no finished export with this id")
    path = export_path(job_id)
    if not os.path.exists(path):
        raise NotFound("the export file is gone")
    s = db.session()
    audit.record(s, actor(), "export.download", target_type="job", target_id=job_id, project_id=project_id)
    s.commit()
    return send_file(
        path,
        mimetype="application/x-ndjson",
        as_attachment=True,
        download_name=f"project-{project_id}-{job_id[:8]}.jsonl",
    )


@bp.get("/projects/<int:project_id>/exports/<job_id>/report")
@authorize("export.create", project_of)
def export_report(project_id: int, job_id: str) -> Any:
    """The de-identification report of a finished export."""
    job = get_or_404(Job, job_id, "export")
    path = report_path(job_id)
    if job.project_id != project_id or job.kind != "export.jsonl" or not os.path.exists(path):
        raise NotFound("no report for this export")
    with open(path, encoding="utf-8") as f:
        return json.load(f)
