"""The job kinds the server itself defines."""

from __future__ import annotations

import os
import time
from typing import Any

from flask import current_app

from server import audit, db
from server.export import write_jsonl
from server.jobs import JobContext, job_kind
from server.models import Project


@job_kind("hilum.selftest")
def selftest(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Sleep in steps, reporting progress; checks that a runner (in-process or a Celery worker) works."""
    steps = int(params.get("steps", 3))
    for i in range(steps):
        time.sleep(float(params.get("seconds", 0.05)))
        ctx.progress((i + 1) / steps, f"step {i + 1} of {steps}")
    if params.get("fail"):
        raise RuntimeError("selftest asked to fail")
    return {"steps": steps, "pid": os.getpid()}


def export_path(job_id: str) -> str:
    folder = os.path.join(current_app.instance_path, "exports")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{job_id}.jsonl")


@job_kind("export.jsonl")
def export_jsonl(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Write a project's native JSONL export under the instance folder."""
    with db.new_session() as s:
        project = s.get(Project, params["project_id"])
        if project is None:
            raise LookupError("the project no longer exists")
        counts = write_jsonl(
            s,
            project,
            export_path(ctx.job_id),
            deidentify=bool(params.get("deidentify", True)),
            progress=lambda n: ctx.progress(0.5, f"{n} records"),
        )
        audit.record(
            s,
            params.get("actor", "system"),
            "export",
            target_type="job",
            target_id=ctx.job_id,
            project_id=project.id,
            format="jsonl",
            deidentified=bool(params.get("deidentify", True)),
            **counts,
        )
        s.commit()
    return {
        "format": "jsonl",
        "counts": counts,
        "download": f"/api/v1/projects/{params['project_id']}/exports/{ctx.job_id}",
    }
