"""API tokens: create with username/password, list, revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g
from sqlalchemy import select

from server import audit, db, serialize
from server.api._common import get_or_404, json_body
from server.auth import authenticate, authenticated, issue_token, public
from server.errors import AuthenticationError, NotFound
from server.models import ApiToken
from server.openapi import body

bp = Blueprint("auth", __name__)


@bp.post("/auth/tokens")
@public
@body(
    {
        "type": "object",
        "required": ["username", "password"],
        "properties": {
            "username": {"type": "string"},
            "password": {"type": "string"},
            "name": {"type": "string"},
        },
    }
)
def create_token() -> Any:
    """Exchange a username and password for a bearer token (shown once; stored hashed)."""
    data = json_body("username", "password")
    s = db.session()
    try:
        user = authenticate(str(data["username"]), str(data["password"]))
    except AuthenticationError:
        audit.record(s, f"user:{str(data['username'])[:100]}", "login.failed", method="token")
        s.commit()
        raise
    token, plain = issue_token(user, name=str(data.get("name", ""))[:200])
    s.flush()
    audit.record(s, f"user:{user.username}", "login", method="token", target_type="token", target_id=token.id)
    s.commit()
    return {"token": plain, "id": token.id, "expires_at": token.expires_at.isoformat()}, 201


@bp.get("/auth/tokens")
@authenticated
def list_tokens() -> Any:
    """Your tokens (never the secrets)."""
    rows = db.session().execute(select(ApiToken).where(ApiToken.user_id == g.user.id)).scalars()
    return {
        "items": [
            {
                "id": t.id,
                "name": t.name,
                "created_at": t.created_at.isoformat(),
                "revoked": t.revoked_at is not None,
            }
            for t in rows
        ]
    }


@bp.delete("/auth/tokens/<int:token_id>")
@authenticated
def revoke_token(token_id: int) -> Any:
    """Revoke one of your tokens (site admins: anyone's)."""
    token = get_or_404(ApiToken, token_id, "token")
    if token.user_id != g.user.id and not g.user.is_admin:
        raise NotFound("no such token")
    s = db.session()
    token.revoked_at = datetime.now(UTC)
    audit.record(s, f"user:{g.user.username}", "token.revoke", target_type="token", target_id=token.id)
    s.commit()
    return {"id": token.id, "revoked": True}


@bp.get("/auth/me")
@authenticated
def me() -> Any:
    """The current user and their project roles."""
    out = serialize.user(g.user)
    out["memberships"] = [{"project_id": m.project_id, "role": m.role.value} for m in g.user.memberships]
    return out
