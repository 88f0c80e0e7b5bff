"""The app factory, health, the OpenAPI document and the authorization-rule guard."""

from __future__ import annotations

import pytest

from server.config import ConfigError


def test_health(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json["status"] == "ok"
    assert r.json["jobs"] == "in-process"


def test_openapi_covers_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)
    upload = spec["paths"]["/api/v1/studies/{study_id}/annotations"]["post"]
    assert "requestBody" in upload and "annotation.write" in upload["description"]


def test_every_route_has_an_authorization_rule(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            assert hasattr(app.view_functions[rule.endpoint], "hilum_rule"), rule.endpoint


def test_route_without_rule_stops_startup(tmp_path, sqlite_template):
    from flask import Blueprint

    from server import auth
    from tests.conftest import build_app

    app = build_app(tmp_path, f"sqlite:///{sqlite_template}")
    bp = Blueprint("rogue", __name__)
    bp.add_url_rule("/rogue", "rogue", lambda: "x")
    app.register_blueprint(bp)
    with pytest.raises(RuntimeError, match="rogue"):
        auth.check_rules(app)


@pytest.mark.parametrize("key, value", [
    ("DATABASE_URL", "mysql://x"), ("BROKER_URL", "amqp://x"), ("MAX_UPLOAD_BYTES", "lots"),
    ("SESSION_MINUTES", -1),
])
def test_bad_configuration_stops_startup(tmp_path, key, value):
    from tests.conftest import build_app

    with pytest.raises(ConfigError):
        build_app(tmp_path, "sqlite:///" + str(tmp_path / "x.sqlite3"), **{key: value})


def test_unknown_route_gets_error_shape(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and set(r.json) >= {"error", "message"}


def test_sqlite_runs_in_wal_mode(tmp_path, sqlite_template):
    import shutil

    from sqlalchemy import text

    from server import db
    from tests.conftest import build_app

    shutil.copy(sqlite_template, tmp_path / "w.sqlite3")
    app = build_app(tmp_path, f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with app.app_context():
        assert db.session().execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_migrations_match_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from server import db
    from server.models import Base

    with app.app_context(), db.engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
