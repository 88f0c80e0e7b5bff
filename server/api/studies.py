"""Studies and what they hold: series/instances (with rendered frames), documents, recordings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, send_file
from sqlalchemy import or_, select

from server import audit, db, serialize
from server.api._common import (
    document_project,
    get_or_404,
    instance_project,
    json_body,
    paginate,
    project_of,
    recording_project,
    study_project,
)
from server.auth import actor, authorize
from server.errors import NotFound, ValidationError
from server.ingest import store
from server.models import Document, DocumentKind, Instance, Recording, Study
from server.openapi import body
from server.render import render_png
from server.storage import blobs

bp = Blueprint("studies", __name__)


def _viewed(what: str, target_id: int, project_id: int, *, prefetchable: bool = False, **details: Any) -> None:
    """Every read of PHI-bearing content is an audit event, committed with the response. On a `prefetchable`
    route, a read marked `?prefetch=1` (the workspace loading the next task before the user opens it) is
    recorded as `prefetch.<what>`, not `view.<what>`: the data left the server but nobody has looked at it;
    the workspace reads it again, unmarked, when it opens the study."""
    kind = "prefetch" if prefetchable and request.args.get("prefetch") == "1" else "view"
    s = db.session()
    audit.record(s, actor(), f"{kind}.{what}", target_type=what, target_id=target_id, project_id=project_id, **details)
    s.commit()


@bp.get("/projects/<int:project_id>/studies")
@authorize("study.read", project_of)
def list_studies(project_id: int) -> Any:
    """Studies of a project; `q` matches accession number or StudyInstanceUID, `modality` filters."""
    q = select(Study).where(Study.project_id == project_id).order_by(Study.id)
    if term := request.args.get("q"):
        q = q.where(or_(Study.accession_number.contains(term), Study.study_uid.contains(term)))
    if modality := request.args.get("modality"):
        q = q.where(Study.modality == modality)
    page = paginate(q, serialize.study)
    _viewed("study_list", project_id, project_id, count=len(page["items"]))
    return page


@bp.get("/studies/<int:study_id>")
@authorize("study.read", study_project)
def get_study(study_id: int) -> Any:
    """A study with its series, instances, documents (without text) and recordings (`prefetch=1`: a prefetch,
    audited as such, not a view)."""
    study = get_or_404(Study, study_id, "study")
    out = serialize.study_detail(study)
    _viewed("study", study.id, study.project_id, prefetchable=True)
    return out


WORD_SCHEMA = {
    "type": "object",
    "required": ["word", "start", "end"],
    "properties": {
        "word": {"type": "string"},
        "start": {"type": "number"},
        "end": {"type": "number"},
        "prob": {"type": "number"},
        "char_start": {"type": "integer"},
        "char_end": {"type": "integer"},
    },
}


def _words(value: Any) -> list[dict[str, Any]] | None:
    """Transcript word timings: [{"word", "start", "end", "prob"?, "char_start"?, "char_end"?}], in order."""
    if value is None:
        return None
    number = (int, float)
    if not isinstance(value, list) or not all(
        isinstance(w, dict)
        and isinstance(w.get("word"), str)
        and isinstance(w.get("start"), number)
        and isinstance(w.get("end"), number)
        and 0 <= w["start"] <= w["end"]
        for w in value
    ):
        raise ValidationError(
            "words must be a list of {word, start, end} with 0 <= start <= end (seconds)",
            code="invalid_field",
            field="words",
        )
    keep = ("word", "start", "end", "prob", "char_start", "char_end")
    return [{k: w[k] for k in keep if k in w} for w in value]


@bp.post("/studies/<int:study_id>/documents")
@authorize("study.upload", study_project)
@body(
    {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in DocumentKind]},
            "source": {"type": "string"},
            "recording_id": {"type": "integer"},
            "words": {"type": "array", "items": WORD_SCHEMA},
        },
    }
)
def add_document(study_id: int) -> Any:
    """Attach a report or transcript given as JSON text (transcripts may carry word timings and their
    recording)."""
    data = json_body("text")
    if not isinstance(data["text"], str):
        raise ValidationError("text must be a string", code="invalid_field")
    try:
        kind = DocumentKind(data.get("kind", "report"))
    except ValueError as exc:
        raise ValidationError("kind must be report, transcript or note", code="invalid_field") from exc
    words = _words(data.get("words"))
    s = db.session()
    study = get_or_404(Study, study_id, "study")
    recording_id = data.get("recording_id")
    if recording_id is not None:
        rec = s.get(Recording, recording_id) if isinstance(recording_id, int) else None
        if rec is None or rec.study_id != study.id:
            raise ValidationError(
                "recording_id is not a recording of this study", code="invalid_field", field="recording_id"
            )
    sha, size = blobs().put_bytes(data["text"].encode())
    store.ensure_blob(s, sha, size, "text/plain")
    doc, created = store.add_document(s, study, data["text"], sha, kind, source=str(data.get("source", "api"))[:200])
    if created:
        doc.words, doc.recording_id = words, recording_id
    audit.record(
        s,
        actor(),
        "document.create",
        target_type="document",
        target_id=doc.id,
        project_id=study.project_id,
        created=created,
    )
    s.commit()
    return serialize.document(doc), 201 if created else 200


@bp.get("/documents/<int:document_id>")
@authorize("study.read", document_project)
def get_document(document_id: int) -> Any:
    """A document with its text (and word timings for transcripts)."""
    doc = get_or_404(Document, document_id, "document")
    out = serialize.document(doc, with_text=True)
    _viewed("document", doc.id, doc.study.project_id)
    return out


@bp.get("/instances/<int:instance_id>")
@authorize("study.read", instance_project)
def get_instance(instance_id: int) -> Any:
    """Instance metadata (frames, size, pixel spacing)."""
    return serialize.instance(get_or_404(Instance, instance_id, "instance"))


@bp.get("/instances/<int:instance_id>/frames/<int:frame>.png")
@authorize("study.read", instance_project)
def render_frame(instance_id: int, frame: int) -> Any:
    """Render frame `frame` (0-based) as PNG; `center`&`width` or `preset` set the window, else the file's
    (`prefetch=1`: a prefetch, audited as such, not a view; shown later, it is reported by `frame_viewed`)."""
    inst = get_or_404(Instance, instance_id, "instance")
    png = render_png(blobs(), inst, frame, request.args.to_dict())
    _viewed("frame", inst.id, instance_project(instance_id), prefetchable=True, frame=frame)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@bp.post("/instances/<int:instance_id>/frames/<int:frame>/views")
@authorize("study.read", instance_project)
def frame_viewed(instance_id: int, frame: int) -> Any:
    """Record that the user was shown frame `frame`, read ahead earlier with `?prefetch=1`: a `view.frame`
    event, as an unmarked read would have logged. Returns no content (204)."""
    inst = get_or_404(Instance, instance_id, "instance")
    if not 0 <= frame < max(inst.frame_count, 1):
        raise NotFound(f"frame {frame} does not exist (the instance has {inst.frame_count})", code="no_such_frame")
    _viewed("frame", inst.id, instance_project(instance_id), frame=frame)
    return "", 204


@bp.get("/instances/<int:instance_id>/file")
@authorize("study.read", instance_project)
def download_instance(instance_id: int) -> Any:
    """The original file, byte for byte."""
    inst = get_or_404(Instance, instance_id, "instance")
    _viewed("instance_file", inst.id, instance_project(instance_id))
    return send_file(
        blobs().open(inst.blob_sha256),
        mimetype=inst.media_type,
        as_attachment=True,
        download_name=f"{inst.id}{'.dcm' if inst.media_type == 'application/dicom' else ''}",
    )


@bp.get("/recordings/<int:recording_id>/audio")
@authorize("study.read", recording_project)
def get_audio(recording_id: int) -> Any:
    """The recording's original audio (supports HTTP range requests for seeking)."""
    rec = get_or_404(Recording, recording_id, "recording")
    _viewed("recording", rec.id, rec.study.project_id)
    return send_file(blobs().path(rec.blob_sha256), mimetype=rec.media_type, conditional=True)
