"""Start the engines on stored data: the text pipeline over a study's documents, transcription of a recording."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from server import jobs, serialize
from server.api._common import get_or_404, recording_project, study_project
from server.auth import actor, authorize
from server.errors import HilumError
from server.models import Recording, Study

bp = Blueprint("pipelines", __name__)


def _submit(kind: str, params: dict[str, Any], project_id: int) -> Any:
    try:
        job = jobs.submit(kind, {**params, "actor": actor()}, project_id=project_id, user_id=g.user.id)
    except jobs.UnknownJobKind as exc:
        raise HilumError(f"this server has no {kind} engine installed", code="engine_unavailable",
                         status=503) from exc
    return {"job": serialize.job(job)}, 202


@bp.post("/studies/<int:study_id>/annotate")
@authorize("annotation.write", study_project)
def annotate_study(study_id: int) -> Any:
    """Run the clinical text pipeline over the study's documents (a job, 202); its spans are stored as
    `proposed` annotations, replacing only earlier unreviewed proposals."""
    study = get_or_404(Study, study_id, "study")
    return _submit("annotate.study", {"study_id": study.id}, study.project_id)


@bp.post("/recordings/<int:recording_id>/transcribe")
@authorize("study.upload", recording_project)
def transcribe_recording(recording_id: int) -> Any:
    """Transcribe a recording (a job, 202); the transcript becomes a document of the study with word timings."""
    rec = get_or_404(Recording, recording_id, "recording")
    return _submit("transcribe.recording", {"recording_id": rec.id}, rec.study.project_id)
