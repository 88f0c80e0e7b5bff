"""Tasks: assign studies to people at a stage, take the next one, move it along."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server import audit
from server.errors import Conflict, NotFound, PermissionDenied, ValidationError
from server.models import Membership, Study, Task, TaskStage, TaskStatus, User


def _enum(cls: Any, value: Any, field: str) -> Any:
    try:
        return cls(value)
    except ValueError as exc:
        raise ValidationError(
            f"{field} must be one of {', '.join(x.value for x in cls)}", code="invalid_field", field=field
        ) from exc


def assign(
    s: Session, project_id: int, study_ids: list[int], username: str | None, stage: Any, *, actor: str
) -> list[Task]:
    """Create tasks for studies (skipping ones that exist); `username` None leaves them in the shared pool."""
    stage = _enum(TaskStage, stage or "annotate", "stage")
    assignee = None
    if username:
        assignee = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        member = (
            assignee
            and s.execute(
                select(Membership.id).where(
                    Membership.user_id == assignee.id, Membership.project_id == project_id
                )
            ).first()
        )
        if assignee is None or not (member or assignee.is_admin):
            raise NotFound(f"{username!r} is not a member of this project")
    found = set(
        s.execute(select(Study.id).where(Study.project_id == project_id, Study.id.in_(study_ids))).scalars()
    )
    if missing := sorted(set(study_ids) - found):
        raise NotFound(f"studies not in this project: {missing[:20]}")
    created = []
    for study_id in study_ids:
        exists = s.execute(
            select(Task.id).where(
                Task.study_id == study_id,
                Task.stage == stage,
                Task.assignee_id == (assignee.id if assignee else None),
            )
        ).first()
        if not exists:
            task = Task(
                project_id=project_id,
                study_id=study_id,
                assignee_id=assignee.id if assignee else None,
                stage=stage,
            )
            s.add(task)
            created.append(task)
    s.flush()
    audit.record(
        s,
        actor,
        "task.assign",
        target_type="project",
        target_id=project_id,
        project_id=project_id,
        tasks=len(created),
        stage=stage.value,
        assignee_id=assignee.id if assignee else None,
    )
    return created


def next_task(s: Session, project_id: int, user: User, stage: Any) -> Task | None:
    """The user's oldest unfinished task at `stage`, else claim one from the unassigned pool."""
    stage = _enum(TaskStage, stage or "annotate", "stage")
    mine = s.execute(
        select(Task)
        .where(
            Task.project_id == project_id,
            Task.assignee_id == user.id,
            Task.stage == stage,
            Task.status != TaskStatus.DONE,
        )
        .order_by(Task.status.desc(), Task.id)
        .limit(1)
    ).scalar_one_or_none()
    if mine is not None:
        return mine
    for _ in range(5):  # claim from the pool; a concurrent claimer makes the UPDATE miss, try the next one
        pooled = s.execute(
            select(Task)
            .where(
                Task.project_id == project_id,
                Task.assignee_id.is_(None),
                Task.stage == stage,
                Task.status == TaskStatus.OPEN,
            )
            .order_by(Task.id)
            .limit(1)
        ).scalar_one_or_none()
        if pooled is None:
            return None
        res = s.execute(
            update(Task)
            .where(Task.id == pooled.id, Task.assignee_id.is_(None))
            .values(assignee_id=user.id, version=Task.version + 1)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount == 1:
            audit.record(
                s,
                f"user:{user.username}",
                "task.claim",
                target_type="task",
                target_id=pooled.id,
                project_id=project_id,
            )
            s.refresh(pooled)
            return pooled
    return None


def change(s: Session, task: Task, data: dict[str, Any], user: User, *, can_assign: bool) -> Task:
    """Update status (assignee or a reviewer/admin) or reassign (reviewer/admin), version-checked."""
    version = data.get("version")
    if not isinstance(version, int):
        raise ValidationError("version is required", code="missing_field", fields=["version"])
    if task.assignee_id != user.id and not can_assign:
        raise PermissionDenied("only the assignee, a reviewer or an admin may change this task")
    values: dict[str, Any] = {}
    if "status" in data:
        values["status"] = _enum(TaskStatus, data["status"], "status")
    if "assignee_id" in data:
        if not can_assign:
            raise PermissionDenied("only reviewers and admins reassign tasks")
        values["assignee_id"] = data["assignee_id"]
    if not values:
        raise ValidationError("nothing to change", code="no_changes")
    res = s.execute(
        update(Task)
        .where(Task.id == task.id, Task.version == version)
        .values(**values, version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        s.rollback()
        raise Conflict("the task changed since you loaded it", code="version_conflict")
    audit.record(
        s,
        f"user:{user.username}",
        "task.update",
        target_type="task",
        target_id=task.id,
        project_id=task.project_id,
        fields=sorted(values),
    )
    s.refresh(task)
    return task
