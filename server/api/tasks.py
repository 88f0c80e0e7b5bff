"""Tasks: a project's queue, assignment, "next task", status changes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from sqlalchemy import select

from server import db, serialize
from server import tasks as service
from server.api._common import get_or_404, json_body, paginate, project_of, task_project
from server.auth import actor, authorize, has_permission
from server.errors import ValidationError
from server.models import Task
from server.openapi import body

bp = Blueprint("tasks", __name__)


@bp.get("/projects/<int:project_id>/tasks")
@authorize("task.read", project_of)
def list_tasks(project_id: int) -> Any:
    """Tasks of a project; `assignee=me|<user id>|none`, `stage`, `status` filter."""
    q = select(Task).where(Task.project_id == project_id).order_by(Task.id)
    assignee = request.args.get("assignee")
    if assignee == "me":
        q = q.where(Task.assignee_id == g.user.id)
    elif assignee == "none":
        q = q.where(Task.assignee_id.is_(None))
    elif assignee:
        if not assignee.isdigit():
            raise ValidationError("assignee must be me, none or a user id", code="invalid_parameter")
        q = q.where(Task.assignee_id == int(assignee))
    for name in ("stage", "status"):
        if value := request.args.get(name):
            q = q.where(getattr(Task, name) == value)
    return paginate(q, serialize.task)


@bp.post("/projects/<int:project_id>/tasks")
@authorize("task.assign", project_of)
@body(
    {
        "type": "object",
        "required": ["study_ids"],
        "properties": {
            "study_ids": {"type": "array", "items": {"type": "integer"}},
            "username": {"type": "string"},
            "stage": {"type": "string", "enum": ["annotate", "review", "signoff"]},
        },
    }
)
def assign_tasks(project_id: int) -> Any:
    """Assign studies to a user (or to the shared pool without `username`) at a stage."""
    data = json_body("study_ids")
    ids = data["study_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids) or len(ids) > 10_000:
        raise ValidationError("study_ids must be a list of at most 10000 integers", code="invalid_field")
    s = db.session()
    created = service.assign(s, project_id, ids, data.get("username"), data.get("stage"), actor=actor())
    s.commit()
    return {"created": [serialize.task(t) for t in created]}, 201


@bp.post("/projects/<int:project_id>/tasks/next")
@authorize("task.work", project_of)
def next_task(project_id: int) -> Any:
    """Your next task at `?stage=` (default annotate), claiming one from the pool when you have none."""
    s = db.session()
    task = service.next_task(s, project_id, g.user, request.args.get("stage"))
    s.commit()
    return {"task": serialize.task(task) if task else None}


@bp.patch("/tasks/<int:task_id>")
@authorize("task.work", task_project)
@body(
    {
        "type": "object",
        "required": ["version"],
        "properties": {
            "status": {"type": "string", "enum": ["open", "in_progress", "done"]},
            "assignee_id": {"type": "integer"},
            "version": {"type": "integer"},
        },
    }
)
def update_task(task_id: int) -> Any:
    """Change status (assignee) or reassign (reviewers, admins); version-checked."""
    s = db.session()
    task = get_or_404(Task, task_id, "task")
    can_assign = has_permission(g.user, "task.assign", task.project_id)
    task = service.change(s, task, json_body("version"), g.user, can_assign=can_assign)
    s.commit()
    return serialize.task(task)
