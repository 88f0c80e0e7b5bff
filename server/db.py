"""Database engine and sessions, bound to the app by `init_app`; migrations by Alembic."""

from __future__ import annotations

import os
import threading
from typing import Any

try:
    import fcntl
except ImportError:  # not on POSIX: writers of one process still queue; other processes meet SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    """Declarative base of every Hilum table."""


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files run in WAL mode with foreign keys on."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        _serialize_sqlite_writers(engine, _sqlite_file(url))
    return engine


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriterLock:
    """One SQLite writer at a time, waking as soon as the writer before it is done. SQLite's own busy handler
    sleeps in steps of up to 100 ms, so under concurrent saves the unlucky writers wait far longer than the
    lock was held. Threads of this process queue on a `threading.Lock` (past `timeout` a thread goes on and
    SQLite's own busy timeout decides); the one thread at the head then takes an `flock` on a file beside the
    database, shared with the other processes that write it (`hilum serve --workers`, Celery workers, a CLI
    import beside the server). That wait is blocking: the kernel wakes it the moment the lock is free and the
    processes take turns (polling for it instead let one process's writers overtake the other's). If another
    process stops inside a write transaction (suspended with Ctrl-Z, say), that one thread waits until it goes
    on or exits; this process's other writers time out on the thread lock as above."""

    def __init__(self, database: str | None, timeout: float = 30.0):
        self.thread_lock = threading.Lock()
        self.path = f"{database}.writer-lock" if database else None
        self.timeout = timeout
        self._fd: int | None = None
        self._pid = 0

    def acquire(self) -> bool:
        if not self.thread_lock.acquire(timeout=self.timeout):
            return False
        if self.path is not None and fcntl is not None:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        return True

    def release(self) -> None:
        if self._fd is not None and self._pid == os.getpid() and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.thread_lock.release()

    def _file(self) -> int:
        """This process's descriptor of the lock file (a forked child opens its own: an flock belongs to the
        open file, which a child would share with its parent)."""
        if self._fd is None or self._pid != os.getpid():
            assert self.path is not None
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
    return os.path.abspath(path) if path and path != ":memory:" else None


def _serialize_sqlite_writers(engine: Engine, database: str | None) -> None:
    """A transaction takes the `WriterLock` at its first write and releases it at its end."""
    lock = WriterLock(database)

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not conn.info.get("hilum_writer") and statement.lstrip()[:7].upper().startswith(_WRITES):
            if lock.acquire():
                conn.info["hilum_writer"] = True

    def _release(conn: Any) -> None:
        if conn.info.pop("hilum_writer", False):
            lock.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:  # a connection returned mid-transaction
        if record.info.pop("hilum_writer", False):
            lock.release()


def init_app(app: Flask) -> None:
    """Create the engine and session factory for `app`; apply migrations when configured to."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(os.path.abspath(url[len("sqlite:///") :])), exist_ok=True)
    engine = make_engine(url)
    app.extensions["hilum.engine"] = engine
    app.extensions["hilum.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    if app.config["AUTO_MIGRATE"]:
        upgrade(engine)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["hilum.engine"]


def new_session() -> Session:
    """A session outside the request cycle (jobs, CLI); the caller closes it."""
    return current_app.extensions["hilum.sessionmaker"]()


def session() -> Session:
    """The session of the current app context, created on first use."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def _close_session(exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        if exc is not None:
            s.rollback()
        s.close()


def alembic_config(engine_: Engine) -> Any:
    """An Alembic config pointing at `server/migrations`, bound to `engine_`."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(os.path.dirname(__file__), "migrations"))
    cfg.attributes["engine"] = engine_
    return cfg


def upgrade(engine_: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(engine_), revision)


def current_revision(engine_: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine_.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
