"""Projects and their members."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from sqlalchemy import select

from server import db, serialize
from server import projects as service
from server.api._common import get_or_404, json_body, paginate, project_of
from server.auth import actor, authenticated, authorize, site_admin
from server.models import Membership, Project, User
from server.openapi import body

bp = Blueprint("projects", __name__)

PROJECT_FIELDS = {
    "name": {"type": "string"},
    "description": {"type": "string"},
    "guidelines": {"type": "string"},
    "label_schema": {"type": "object"},
    "ontologies": {"type": "array", "items": {"type": "string"}},
}


@bp.get("/projects")
@authenticated
def list_projects() -> Any:
    """Projects you are a member of (all of them for site admins)."""
    q = select(Project).order_by(Project.id)
    if not g.user.is_admin:
        q = q.where(Project.id.in_(select(Membership.project_id).where(Membership.user_id == g.user.id)))
    return paginate(q, serialize.project)


@bp.post("/projects")
@site_admin
@body({"type": "object", "required": ["name"], "properties": PROJECT_FIELDS})
def create_project() -> Any:
    """Create a project."""
    data = json_body("name")
    s = db.session()
    fields = {k: v for k, v in data.items() if k in service.EDITABLE}
    project = service.create_project(s, str(data["name"]), actor=actor(), **fields)
    s.commit()
    return serialize.project(project), 201


@bp.get("/projects/<int:project_id>")
@authorize("project.read", project_of)
def get_project(project_id: int) -> Any:
    """One project."""
    return serialize.project(get_or_404(Project, project_id, "project"))


@bp.patch("/projects/<int:project_id>")
@authorize("project.manage", project_of)
@body({"type": "object", "properties": PROJECT_FIELDS})
def update_project(project_id: int) -> Any:
    """Change description, guidelines, label schema or enabled ontologies."""
    s = db.session()
    project = service.update_project(
        s, get_or_404(Project, project_id, "project"), json_body(), actor=actor()
    )
    s.commit()
    return serialize.project(project)


@bp.get("/projects/<int:project_id>/members")
@authorize("project.read", project_of)
def list_members(project_id: int) -> Any:
    """Members and their roles."""
    rows = (
        db.session()
        .execute(
            select(User.id, User.username, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project_id)
        )
        .all()
    )
    return {"items": [{"user_id": r.id, "username": r.username, "role": r.role.value} for r in rows]}


@bp.post("/projects/<int:project_id>/members")
@authorize("project.manage", project_of)
@body(
    {
        "type": "object",
        "required": ["username", "role"],
        "properties": {"username": {"type": "string"}, "role": {"type": "string"}},
    }
)
def add_member(project_id: int) -> Any:
    """Give a user a role in the project."""
    data = json_body("username", "role")
    s = db.session()
    project = get_or_404(Project, project_id, "project")
    m = service.add_member(s, project, str(data["username"]), service.parse_role(data["role"]), actor=actor())
    s.commit()
    return {"user_id": m.user_id, "role": m.role.value}, 201


@bp.delete("/projects/<int:project_id>/members/<int:user_id>")
@authorize("project.manage", project_of)
def remove_member(project_id: int, user_id: int) -> Any:
    """Remove all of a user's roles in the project."""
    s = db.session()
    n = service.remove_member(s, get_or_404(Project, project_id, "project"), user_id, actor=actor())
    s.commit()
    return {"removed": n}
