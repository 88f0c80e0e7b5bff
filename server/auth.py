"""Who is asking, and may they? Passwords, sessions, API tokens, CSRF, and the role → permission table.

Every view carries an explicit rule (`@authorize(...)`, `@public`, `@authenticated`, `@site_admin`); a test walks
every route against every role, and a view without a rule refuses to register.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request, session
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from server import db
from server.errors import AuthenticationError, NotFound, PermissionDenied
from server.models import ApiToken, Membership, Role, User

ALL_ROLES = frozenset(Role)
EDITORS = frozenset({Role.ADMIN, Role.ANNOTATOR, Role.REVIEWER, Role.PHYSICIAN})

# The whole authorization policy, as data: permission → project roles that hold it. Site admins hold all.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "project.read": ALL_ROLES,
    "project.manage": frozenset({Role.ADMIN}),
    "study.read": ALL_ROLES,  # includes PHI-bearing content; every read is audited
    "study.upload": frozenset({Role.ADMIN}),
    "annotation.read": ALL_ROLES,
    "annotation.write": EDITORS,
    "task.read": ALL_ROLES,
    "task.assign": frozenset({Role.ADMIN, Role.REVIEWER}),
    "task.work": EDITORS,
    "job.read": ALL_ROLES,
    "export.create": frozenset({Role.ADMIN, Role.PRIVACY_OFFICER}),
    "audit.read": frozenset({Role.ADMIN, Role.PRIVACY_OFFICER}),
    "phi.review": frozenset({Role.ADMIN, Role.PRIVACY_OFFICER}),
}

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Rule:
    """The authorization rule attached to a view, for enforcement, the OpenAPI document and the route test."""

    kind: str  # "public" | "authenticated" | "site_admin" | "permission"
    permission: str | None = None


# ---------------------------------------------------------------- passwords and tokens


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(username: str, password: str) -> User:
    """The active user with these credentials, or AuthenticationError (same message either way)."""
    user = db.session().execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active or not check_password(user, password):
        raise AuthenticationError("wrong username or password")
    return user


def issue_token(user: User, name: str = "", days: int | None = None) -> tuple[ApiToken, str]:
    """Create a bearer token; only its hash is stored, the plain token is returned once."""
    plain = "hlm_" + secrets.token_urlsafe(32)
    days = days or current_app.config["TOKEN_DAYS"]
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_digest(plain),
        expires_at=datetime.now(UTC) + timedelta(days=days),
    )
    db.session().add(token)
    return token, plain


def _aware(ts: datetime | None) -> datetime | None:
    if ts is not None and ts.tzinfo is None:  # SQLite returns naive datetimes
        return ts.replace(tzinfo=UTC)
    return ts


def _user_from_bearer(header: str) -> User:
    plain = header[len("Bearer ") :].strip()
    token = db.session().execute(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == token_digest(plain))
    ).scalar_one_or_none()
    now = datetime.now(UTC)
    expires = _aware(token.expires_at) if token else None
    if token is None or token.revoked_at is not None or (expires and expires < now) or not token.user.active:
        raise AuthenticationError("invalid, expired or revoked token")
    g.token = token
    return token.user


def _user_from_session() -> User | None:
    user_id = session.get("user_id")
    if user_id is None:
        return None
    user = db.session().get(User, user_id)
    if user is None or not user.active:
        session.clear()
        return None
    return user


def login_session(user: User) -> None:
    """Start a browser session (the cookie is signed, HttpOnly, SameSite=Lax; Secure unless in debug/testing)."""
    session.clear()
    session.permanent = True  # expires after SESSION_MINUTES of inactivity (refreshed per request)
    session["user_id"] = user.id
    session["csrf"] = secrets.token_urlsafe(24)


def csrf_token() -> str:
    """The session's CSRF token (created on first use); templates and the UI's fetch calls send it back."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def _check_csrf() -> None:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise PermissionDenied("missing or wrong CSRF token", code="csrf_failed")


def load_user() -> None:
    """before_request: resolve `g.user` from a bearer token or the session cookie; enforce CSRF on cookies."""
    g.user = None
    g.token = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.user = _user_from_bearer(header)
        return  # bearer tokens are not ambient credentials: no CSRF needed
    g.user = _user_from_session()
    if request.method in UNSAFE_METHODS and (g.user is not None or request.endpoint == "web.login"):
        _check_csrf()


def actor() -> str:
    """The audit actor string of the current request."""
    return f"user:{g.user.username}" if getattr(g, "user", None) is not None else "anonymous"


# ---------------------------------------------------------------- roles and rules


def roles_in(user: User, project_id: int) -> set[Role]:
    rows = (
        db.session()
        .execute(
            select(Membership.role).where(Membership.user_id == user.id, Membership.project_id == project_id)
        )
        .scalars()
    )
    return set(rows)


def has_permission(user: User, permission: str, project_id: int) -> bool:
    if user.is_admin:
        return True
    return bool(roles_in(user, project_id) & PERMISSIONS[permission])


def require(permission: str, project_id: int) -> None:
    """Raise unless the current user holds `permission` in the project. Non-members get 404, not 403,
    so that project existence does not leak."""
    user = g.user
    if user is None:
        raise AuthenticationError("log in or send a bearer token")
    if user.is_admin:
        return
    roles = roles_in(user, project_id)
    if not roles:
        raise NotFound("no such project")
    if not roles & PERMISSIONS[permission]:
        raise PermissionDenied(f"your role in this project does not allow {permission}")


def _attach(view: Callable[..., Any], rule: Rule) -> Callable[..., Any]:
    view.hilum_rule = rule  # type: ignore[attr-defined]
    return view


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """No login needed."""
    return _attach(view, Rule("public"))


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    """Any logged-in user; the view scopes what it returns to the user's projects."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            raise AuthenticationError("log in or send a bearer token")
        return view(*args, **kwargs)

    return _attach(wrapper, Rule("authenticated"))


def site_admin(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only users created with --admin."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            raise AuthenticationError("log in or send a bearer token")
        if not g.user.is_admin:
            raise PermissionDenied("site administrators only")
        return view(*args, **kwargs)

    return _attach(wrapper, Rule("site_admin"))


def authorize(
    permission: str, project: Callable[..., int]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require `permission` in the project that `project(**view_kwargs)` resolves (it raises NotFound)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {sorted(PERMISSIONS)}")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                raise AuthenticationError("log in or send a bearer token")
            require(permission, project(**kwargs))
            return view(*args, **kwargs)

        return _attach(wrapper, Rule("permission", permission))

    return decorator


def init_app(app: Flask) -> None:
    app.before_request(load_user)

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def check_rules(app: Flask) -> None:
    """Refuse to start when a route has no explicit authorization rule."""
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], "hilum_rule")
    ]
    if missing:
        raise RuntimeError(f"routes without an authorization rule: {sorted(missing)}")
