"""HTML pages: log in, projects, a project's studies, a study (report beside its images)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from server import audit, db
from server.api._common import get_or_404, study_project
from server.auth import authenticate, csrf_token, login_session, public, require
from server.errors import AuthenticationError
from server.models import Membership, Project, Study

bp = Blueprint("web", __name__)


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "current_user": getattr(g, "user", None)}


def _login_required() -> Any:
    if g.user is None:
        return redirect(url_for("web.login", next=request.path))
    return None


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


@bp.get("/projects/<int:project_id>")
@public
def project_page(project_id: int) -> Any:
    if (r := _login_required()) is not None:
        return r
    require("study.read", project_id)
    project = get_or_404(Project, project_id, "project")
    studies = (
        db.session()
        .execute(select(Study).where(Study.project_id == project_id).order_by(Study.id).limit(500))
        .scalars()
        .all()
    )
    s = db.session()
    audit.record(
        s,
        f"user:{g.user.username}",
        "view.study_list",
        target_type="study_list",
        target_id=project_id,
        project_id=project_id,
        count=len(studies),
    )
    s.commit()
    return render_template("project.html", project=project, studies=studies)


@bp.get("/studies/<int:study_id>")
@public
def study_page(study_id: int) -> Any:
    if (r := _login_required()) is not None:
        return r
    require("study.read", study_project(study_id))
    study = get_or_404(Study, study_id, "study")
    s = db.session()
    audit.record(
        s,
        f"user:{g.user.username}",
        "view.study",
        target_type="study",
        target_id=study.id,
        project_id=study.project_id,
    )
    s.commit()
    return render_template("study.html", study=study)
