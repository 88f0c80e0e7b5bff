"""Hilum's Flask server. `create_app` is the only entry point; nothing heavy happens at import."""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from flask import Flask

__version__ = "0.1.0"


def _instance_secret(instance_path: str) -> str:
    """The instance's SECRET_KEY, created once (mode 0600) so sessions survive restarts."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    with open(path) as f:
        return f.read().strip()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults → instance `hilum.cfg` → `HILUM_*` environment → `config` mapping."""
    from server import auth, db, errors, jobs, storage
    from server import config as cfg
    from server.api import register as register_api
    from server.web import bp as web_bp

    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("HILUM_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(cfg.DEFAULTS)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=True,
        SESSION_REFRESH_EACH_REQUEST=True,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  (responses keep their field order)
    app.config.from_pyfile("hilum.cfg", silent=True)
    app.config.from_prefixed_env("HILUM")
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    cfg.finalize(app.config, app.instance_path)
    logging.getLogger("hilum").setLevel(app.config.get("LOG_LEVEL", "INFO"))

    db.init_app(app)
    storage.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    jobs.init_app(app)
    register_api(app)
    app.register_blueprint(web_bp)
    auth.check_rules(app)
    return app
