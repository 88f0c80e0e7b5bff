"""The privacy review: PHI findings, decisions, missed PHI, review samples, the de-identification report."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request
from sqlalchemy import select

from server import annotating, audit, db, jobs, phi, serialize
from server.api._common import (
    annotation_project,
    document_project,
    get_or_404,
    int_arg,
    json_body,
    paginate,
    project_of,
    recording_project,
    study_project,
)
from server.auth import actor, authorize
from server.errors import NotFound, Unprocessable, ValidationError
from server.models import Annotation, AnnotationCategory, AnnotationKind, Document, Recording, Study
from server.openapi import body
from server.storage import blobs

bp = Blueprint("phi", __name__)


@bp.post("/studies/<int:study_id>/phi/detect")
@authorize("phi.review", study_project)
def detect_study(study_id: int) -> Any:
    """Detect PHI in the study's documents (a job, 202)."""
    study = get_or_404(Study, study_id, "study")
    job = jobs.submit(
        "deid.study", {"study_id": study.id, "actor": actor()}, project_id=study.project_id, user_id=g.user.id
    )
    return {"job": serialize.job(job)}, 202


@bp.post("/projects/<int:project_id>/phi/detect")
@authorize("phi.review", project_of)
def detect_project(project_id: int) -> Any:
    """Detect PHI in every document of the project (a job, 202)."""
    job = jobs.submit(
        "deid.project", {"project_id": project_id, "actor": actor()}, project_id=project_id, user_id=g.user.id
    )
    return {"job": serialize.job(job)}, 202


@bp.get("/projects/<int:project_id>/phi")
@authorize("phi.review", project_of)
def list_findings(project_id: int) -> Any:
    """PHI findings; filters `label`, `status`, `source=rule|person`, `min_score`, `max_score`, `document_id`,
    `kind=span|region` (regions: text burned into DICOM pixels), `instance_id`."""
    q = select(Annotation).where(Annotation.project_id == project_id, Annotation.category == AnnotationCategory.PHI)
    if label := request.args.get("label"):
        q = q.where(Annotation.label == label)
    if status := request.args.get("status"):
        q = q.where(Annotation.status == status)
    source = request.args.get("source")
    if source == "person":
        q = q.where(Annotation.source.startswith("user:"))
    elif source == "rule":
        q = q.where(~Annotation.source.startswith("user:"))
    elif source:
        raise ValidationError("source must be rule or person", code="invalid_parameter")
    score = Annotation.attributes["score"].as_float()
    for name, op in (("min_score", score.__ge__), ("max_score", score.__le__)):
        if name in request.args:
            try:
                q = q.where(op(float(request.args[name])))
            except ValueError as exc:
                raise ValidationError(f"{name} must be a number", code="invalid_parameter") from exc
    if "document_id" in request.args:
        q = q.where(Annotation.document_id == int_arg("document_id", 0))
    if "instance_id" in request.args:
        q = q.where(Annotation.instance_id == int_arg("instance_id", 0))
    if kind := request.args.get("kind"):
        if kind not in ("span", "region"):
            raise ValidationError("kind must be span or region", code="invalid_parameter")
        q = q.where(Annotation.kind == AnnotationKind(kind))
    return paginate(q.order_by(Annotation.id), serialize.annotation)


@bp.post("/studies/<int:study_id>/phi")
@authorize("phi.review", study_project)
@body(
    {
        "type": "object",
        "required": ["document_id", "start", "end", "label"],
        "properties": {
            "document_id": {"type": "integer"},
            "start": {"type": "integer"},
            "end": {"type": "integer"},
            "label": {"type": "string"},
        },
    }
)
def add_missed(study_id: int) -> Any:
    """Add PHI the engine missed (counts against its recall on reviewed documents)."""
    data = json_body("document_id", "label")
    s = db.session()
    data = {**data, "kind": "span", "status": "accepted"}
    data.pop("source", None)
    ann = annotating.create(s, get_or_404(Study, study_id, "study"), data, g.user, category=AnnotationCategory.PHI)
    s.commit()
    return serialize.annotation(ann), 201


