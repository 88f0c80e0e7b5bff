"""Annotations: list and create per study; read, update (version-checked) and delete one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from sqlalchemy import select

from server import annotating, db, serialize
from server.api._common import annotation_project, get_or_404, int_arg, json_body, paginate, study_project
from server.auth import authorize, require
from server.errors import PermissionDenied, ValidationError
from server.models import Annotation, AnnotationCategory, Study
from server.openapi import body

bp = Blueprint("annotations", __name__)

ANNOTATION_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["span", "region", "link"]},
        "label": {"type": "string"},
        "document_id": {"type": "integer"},
        "start": {"type": "integer"},
        "end": {"type": "integer"},
        "instance_id": {"type": "integer"},
        "frame": {"type": "integer"},
        "geometry": {"type": "object"},
        "source_id": {"type": "integer"},
        "target_id": {"type": "integer"},
        "concepts": {"type": "array", "items": {"type": "object"}},
        "attributes": {"type": "object"},
        "status": {"type": "string", "enum": ["proposed", "accepted", "rejected", "edited"]},
        "source": {"type": "string"},
        "version": {"type": "integer"},
    },
}


def _not_phi(ann: Annotation) -> Annotation:
    if ann.category is AnnotationCategory.PHI:
        raise PermissionDenied("PHI findings are decided through /api/v1/phi/{id} by privacy officers")
    return ann


@bp.get("/studies/<int:study_id>/annotations")
@authorize("annotation.read", study_project)
def list_annotations(study_id: int) -> Any:
    """Annotations of a study; filter with `kind`, `status`, `document_id`, `instance_id`."""
    category = request.args.get("category", "annotation")
    if category not in ("annotation", "phi"):
        raise ValidationError("category must be annotation or phi", code="invalid_parameter")
    if category == "phi":
        require("phi.review", study_project(study_id))
    q = select(Annotation).where(Annotation.study_id == study_id, Annotation.category == category)
    q = q.order_by(Annotation.id)
    for name in ("kind", "status"):
        if value := request.args.get(name):
            q = q.where(getattr(Annotation, name) == value)
    for name in ("document_id", "instance_id"):
        if name in request.args:
            q = q.where(getattr(Annotation, name) == int_arg(name, 0))
    return paginate(q, serialize.annotation)


@bp.post("/studies/<int:study_id>/annotations")
@authorize("annotation.write", study_project)
@body(ANNOTATION_SCHEMA)
def create_annotation(study_id: int) -> Any:
    """Create a span (document_id, start, end), region (instance_id, frame, geometry) or link
    (source_id = span, target_id = region)."""
    s = db.session()
    ann = annotating.create(s, get_or_404(Study, study_id, "study"), json_body("kind", "label"), g.user)
    s.commit()
    return serialize.annotation(ann), 201


@bp.get("/annotations/<int:annotation_id>")
@authorize("annotation.read", annotation_project)
def get_annotation(annotation_id: int) -> Any:
    """One annotation."""
    return serialize.annotation(get_or_404(Annotation, annotation_id, "annotation"))


@bp.patch("/annotations/<int:annotation_id>")
@authorize("annotation.write", annotation_project)
@body(ANNOTATION_SCHEMA)
def update_annotation(annotation_id: int) -> Any:
    """Change an annotation; send the `version` you edited. 409 `version_conflict` (with `current`) if stale."""
    s = db.session()
    ann = _not_phi(get_or_404(Annotation, annotation_id, "annotation"))
    ann = annotating.update_annotation(s, ann, json_body("version"), g.user)
    s.commit()
    return serialize.annotation(ann)


@bp.delete("/annotations/<int:annotation_id>")
@authorize("annotation.write", annotation_project)
def delete_annotation(annotation_id: int) -> Any:
    """Delete an annotation (`?version=N` required); its links go with it."""
    if "version" not in request.args:
        raise ValidationError("query parameter version is required", code="missing_field", fields=["version"])
    s = db.session()
    ann = _not_phi(get_or_404(Annotation, annotation_id, "annotation"))
    annotating.delete_annotation(s, ann, int_arg("version", 0), g.user)
    s.commit()
    return {"deleted": annotation_id}
