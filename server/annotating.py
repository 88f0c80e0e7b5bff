"""Annotation service: validate, create, update with optimistic concurrency (409 on a stale version), delete."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from server import audit
from server.errors import Conflict, NotFound, ValidationError
from server.models import (
    Annotation,
    AnnotationCategory,
    AnnotationKind,
    AnnotationStatus,
    Document,
    Instance,
    Project,
    Series,
    Study,
    User,
)
from server.models._types import utcnow

GEOMETRY_TYPES = {"box": (2, 2), "polygon": (3, 10_000), "point": (1, 1), "polyline": (2, 10_000)}
MACHINE_SOURCE = re.compile(r"^[a-z][a-z0-9_.-]*@[0-9A-Za-z.+-]+$")


def _fail(message: str, field: str) -> ValidationError:
    return ValidationError(message, code="invalid_field", field=field)


def _label(
    project: Project, kind: AnnotationKind, label: Any, category: AnnotationCategory = AnnotationCategory.ANNOTATION
) -> str:
    if not isinstance(label, str) or not label.strip() or len(label) > 100:
        raise _fail("label must be a non-empty string of at most 100 characters", "label")
    if category is AnnotationCategory.PHI:
        from annotators.deid.config import LABELS

        if label not in LABELS:
            raise ValidationError(
                f"PHI label must be one of {', '.join(sorted(LABELS))}", code="unknown_label", field="label"
            )
        return label
    group = {"span": "spans", "region": "regions", "link": "links"}[kind.value]
    allowed = [x if isinstance(x, str) else x.get("name") for x in (project.label_schema or {}).get(group, [])]
    if allowed and label not in allowed:
        raise ValidationError(
            f"label {label!r} is not in the project's {group} schema: {', '.join(allowed)}",
            code="unknown_label",
            field="label",
        )
    return label


def _concepts(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, dict) and c.get("id") for c in value):
        raise _fail("concepts must be a list of objects with at least an id (ontology, id, name, score)", "concepts")
    return [{k: c[k] for k in ("ontology", "id", "name", "score") if k in c} for c in value]


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(f"{key} must be an integer", key)
    return value


def _geometry(value: Any, inst: Instance) -> dict[str, Any]:
    if isinstance(value, dict) and value.get("type") == "mask":
        rle = value.get("rle")
        if not isinstance(rle, list) or not all(isinstance(n, int) and n >= 0 for n in rle):
            raise _fail("a mask needs `rle`: run lengths (non-negative integers) over rows × columns", "geometry")
        if inst.rows and inst.columns and sum(rle) != inst.rows * inst.columns:
            raise _fail("mask run lengths must add up to rows × columns", "geometry")
        return {"type": "mask", "rle": rle}
    if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
        raise _fail(f"geometry.type must be one of {', '.join([*GEOMETRY_TYPES, 'mask'])}", "geometry")
    points = value.get("points")
    low, high = GEOMETRY_TYPES[value["type"]]
    if (
        not isinstance(points, list)
        or not low <= len(points) <= high
        or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(v, (int, float)) for v in p) for p in points)
    ):
        raise _fail(f"a {value['type']} needs {low}..{high} points as [x, y] pixel pairs", "geometry")
    if inst.rows and inst.columns and not all(0 <= x <= inst.columns and 0 <= y <= inst.rows for x, y in points):
        raise _fail("points must lie inside the image (0..columns, 0..rows)", "geometry")
    return {"type": value["type"], "points": points}


def _study_instance(s: Session, study: Study, instance_id: int) -> Instance:
    inst = s.execute(
        select(Instance).join(Series).where(Instance.id == instance_id, Series.study_id == study.id)
    ).scalar_one_or_none()
    if inst is None:
        raise _fail("instance_id is not an instance of this study", "instance_id")
    return inst


def _span_fields(s: Session, study: Study, data: dict[str, Any], current: Annotation | None) -> dict[str, Any]:
    doc_id = data.get("document_id", current.document_id if current else None)
    doc = s.get(Document, doc_id) if isinstance(doc_id, int) else None
    if doc is None or doc.study_id != study.id:
        raise _fail("document_id is not a document of this study", "document_id")
    start = _int(data, "start") if "start" in data or current is None else current.start
    end = _int(data, "end") if "end" in data or current is None else current.end
    assert start is not None and end is not None
    if not 0 <= start < end <= len(doc.text):
        raise _fail(f"need 0 <= start < end <= {len(doc.text)}", "start")
    return {"document_id": doc.id, "start": start, "end": end, "text": doc.text[start:end]}


def _region_fields(s: Session, study: Study, data: dict[str, Any], current: Annotation | None) -> dict[str, Any]:
    inst_id = data.get("instance_id", current.instance_id if current else None)
    inst = _study_instance(s, study, inst_id if isinstance(inst_id, int) else -1)
    frame = data.get("frame", current.frame if current else 0)
    if not isinstance(frame, int) or not 0 <= frame < max(inst.frame_count, 1):
        raise _fail(f"frame must be 0..{max(inst.frame_count, 1) - 1}", "frame")
    geometry = _geometry(data.get("geometry", current.geometry if current else None), inst)
    return {"instance_id": inst.id, "frame": frame, "geometry": geometry}


def _link_fields(s: Session, study: Study, data: dict[str, Any]) -> dict[str, Any]:
    ends = {}
    for key, kind in (("source_id", AnnotationKind.SPAN), ("target_id", AnnotationKind.REGION)):
        ann = s.get(Annotation, data.get(key)) if isinstance(data.get(key), int) else None
        if ann is None or ann.study_id != study.id or ann.kind is not kind:
            raise _fail(f"{key} must be a {kind.value} annotation of this study", key)
        ends[key] = ann.id
    return ends


def _status(value: Any) -> AnnotationStatus:
    try:
        return AnnotationStatus(value)
    except ValueError as exc:
        raise _fail(f"status must be one of {', '.join(x.value for x in AnnotationStatus)}", "status") from exc


def create(
    s: Session,
    study: Study,
    data: dict[str, Any],
    user: User,
    category: AnnotationCategory = AnnotationCategory.ANNOTATION,
) -> Annotation:
    """Validate and store a new annotation (or, with `category=PHI`, a PHI finding) of `study`."""
    try:
        kind = AnnotationKind(data.get("kind"))
    except ValueError as exc:
        raise _fail("kind must be span, region or link", "kind") from exc
    project = s.get(Project, study.project_id)
    assert project is not None
    fields: dict[str, Any] = {
        "span": lambda: _span_fields(s, study, data, None),
        "region": lambda: _region_fields(s, study, data, None),
        "link": lambda: _link_fields(s, study, data),
    }[kind.value]()
    source = data.get("source") or f"user:{user.username}"
    if source != f"user:{user.username}" and not (isinstance(source, str) and MACHINE_SOURCE.match(source)):
        raise _fail("source must be your user or a component as name@version", "source")
    human = source.startswith("user:")
    default_status = AnnotationStatus.ACCEPTED if human else AnnotationStatus.PROPOSED
    ann = Annotation(
        project_id=study.project_id,
        study_id=study.id,
        kind=kind,
        category=category,
        label=_label(project, kind, data.get("label"), category),
        concepts=_concepts(data.get("concepts")),
        attributes=data.get("attributes") or {},
        source=source,
        author_id=user.id,
        status=_status(data["status"]) if "status" in data else default_status,
        **fields,
    )
    if not isinstance(ann.attributes, dict):
        raise _fail("attributes must be an object", "attributes")
    s.add(ann)
    s.flush()
    audit.record(
        s,
        f"user:{user.username}",
        "phi.add" if category is AnnotationCategory.PHI else "annotation.create",
        target_type="annotation",
        target_id=ann.id,
        project_id=ann.project_id,
        kind=kind.value,
    )
    return ann


def update_annotation(s: Session, ann: Annotation, data: dict[str, Any], user: User) -> Annotation:
    """Apply a change if `data["version"]` is the stored version; else Conflict carrying the current record."""
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationError("version is required (the version you edited)", code="missing_field", fields=["version"])
    changes: dict[str, Any] = {}
    if "label" in data:
        project = s.get(Project, ann.project_id)
        assert project is not None
        changes["label"] = _label(project, ann.kind, data["label"], ann.category)
    if "concepts" in data:
        changes["concepts"] = _concepts(data["concepts"])
    if "attributes" in data:
        if not isinstance(data["attributes"], dict):
            raise _fail("attributes must be an object", "attributes")
        changes["attributes"] = data["attributes"]
    if ann.kind is AnnotationKind.SPAN and {"start", "end", "document_id"} & data.keys():
        changes.update(_span_fields(s, _study(s, ann), data, ann))
    if ann.kind is AnnotationKind.REGION and {"geometry", "frame", "instance_id"} & data.keys():
        changes.update(_region_fields(s, _study(s, ann), data, ann))
    if "status" in data:
        changes["status"] = _status(data["status"])
    elif changes and ann.status is AnnotationStatus.PROPOSED:
        changes["status"] = AnnotationStatus.EDITED
    if not changes:
        raise ValidationError("nothing to change", code="no_changes")
    written = {**changes, "version": version + 1, "author_id": user.id, "updated_at": utcnow()}
    res = s.execute(
        update(Annotation)
        .where(Annotation.id == ann.id, Annotation.version == version)
        .values(**written)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        s.rollback()
        raise _conflict(s, ann.id)
    audit.record(
        s,
        f"user:{user.username}",
        "phi.decision" if ann.category is AnnotationCategory.PHI else "annotation.update",
        target_type="annotation",
        target_id=ann.id,
        project_id=ann.project_id,
        fields=sorted(changes),
        version=version + 1,
    )
    for key, value in written.items():  # the row as written, without reading it back
        set_committed_value(ann, key, value)
    return ann


def _study(s: Session, ann: Annotation) -> Study:
    study = s.get(Study, ann.study_id)
    assert study is not None
    return study


def delete_annotation(s: Session, ann: Annotation, version: int, user: User) -> None:
    res = s.execute(
        delete(Annotation)
        .where(Annotation.id == ann.id, Annotation.version == version)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        s.rollback()
        raise _conflict(s, ann.id)
    audit.record(
        s,
        f"user:{user.username}",
        "annotation.delete",
        target_type="annotation",
        target_id=ann.id,
        project_id=ann.project_id,
    )


def _conflict(s: Session, ann_id: int) -> Exception:
    from server import serialize

    current = s.get(Annotation, ann_id)
    if current is None:
        return NotFound("the annotation was deleted by someone else", code="deleted")
    s.refresh(current)
    return Conflict(
        "someone else changed this annotation; reload it and apply your change again",
        code="version_conflict",
        current=serialize.annotation(current),
    )
