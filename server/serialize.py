"""Model → JSON dicts for the API and the JSONL export. One function per model."""

from __future__ import annotations

from typing import Any

from server.models import (
    Annotation,
    Document,
    Instance,
    Job,
    Project,
    Recording,
    Series,
    Study,
    Task,
    User,
)


def _ts(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def project(p: Project) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "guidelines": p.guidelines,
        "label_schema": p.label_schema,
        "ontologies": p.ontologies,
        "created_at": _ts(p.created_at),
    }


def user(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "is_admin": u.is_admin, "active": u.active}


def study(s: Study) -> dict[str, Any]:
    return {
        "id": s.id,
        "project_id": s.project_id,
        "study_instance_uid": s.study_uid,
        "accession_number": s.accession_number,
        "modality": s.modality,
        "description": s.description,
        "patient_key": s.patient_key,
        "created_at": _ts(s.created_at),
    }


def instance(i: Instance) -> dict[str, Any]:
    return {
        "id": i.id,
        "series_id": i.series_id,
        "sop_instance_uid": i.sop_uid,
        "sop_class_uid": i.sop_class_uid,
        "number": i.number,
        "frame_count": i.frame_count,
        "rows": i.rows,
        "columns": i.columns,
        "pixel_spacing": i.pixel_spacing,
        "transfer_syntax_uid": i.transfer_syntax_uid,
        "window_center": i.window_center,
        "window_width": i.window_width,
        "media_type": i.media_type,
        "sha256": i.blob_sha256,
    }


def series(s: Series, with_instances: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "series_instance_uid": s.series_uid,
        "modality": s.modality,
        "description": s.description,
        "number": s.number,
    }
    if with_instances:
        out["instances"] = [instance(i) for i in sorted(s.instances, key=lambda i: (i.number or 0, i.id))]
    return out


def document(d: Document, with_text: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id,
        "study_id": d.study_id,
        "kind": d.kind.value,
        "source": d.source,
        "version": d.version,
        "length": len(d.text),
        "recording_id": d.recording_id,
        "created_at": _ts(d.created_at),
    }
    if with_text:
        out["text"] = d.text
        out["words"] = d.words
    return out


def recording(r: Recording) -> dict[str, Any]:
    return {
        "id": r.id,
        "study_id": r.study_id,
        "media_type": r.media_type,
        "duration": r.duration,
        "sample_rate": r.sample_rate,
        "channels": r.channels,
        "sha256": r.blob_sha256,
    }


def study_detail(s: Study) -> dict[str, Any]:
    out = study(s)
    out["series"] = [
        series(x, with_instances=True) for x in sorted(s.series, key=lambda x: (x.number or 0, x.id))
    ]
    out["documents"] = [document(d) for d in s.documents]
    out["recordings"] = [recording(r) for r in s.recordings]
    return out


def annotation(a: Annotation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "project_id": a.project_id,
        "study_id": a.study_id,
        "kind": a.kind.value,
        "category": a.category.value,
        "label": a.label,
        "status": a.status.value,
        "concepts": a.concepts,
        "attributes": a.attributes,
        "source": a.source,
        "author_id": a.author_id,
        "version": a.version,
        "created_at": _ts(a.created_at),
        "updated_at": _ts(a.updated_at),
    }
    if a.kind.value == "span":
        out.update(document_id=a.document_id, start=a.start, end=a.end, text=a.text)
    elif a.kind.value == "region":
        out.update(instance_id=a.instance_id, frame=a.frame, geometry=a.geometry)
    else:
        out.update(source_id=a.source_id, target_id=a.target_id)
    return out


def task(t: Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "project_id": t.project_id,
        "study_id": t.study_id,
        "assignee_id": t.assignee_id,
        "stage": t.stage.value,
        "status": t.status.value,
        "version": t.version,
        "created_at": _ts(t.created_at),
        "updated_at": _ts(t.updated_at),
    }


def job(j: Job) -> dict[str, Any]:
    return {
        "id": j.id,
        "kind": j.kind,
        "status": j.status.value,
        "progress": j.progress,
        "message": j.message,
        "result": j.result,
        "attempts": j.attempts,
        "project_id": j.project_id,
        "created_at": _ts(j.created_at),
        "started_at": _ts(j.started_at),
        "finished_at": _ts(j.finished_at),
    }