@bp.patch("/phi/<int:annotation_id>")
@authorize("phi.review", annotation_project)
@body(
    {
        "type": "object",
        "required": ["version"],
        "properties": {
            "status": {"type": "string", "enum": ["accepted", "rejected", "edited", "proposed"]},
            "label": {"type": "string"},
            "start": {"type": "integer"},
            "end": {"type": "integer"},
            "version": {"type": "integer"},
        },
    }
)
def decide(annotation_id: int) -> Any:
    """Accept, reject or correct a finding (version-checked; every decision is audited)."""
    ann = get_or_404(Annotation, annotation_id, "finding")
    if ann.category is not AnnotationCategory.PHI:
        raise NotFound("no such finding")
    data = {k: v for k, v in json_body("version").items() if k in ("status", "label", "start", "end", "version")}
    s = db.session()
    ann = annotating.update_annotation(s, ann, data, g.user)
    s.commit()
    return serialize.annotation(ann)


@bp.post("/projects/<int:project_id>/phi/samples")
@authorize("phi.review", project_of)
@body({"type": "object", "properties": {"size": {"type": "integer"}, "seed": {"type": "integer"}}})
def draw_sample(project_id: int) -> Any:
    """A uniform random sample of analysed, unreviewed documents to review for the recall estimate."""
    data = request.get_json(silent=True) or {}
    size = data.get("size", 20) if isinstance(data, dict) else None
    if not isinstance(size, int) or not 1 <= size <= 1000:
        raise ValidationError("size must be an integer 1..1000", code="invalid_field", field="size")
    s = db.session()
    ids = phi.sample(s, project_id, size, data.get("seed"))

    audit.record(
        s, actor(), "phi.sample", target_type="project", target_id=project_id, project_id=project_id, documents=ids
    )
    s.commit()
    return {"document_ids": ids}


@bp.post("/documents/<int:document_id>/phi/reviewed")
@authorize("phi.review", document_project)
def mark_reviewed(document_id: int) -> Any:
    """Record that the whole document was read and every missed PHI added."""
    s = db.session()
    doc = get_or_404(Document, document_id, "document")
    phi.mark_reviewed(s, doc, document_project(document_id), actor())
    s.commit()
    return {"document_id": document_id, "reviewed": True}


@bp.get("/projects/<int:project_id>/phi/report")
@authorize("phi.review", project_of)
def report(project_id: int) -> Any:
    """Findings by label, decision and decider, with the recall estimate and its 95 % interval."""
    s = db.session()
    return {**phi.summary(s, project_id), "recall": phi.recall_estimate(s, project_id)}


def _silencing(recording_id: int) -> tuple[Any, Any, list[Any]]:
    """The recording, its newest transcript with word timings, and the PHI spans to silence."""
    from annotators import deid

    s = db.session()
    rec = get_or_404(Recording, recording_id, "recording")
    doc = s.execute(
        select(Document)
        .where(Document.recording_id == rec.id, Document.words.is_not(None))
        .order_by(Document.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if doc is None:
        raise Unprocessable(
            "the recording has no transcript with word timings yet; transcribe it first", code="no_transcript"
        )
    spans = phi.stored_findings(s, doc.id)
    return rec, doc, spans if spans is not None else deid.analyze(doc.text)


@bp.get("/recordings/<int:recording_id>/phi")
@authorize("phi.review", recording_project)
def audio_phi(recording_id: int) -> Any:
    """Which audio intervals de-identification silences, each mapped to its transcript span."""
    from annotators.deid.audio import phi_intervals

    rec, doc, spans = _silencing(recording_id)
    intervals = phi_intervals(doc.text, doc.words or [], spans)
    return {
        "recording_id": rec.id,
        "document_id": doc.id,
        "intervals": [
            {
                "start": round(i.start, 3),
                "end": round(i.end, 3),
                "label": i.label,
                "span_start": i.span_start,
                "span_end": i.span_end,
                "text": doc.text[i.span_start : i.span_end],
            }
            for i in intervals
        ],
    }


@bp.get("/recordings/<int:recording_id>/deidentified.wav")
@authorize("study.read", recording_project)
def audio_deidentified(recording_id: int) -> Any:
    """The dictation with every PHI word silenced (16 kHz mono WAV)."""
    from annotators.deid.audio import deidentify_recording

    rec, doc, spans = _silencing(recording_id)
    wav, intervals = deidentify_recording(blobs().path(rec.blob_sha256), doc.text, doc.words or [], spans)
    s = db.session()

    audit.record(
        s,
        actor(),
        "view.recording",
        target_type="recording",
        target_id=rec.id,
        project_id=rec.study.project_id,
        deidentified=True,
        silenced=len(intervals),
    )
    s.commit()
    return Response(wav, mimetype="audio/wav", headers={"X-Hilum-Silenced-Intervals": str(len(intervals))})
