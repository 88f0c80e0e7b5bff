"""Shared fixtures: the app from the factory on a fresh database (SQLite always; PostgreSQL when reachable),
factory helpers, and a guard that turns "no tests ran" into a failure."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

PG_URL = os.environ.get("HILUM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HILUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
_skipped_services: set[str] = set()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # "no tests" must never pass silently


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for name in sorted(_skipped_services):
        terminalreporter.write_line(
            f"WARNING: {name} was not reachable; tests that need it were SKIPPED", yellow=True, bold=True)


def service_unavailable(name: str, reason: str) -> None:
    _skipped_services.add(name)
    pytest.skip(f"{name} not reachable ({reason}); set HILUM_TEST_{name.upper()}_URL", allow_module_level=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    from server.db import make_engine, upgrade

    path = str(tmp_path_factory.mktemp("template") / "hilum.sqlite3")
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    import sqlalchemy as sa

    from server.db import make_engine, upgrade

    try:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        service_unavailable("postgres", type(exc).__name__)
    name = f"hilum_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    import sqlalchemy as sa

    from server.audit import GENESIS
    from server.db import Base

    engine = sa.create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": GENESIS})
    engine.dispose()


def build_app(tmp_path: Any, database_url: str, **overrides: Any) -> Any:
    from server import create_app

    config = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url,
              "SECRET_KEY": "test-secret", "AUTO_MIGRATE": False, "SESSION_COOKIE_SECURE": False,
              "JOB_WORKERS": 2, "AUTO_TRANSCRIBE": False, **overrides}
    return create_app(config)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any, sqlite_template: str) -> str:
    if request.param == "sqlite":
        path = tmp_path / "hilum.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def app(tmp_path: Any, database_url: str) -> Iterator[Any]:
    app = build_app(tmp_path, database_url)
    yield app
    app.extensions["hilum.runner"].shutdown()
    app.extensions["hilum.engine"].dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class Factory:
    """Make users, projects, memberships and tokens directly through the services."""

    def __init__(self, app: Any):
        self.app = app

    def user(self, username: str | None = None, *, admin: bool = False, password: str = "correct horse") -> Any:
        from server import db, projects

        with self.app.app_context():
            s = db.session()
            user = projects.create_user(s, username or f"u{uuid.uuid4().hex[:8]}", password, admin=admin,
                                        actor="test")
            s.commit()
            return user

    def project(self, name: str | None = None, **fields: Any) -> Any:
        from server import db, projects

        with self.app.app_context():
            s = db.session()
            p = projects.create_project(s, name or f"p{uuid.uuid4().hex[:8]}", actor="test", **fields)
            s.commit()
            return p

    def member(self, project: Any, user: Any, role: str) -> None:
        from server import db, projects

        with self.app.app_context():
            s = db.session()
            p = s.get(projects.Project, project.id)
            projects.add_member(s, p, user.username, projects.parse_role(role), actor="test")
            s.commit()

    def token(self, user: Any) -> str:
        from server import db
        from server.auth import issue_token
        from server.models import User

        with self.app.app_context():
            s = db.session()
            _, plain = issue_token(s.get(User, user.id))
            s.commit()
            return plain

    def headers(self, user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}


@pytest.fixture
def make(app: Any) -> Factory:
    return Factory(app)


@pytest.fixture
def admin_headers(make: Factory) -> dict[str, str]:
    return make.headers(make.user("root", admin=True))


def dicom_bytes(name: str = "CT_small.dcm") -> bytes:
    """A file from pydicom's bundled test data (shipped in the wheel)."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    assert path, name
    with open(path, "rb") as f:
        return f.read()
