"""The job kinds the server itself defines."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
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


def report_path(job_id: str) -> str:
    return export_path(job_id)[: -len(".jsonl")] + ".deid-report.json"


@job_kind("export.jsonl")
def export_jsonl(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Write a project's native JSONL export under the instance folder, with its de-identification report."""
    deidentify = bool(params.get("deidentify", True))
    with db.new_session() as s:
        project = s.get(Project, params["project_id"])
        if project is None:
            raise LookupError("the project no longer exists")
        counts, hooks = write_jsonl(
            s,
            project,
            export_path(ctx.job_id),
            deidentify=deidentify,
            progress=lambda n: ctx.progress(0.5, f"{n} records"),
        )
        report = deid_report(s, project, ctx.job_id, counts, hooks, deidentify)
        with open(report_path(ctx.job_id), "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
        audit.record(
            s,
            params.get("actor", "system"),
            "export",
            target_type="job",
            target_id=ctx.job_id,
            project_id=project.id,
            format="jsonl",
            deidentified=deidentify,
            **counts,
        )
        s.commit()
    base = f"/api/v1/projects/{params['project_id']}/exports/{ctx.job_id}"
    return {
        "format": "jsonl",
        "counts": counts,
        "download": base,
        "deid_report": base + "/report",
        "deidentified": deidentify,
    }


def deid_report(
    s: Any, project: Project, job_id: str, counts: dict[str, int], hooks: list[Any], deidentify: bool
) -> dict[str, Any]:
    """What was found, what was changed and by which rule or person, and the estimated recall."""
    from server import phi

    applied: dict[str, int] = {}
    live = 0
    for hook in hooks:
        for label, n in getattr(hook, "applied", {}).items():
            applied[label] = applied.get(label, 0) + n
        live += getattr(hook, "live_documents", 0)
    return {
        "export": job_id,
        "project_id": project.id,
        "generated_at": datetime.now(UTC).isoformat(),
        "deidentified": deidentify,
        "records": counts,
        "replacements_by_label": applied,
        "documents_analysed_at_export": live,
        "identifiers": "accession numbers and DICOM UIDs replaced by keyed pseudonyms; descriptions dropped"
        if deidentify
        else "kept (raw export)",
        "findings": phi.summary(s, project.id),
        "recall": phi.recall_estimate(s, project.id),
    }
