"""Shared pieces of the API views: JSON bodies, pagination, and resolving the project a URL belongs to."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from sqlalchemy import Select, func, select

from server import db
from server.errors import NotFound, ValidationError
from server.models import Annotation, Document, Instance, Project, Recording, Series, Study, Task


def json_body(*required: str) -> dict[str, Any]:
    """The request's JSON object; 400 `invalid_json` when it is not one, `missing_field` naming what is absent."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(
            "the body must be a JSON object (Content-Type: application/json)", code="invalid_json"
        )
    missing = [k for k in required if data.get(k) in (None, "")]
    if missing:
        raise ValidationError(f"missing field(s): {', '.join(missing)}", code="missing_field", fields=missing)
    return data


def int_arg(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValidationError(f"query parameter {name} must be an integer", code="invalid_parameter") from exc
    if value < minimum or (maximum is not None and value > maximum):
        raise ValidationError(f"query parameter {name} is out of range", code="invalid_parameter")
    return value


def paginate(query: Select[Any], serialize: Any) -> dict[str, Any]:
    """`?page=1&per_page=50` → {items, page, per_page, total, pages}."""
    per_page = int_arg(
        "per_page", current_app.config["PAGE_SIZE"], minimum=1, maximum=current_app.config["MAX_PAGE_SIZE"]
    )
    page = int_arg("page", 1, minimum=1)
    s = db.session()
    total = s.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = s.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return {
        "items": [serialize(r) for r in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": (total + per_page - 1) // per_page,
    }


def get_or_404(model: Any, ident: Any, what: str) -> Any:
    obj = db.session().get(model, ident)
    if obj is None:
        raise NotFound(f"no such {what}")
    # The session's identity map holds objects weakly: without a reference the resolver's object is gone by
    # the time the view asks for it again, and the view's get() is a second SELECT of the same row.
    g.setdefault("loaded", []).append(obj)
    return obj


# Resolvers: view kwargs → project id (NotFound when the object does not exist).
def project_of(project_id: int, **_: Any) -> int:
    return get_or_404(Project, project_id, "project").id


def study_project(study_id: int, **_: Any) -> int:
    return get_or_404(Study, study_id, "study").project_id


def _scalar_or_404(query: Select[Any], what: str) -> int:
    value = db.session().execute(query).scalar_one_or_none()
    if value is None:
        raise NotFound(f"no such {what}")
    return int(value)


def instance_project(instance_id: int, **_: Any) -> int:
    q = (
        select(Study.project_id)
        .join(Series, Series.study_id == Study.id)
        .join(Instance, Instance.series_id == Series.id)
        .where(Instance.id == instance_id)
    )
    return _scalar_or_404(q, "instance")


def document_project(document_id: int, **_: Any) -> int:
    q = (
        select(Study.project_id)
        .join(Document, Document.study_id == Study.id)
        .where(Document.id == document_id)
    )
    return _scalar_or_404(q, "document")


def recording_project(recording_id: int, **_: Any) -> int:
    q = (
        select(Study.project_id)
        .join(Recording, Recording.study_id == Study.id)
        .where(Recording.id == recording_id)
    )
    return _scalar_or_404(q, "recording")


def annotation_project(annotation_id: int, **_: Any) -> int:
    # the row itself: the view's get_or_404 then finds it in the session without another query
    return get_or_404(Annotation, annotation_id, "annotation").project_id


def task_project(task_id: int, **_: Any) -> int:
    return get_or_404(Task, task_id, "task").project_id
