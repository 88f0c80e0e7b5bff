"""The JSON API under /api/v1: one blueprint per resource."""

from flask import Flask

from server.api import (
    annotations,
    audit,
    auth,
    exports,
    jobs,
    meta,
    phi,
    pipelines,
    projects,
    studies,
    tasks,
    uploads,
)

BLUEPRINTS = [
    meta.bp,
    auth.bp,
    projects.bp,
    uploads.bp,
    studies.bp,
    annotations.bp,
    tasks.bp,
    jobs.bp,
    exports.bp,
    audit.bp,
    phi.bp,
    pipelines.bp,
]


def register(app: Flask) -> None:
    """Mount every API blueprint under /api/v1."""
    for bp in BLUEPRINTS:
        app.register_blueprint(bp, url_prefix="/api/v1")
