"""Transcription of an uploaded recording (job kind `transcribe.recording`).

The recording's blob is decoded in-process and transcribed; the transcript becomes a `Document` of kind
TRANSCRIPT on the recording's study, `source="<engine>@<model>"`, `recording_id` set and `words` holding every
word's timing (so the UI can play the audio behind a word and de-identification can silence PHI words), and
the vocabulary corrections in each corrected word's `original` (undoable). Engine, model and device come
from the app config (`HILUM_TRANSCRIPTION_ENGINE`, `_MODEL`, `_DEVICE`; defaults faster-whisper, tiny.en,
cpu); extra prompt terms from the project's label schema.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import audit, db, jobs
from server.jobs import JobContext, job_kind
from server.models import Document, DocumentKind, Job, Project, Recording, Study
from server.storage import blobs

KIND = "transcribe.recording"
DEFAULTS = {"TRANSCRIPTION_ENGINE": "faster-whisper", "TRANSCRIPTION_MODEL": "tiny.en", "TRANSCRIPTION_DEVICE": "cpu"}


def _setting(key: str) -> str:
    return str(current_app.config.get(key) or DEFAULTS[key])


def _label_terms(project: Project | None) -> list[str]:
    """Label names of the project's schema that read like words (prompted before the lexicon's terms)."""
    schema = project.label_schema if project is not None and isinstance(project.label_schema, dict) else {}
    names: list[str] = []
    for labels in schema.values():
        for label in labels if isinstance(labels, list) else []:
            name = label if isinstance(label, str) else label.get("name") if isinstance(label, dict) else None
            if isinstance(name, str) and len(name) > 3 and not name.isupper():
                names.append(name.replace("_", " "))
    return names


def _words_json(transcript: Any) -> list[dict[str, Any]]:
    """Word dicts for the document; a corrected word keeps `original` (the words it replaced, with timings)."""
    out = [w.to_dict() for w in transcript.words]
    shift = 0
    for c in transcript.corrections:
        position = c.index - shift
        out[position] = {**out[position], "original": c.to_dict()["original_words"], "rule": c.rule,
                         "score": round(c.score, 3)}
        shift += len(c.original) - 1
    return out


def _store(s: Session, rec: Recording, transcript: Any, actor: str) -> Document:
    source = transcript.source
    version = s.execute(
        select(func.count()).select_from(Document).where(
            Document.study_id == rec.study_id, Document.kind == DocumentKind.TRANSCRIPT, Document.source == source)
    ).scalar_one() + 1
    doc = Document(study_id=rec.study_id, kind=DocumentKind.TRANSCRIPT, source=source, version=version,
                   text=transcript.text, recording_id=rec.id, words=_words_json(transcript))
    s.add(doc)
    s.flush()
    study = s.get(Study, rec.study_id)
    audit.record(
        s, actor, "transcribe", target_type="recording", target_id=rec.id,
        project_id=study.project_id if study is not None else None, document_id=doc.id, source=source,
        words=len(transcript.words), corrections=len(transcript.corrections), refocused=len(transcript.refocused),
        duration=round(transcript.duration, 3), seconds=round(transcript.seconds, 3),
    )  # fmt: skip
    return doc


@job_kind(KIND)
def transcribe_recording(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Transcribe the recording `params["recording_id"]` into a transcript document of its study."""
    from annotators.transcription import get_engine, transcribe
    from annotators.transcription.vocabulary import from_ontology

    with db.new_session() as s:
        rec = s.get(Recording, params["recording_id"])
        if rec is None:
            raise LookupError("the recording no longer exists")
        study = s.get(Study, rec.study_id)
        project = s.get(Project, study.project_id) if study is not None else None
        path, duration = blobs().path(rec.blob_sha256), rec.duration
        terms = _label_terms(project)
    engine = get_engine(_setting("TRANSCRIPTION_ENGINE"), _setting("TRANSCRIPTION_MODEL"),
                        device=_setting("TRANSCRIPTION_DEVICE"))
    ctx.progress(0.02, "loading the model")

    def progress(done: float, total: float | None) -> None:
        ctx.progress(0.05 + 0.9 * min(1.0, done / (total or duration or done or 1.0)), f"{done:.0f} s transcribed")

    transcript = transcribe(path, engine, vocabulary=from_ontology(extra_terms=terms), progress=progress)
    with db.new_session() as s:
        rec = s.get(Recording, params["recording_id"])
        if rec is None:
            raise LookupError("the recording no longer exists")
        doc = _store(s, rec, transcript, params.get("actor", "system"))
        s.commit()
        return {"document_id": doc.id, "source": transcript.source, "words": len(transcript.words),
                "corrections": len(transcript.corrections), "duration": round(transcript.duration, 3),
                "seconds": round(transcript.seconds, 3)}


def start_for_recording(recording_id: int, user_id: int | None, actor: str | None = None) -> Job:
    """Queue the `transcribe.recording` job (in the app context); `LookupError` when the recording is gone."""
    with db.new_session() as s:
        rec = s.get(Recording, recording_id)
        if rec is None:
            raise LookupError(f"recording {recording_id} does not exist")
        study = s.get(Study, rec.study_id)
        project_id = study.project_id if study is not None else None
    params = {"recording_id": recording_id,
              "actor": actor or (f"user-id:{user_id}" if user_id is not None else "system")}
    return jobs.submit(KIND, params, project_id=project_id, user_id=user_id)
