"""Health and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import text

from server import __version__, db
from server.auth import public

bp = Blueprint("meta", __name__)


@bp.get("/health")
@public
def health() -> Any:
    """Liveness and database reachability."""
    db.session().execute(text("SELECT 1"))
    runner = "celery" if current_app.config["BROKER_URL"] else "in-process"
    return {"status": "ok", "version": __version__, "database": db.engine().dialect.name, "jobs": runner}


@bp.get("/openapi.json")
@public
def openapi() -> Any:
    """This API as an OpenAPI 3.1 document, generated from the registered routes."""
    from server.openapi import build_spec

    return build_spec(current_app)
