"""Projects, memberships and users: the service functions the API, the web UI and the CLI share."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server import audit
from server.auth import hash_password
from server.errors import Conflict, NotFound, ValidationError
from server.models import Membership, Project, Role, User

EDITABLE = ("description", "guidelines", "label_schema", "ontologies")


def create_user(s: Session, username: str, password: str, *, admin: bool = False, actor: str = "cli") -> User:
    """A new user; usernames are unique, passwords at least 8 characters."""
    if not username or len(username) > 150:
        raise ValidationError("username must be 1-150 characters", code="invalid_username")
    if len(password) < 8:
        raise ValidationError("password must be at least 8 characters", code="weak_password")
    if s.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"user {username!r} exists", code="user_exists")
    user = User(username=username, password_hash=hash_password(password), is_admin=admin)
    s.add(user)
    s.flush()
    audit.record(s, actor, "user.create", target_type="user", target_id=user.id, admin=admin)
    return user


def set_password(s: Session, user: User, password: str, *, actor: str = "cli") -> None:
    if len(password) < 8:
        raise ValidationError("password must be at least 8 characters", code="weak_password")
    user.password_hash = hash_password(password)
    audit.record(s, actor, "user.password", target_type="user", target_id=user.id)


def _validate_fields(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in EDITABLE:
        if key not in data:
            continue
        value = data[key]
        expected: type = {"description": str, "guidelines": str, "label_schema": dict, "ontologies": list}[key]
        if not isinstance(value, expected):
            raise ValidationError(f"{key} must be a {expected.__name__}", code="invalid_field", field=key)
        out[key] = value
    schema = out.get("label_schema")
    if schema is not None:
        for group in ("spans", "regions", "links"):
            labels = schema.get(group, [])
            if not isinstance(labels, list) or not all(isinstance(x, (str, dict)) for x in labels):
                raise ValidationError(
                    f"label_schema.{group} must be a list of labels",
                    code="invalid_field",
                    field="label_schema",
                )
    return out


DEFAULT_SCHEMA: dict[str, Any] = {
    "spans": ["FINDING", "ANATOMY", "CHEMICAL", "PROCEDURE", "DEVICE", "MEASUREMENT"],
    "regions": ["FINDING", "ANATOMY", "DEVICE"],
    "links": ["shows"],
}


def create_project(s: Session, name: str, *, actor: str, **fields: Any) -> Project:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("project name must be 1-200 characters", code="invalid_name")
    if s.execute(select(Project.id).where(Project.name == name)).first():
        raise Conflict(f"project {name!r} exists", code="project_exists")
    values = _validate_fields(fields)
    values.setdefault("label_schema", DEFAULT_SCHEMA)
    project = Project(name=name, secret=secrets.token_hex(32), **values)
    s.add(project)
    s.flush()
    audit.record(s, actor, "project.create", target_type="project", target_id=project.id, project_id=project.id)
    return project


def update_project(s: Session, project: Project, data: dict[str, Any], *, actor: str) -> Project:
    values = _validate_fields(data)
    for key, value in values.items():
        setattr(project, key, value)
    audit.record(
        s,
        actor,
        "project.update",
        target_type="project",
        target_id=project.id,
        project_id=project.id,
        fields=sorted(values),
    )
    return project


def by_name(s: Session, name: str, *, create: bool = False, actor: str = "cli") -> Project:
    """The project called `name`; with `create`, a new one when there is none (else NotFound)."""
    project = s.execute(select(Project).where(Project.name == name)).scalar_one_or_none()
    if project is None:
        if not create:
            raise NotFound(f"no project named {name!r}")
        project = create_project(s, name, actor=actor)
    return project


def parse_role(value: Any) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise ValidationError(
            f"unknown role {value!r}; roles: {', '.join(r.value for r in Role)}", code="invalid_role"
        ) from exc


def add_member(s: Session, project: Project, username: str, role: Role, *, actor: str) -> Membership:
    user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user named {username!r}")
    existing = s.execute(
        select(Membership).where(
            Membership.project_id == project.id, Membership.user_id == user.id, Membership.role == role
        )
    ).scalar_one_or_none()
    if existing:
        return existing
    m = Membership(project_id=project.id, user_id=user.id, role=role)
    s.add(m)
    s.flush()
    audit.record(s, actor, "member.add", target_type="user", target_id=user.id, project_id=project.id, role=role.value)
    return m


def remove_member(s: Session, project: Project, user_id: int, *, actor: str) -> int:
    n = s.execute(delete(Membership).where(Membership.project_id == project.id, Membership.user_id == user_id))
    audit.record(s, actor, "member.remove", target_type="user", target_id=user_id, project_id=project.id)
    return n.rowcount


def patient_key(project: Project, patient_id: str | None, issuer: str | None = None) -> str | None:
    """A stable pseudonym for a patient within a project (keyed HMAC; the ID itself is not stored)."""
    if not patient_id:
        return None
    msg = f"{issuer or ''}\x1f{patient_id}".encode()
    return hmac.new(project.secret.encode(), msg, hashlib.sha256).hexdigest()[:24]
