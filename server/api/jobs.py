"""Job status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from server import serialize
from server.api._common import get_or_404
from server.auth import authenticated, require
from server.errors import NotFound
from server.models import Job

bp = Blueprint("jobs", __name__)


@bp.get("/jobs/<job_id>")
@authenticated
def get_job(job_id: str) -> Any:
    """A job's status, progress and result. Visible to members of its project (`job.read`) or its creator."""
    job = get_or_404(Job, job_id, "job")
    if job.project_id is not None:
        require("job.read", job.project_id)
    elif job.created_by != g.user.id and not g.user.is_admin:
        raise NotFound("no such job")
    return serialize.job(job)
