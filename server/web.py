"""HTML pages: log in, projects, a project's task queue and studies, and the annotation workspace.

The workspace page is a shell: its ES modules (`static/js/`) load the study, documents and annotations through
the JSON API and save through it, so the page and the API enforce the same rules and audit the same reads.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from sqlalchemy import exists, func, or_, select

from annotators.dicom import PRESETS
from server import audit, db
from server import tasks as task_service
from server.api._common import get_or_404, study_project
from server.auth import authenticate, csrf_token, has_permission, login_session, public, require
from server.errors import AuthenticationError
from server.models import Document, Membership, Project, Recording, Study, Task, TaskStage, TaskStatus

bp = Blueprint("web", __name__)

STUDIES_PER_PAGE = 100
STAGES = [s.value for s in TaskStage]


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "current_user": getattr(g, "user", None)}


def _login_required() -> Any:
    if g.user is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


def _record_view(what: str, target_id: int, project_id: int, **details: Any) -> None:
    s = db.session()
    audit.record(
        s,
        f"user:{g.user.username}",
        f"view.{what}",
        target_type=what,
        target_id=target_id,
        project_id=project_id,
        **details,
    )
    s.commit()


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if request.method == "GET":
        return render_template("login.html", error=None)
    s = db.session()
    username = request.form.get("username", "")[:150]
    try:
        user = authenticate(username, request.form.get("password", ""))
    except AuthenticationError as exc:
        audit.record(s, f"user:{username}", "login.failed", method="password")
        s.commit()
        return render_template("login.html", error=exc.message), 401
    login_session(user)
    audit.record(s, f"user:{user.username}", "login", method="password")
    s.commit()
    target = request.args.get("next", "")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else url_for("web.index")
    )


@bp.post("/logout")
@public
def logout() -> Any:
    if g.user is not None:
        s = db.session()
        audit.record(s, f"user:{g.user.username}", "logout")
        s.commit()
    session.clear()
    return redirect(url_for("web.login"))


@bp.get("/")
@public
def index() -> Any:
    if (r := _login_required()) is not None:
        return r
    q = select(Project).order_by(Project.name)
    if not g.user.is_admin:
        q = q.where(Project.id.in_(select(Membership.project_id).where(Membership.user_id == g.user.id)))
    return render_template("projects.html", projects=db.session().execute(q).scalars().all())


def _my_queue(project_id: int) -> dict[str, dict[str, int]]:
    """Counts of the user's tasks per stage and status, plus the unclaimed pool per stage."""
    rows = db.session().execute(
        select(Task.stage, Task.status, Task.assignee_id, func.count())
        .where(
            Task.project_id == project_id,
            or_(Task.assignee_id == g.user.id, Task.assignee_id.is_(None)),
        )
        .group_by(Task.stage, Task.status, Task.assignee_id)
    )
    queue = {stage: {"open": 0, "in_progress": 0, "done": 0, "pool": 0} for stage in STAGES}
    for stage, status, assignee, n in rows:
        if assignee is None:
            if status is TaskStatus.OPEN:
                queue[stage.value]["pool"] += n
        else:
            queue[stage.value][status.value] += n
    return queue


def _study_query(project_id: int) -> Any:
    """The project's studies filtered by the page's `q`, `modality` and `has` parameters."""
    q = select(Study).where(Study.project_id == project_id)
    if term := request.args.get("q", "").strip()[:100]:
        q = q.where(
            or_(
                Study.accession_number.contains(term),
                Study.study_uid.contains(term),
                Study.description.contains(term),
            )
        )
    if modality := request.args.get("modality", "").strip():
        q = q.where(Study.modality == modality)
    has = request.args.get("has", "")
    if has == "report":
        q = q.where(exists().where(Document.study_id == Study.id))
    elif has == "audio":
        q = q.where(exists().where(Recording.study_id == Study.id))
    elif has == "no_report":
        q = q.where(~exists().where(Document.study_id == Study.id))
    return q


@bp.get("/projects/<int:project_id>")
@public
def project_page(project_id: int) -> Any:
    if (r := _login_required()) is not None:
        return r
    require("study.read", project_id)
    project = get_or_404(Project, project_id, "project")
    s = db.session()
    query = _study_query(project_id)
    total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    studies = (
        s.execute(query.order_by(Study.id).limit(STUDIES_PER_PAGE).offset((page - 1) * STUDIES_PER_PAGE))
        .scalars()
        .all()
    )
    modalities = s.execute(
        select(Study.modality).where(Study.project_id == project_id, Study.modality.is_not(None)).distinct()
    ).scalars()
    _record_view("study_list", project_id, project_id, count=len(studies))
    return render_template(
        "project.html",
        project=project,
        studies=studies,
        total=total,
        page=page,
        pages=max(1, (total + STUDIES_PER_PAGE - 1) // STUDIES_PER_PAGE),
        modalities=sorted(modalities),
        args=request.args,
        queue=_my_queue(project_id),
        can_work=has_permission(g.user, "task.work", project_id),
        message=request.args.get("message", ""),
    )


@bp.post("/projects/<int:project_id>/next")
@public
def next_task(project_id: int) -> Any:
    """Claim (or resume) the user's next task at a stage and open it in the workspace."""
    if (r := _login_required()) is not None:
        return r
    require("task.work", project_id)
    stage = request.form.get("stage", "annotate")
    s = db.session()
    task = task_service.next_task(s, project_id, g.user, stage)
    s.commit()
    if task is None:
        return redirect(url_for("web.project_page", project_id=project_id, message=f"No {stage} tasks left."))
    return redirect(url_for("web.study_page", study_id=task.study_id, task=task.id))


@bp.get("/studies/<int:study_id>")
@public
def study_page(study_id: int) -> Any:
    """The annotation workspace for one study (optionally as a task: `?task=ID`). Not audited as a view: the
    shell shows only ids; its reads of the study's content through the API are the audited views."""
    if (r := _login_required()) is not None:
        return r
    project_id = study_project(study_id)
    require("study.read", project_id)
    study = get_or_404(Study, study_id, "study")
    project = get_or_404(Project, project_id, "project")
    task = None
    if (task_arg := request.args.get("task", "")).isdigit():
        task = db.session().get(Task, int(task_arg))
        if task is None or task.study_id != study.id:
            task = None
    return render_template(
        "workspace.html",
        study=study,
        project=project,
        task=task,
        presets={name: list(values) for name, values in PRESETS.items()},
        can_write=has_permission(g.user, "annotation.write", project_id),
    )
