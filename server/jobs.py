"""Slow work runs as a job: a stored row with status and progress, executed in-process (default) or on
Celery workers (`HILUM_BROKER_URL=redis://...`). Every job ends in a final state; a job whose runner died (no
heartbeat for JOB_STALE_SECONDS) is claimed again and retried, up to JOB_MAX_ATTEMPTS. The attempt number
fences a runner that was given up for dead: it can no longer write the job's progress or final state."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import ColumnElement, func, or_, select, update

from server import db
from server.config import ConfigError
from server.models import Job, JobStatus

if TYPE_CHECKING:
    from server.job_runners import Runner

log = logging.getLogger("hilum.jobs")

HILUM_PACKAGES = {"server", "annotators", "ontologies"}
HEARTBEAT_SECONDS = 5.0  # at most; a quarter of JOB_STALE_SECONDS when that is shorter

JobFunction = Callable[["JobContext", dict[str, Any]], dict[str, Any] | None]
REGISTRY: dict[str, JobFunction] = {}


class UnknownJobKind(KeyError):
    """A job names a kind nobody registered."""


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    """Register `fn(ctx, params) -> result dict` under `name`."""

    def decorator(fn: JobFunction) -> JobFunction:
        if name in REGISTRY and REGISTRY[name] is not fn:
            raise ValueError(f"job kind {name!r} registered twice")
        REGISTRY[name] = fn
        return fn

    return decorator


class JobContext:
    """What a running job sees: its id, its attempt, and a way to report progress."""

    def __init__(self, job_id: str, attempt: int | None = None):
        self.job_id = job_id
        self.attempt = attempt

    def progress(self, fraction: float, message: str = "") -> None:
        """Store progress (0..1) and a short message (no PHI) in its own transaction."""
        with db.new_session() as s:
            s.execute(
                update(Job)
                .where(_owned(self.job_id, self.attempt))
                .values(progress=max(0.0, min(1.0, fraction)), message=message[:500], heartbeat_at=_now())
            )
            s.commit()


def _now() -> datetime:
    return datetime.now(UTC)


def _stale_cutoff() -> datetime:
    return _now() - timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])


def _stale(cutoff: datetime) -> ColumnElement[bool]:
    """Running, but its runner has not been heard from since `cutoff`."""
    return (Job.status == JobStatus.RUNNING) & (Job.heartbeat_at < cutoff)


def _owned(job_id: str, attempt: int | None) -> ColumnElement[bool]:
    """The job is still running as this attempt (not re-claimed after its runner was given up for dead)."""
    cond = (Job.id == job_id) & (Job.status == JobStatus.RUNNING)
    return cond if attempt is None else cond & (Job.attempts == attempt)


def submit(
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    project_id: int | None = None,
    user_id: int | None = None,
) -> Job:
    """Store a queued job (in its own transaction) and hand it to the runner."""
    if kind not in REGISTRY:
        raise UnknownJobKind(f"unknown job kind {kind!r}; known: {sorted(REGISTRY)}")
    job = Job(
        id=str(uuid.uuid4()),
        kind=kind,
        params=params or {},
        project_id=project_id,
        created_by=user_id,
        status=JobStatus.QUEUED,
    )
    with db.new_session() as s:
        s.add(job)
        s.commit()
    runner().dispatch(job.id)
    return job


def _give_up(s: Any, job_id: str, attempts: int, cutoff: datetime) -> None:
    s.execute(
        update(Job)
        .where(Job.id == job_id, _stale(cutoff))
        .values(status=JobStatus.FAILED, finished_at=_now(), message=f"interrupted {attempts} times; giving up")
    )


def _claim(job_id: str) -> Job | None:
    """Move the job to RUNNING if it is queued, or running with a dead runner and attempts left.
    None: it is final, someone alive has it, or it just ran out of attempts."""
    cutoff = _stale_cutoff()
    with db.new_session() as s:
        dead = s.execute(select(Job.attempts).where(Job.id == job_id, _stale(cutoff))).scalar()
        if dead is not None and dead >= current_app.config["JOB_MAX_ATTEMPTS"]:
            _give_up(s, job_id, dead, cutoff)
            s.commit()
            return None
        res = s.execute(
            update(Job)
            .where(Job.id == job_id, or_(Job.status == JobStatus.QUEUED, _stale(cutoff)))
            .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, started_at=_now(), heartbeat_at=_now())
        )
        s.commit()
        if res.rowcount != 1:
            return None
        return s.get(Job, job_id)


def _finish(
    job_id: str, attempt: int, status: JobStatus, *, result: dict[str, Any] | None = None, message: str = ""
) -> None:
    with db.new_session() as s:
        values: dict[str, Any] = {"status": status, "finished_at": _now(), "message": message[:500]}
        if status is JobStatus.SUCCEEDED:
            values.update(progress=1.0, result=result or {})
        s.execute(update(Job).where(_owned(job_id, attempt)).values(**values))
        s.commit()


def execute(job_id: str) -> None:
    """Run one job to a final state. Called by either runner inside an app context."""
    job = _claim(job_id)
    if job is None:
        return
    fn = REGISTRY.get(job.kind)
    if fn is None:
        _finish(job_id, job.attempts, JobStatus.FAILED, message=f"unknown job kind {job.kind!r}")
        return
    stop = threading.Event()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    beat = threading.Thread(target=_heartbeat, args=(app, job_id, job.attempts, stop), daemon=True)
    beat.start()
    try:
        result = fn(JobContext(job_id, job.attempts), dict(job.params or {}))
    except Exception as exc:  # noqa: BLE001 - every failure must end in a stored final state
        log.warning("job %s (%s) failed: %s", job_id, job.kind, type(exc).__name__)
        _finish(job_id, job.attempts, JobStatus.FAILED, message=_public_message(exc))
    else:
        _finish(job_id, job.attempts, JobStatus.SUCCEEDED, result=result)
    finally:
        stop.set()
        beat.join()


def _public_message(exc: Exception) -> str:
    """What a client may read about a failure. Hilum's own domain exceptions (a `message` attribute, or a
    class defined in server/annotators/ontologies) carry text written for users, never PHI; a builtin or
    third-party error may quote the data it choked on, so only its type is shown."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    if type(exc).__module__.partition(".")[0] in HILUM_PACKAGES and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: the job failed"


def _heartbeat(app: Flask, job_id: str, attempt: int, stop: threading.Event) -> None:
    with app.app_context():
        interval = min(HEARTBEAT_SECONDS, app.config["JOB_STALE_SECONDS"] / 4)
        while not stop.wait(interval):
            try:
                with db.new_session() as s:
                    s.execute(update(Job).where(_owned(job_id, attempt)).values(heartbeat_at=_now()))
                    s.commit()
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried; the job goes on
                log.warning("job %s heartbeat failed: %s", job_id, type(exc).__name__)


def recover() -> list[str]:
    """Re-dispatch jobs whose runner died (running, no heartbeat) or that nobody picked up (queued, not
    dispatched within the stale window); fail the ones out of attempts. Returns the ids re-dispatched."""
    cutoff = _stale_cutoff()
    max_attempts = current_app.config["JOB_MAX_ATTEMPTS"]
    last_dispatch = func.coalesce(Job.heartbeat_at, Job.created_at)
    not_picked_up = (Job.status == JobStatus.QUEUED) & (last_dispatch < cutoff)
    again = []
    with db.new_session() as s:
        rows = s.execute(select(Job.id, Job.attempts, Job.status).where(or_(_stale(cutoff), not_picked_up)))
        for job_id, attempts, status in rows.all():
            if status is JobStatus.RUNNING and attempts >= max_attempts:
                _give_up(s, job_id, attempts, cutoff)
                continue
            if status is JobStatus.QUEUED:  # heartbeat_at of a queued job: when it was last dispatched
                s.execute(update(Job).where(Job.id == job_id, not_picked_up).values(heartbeat_at=_now()))
            again.append(job_id)
        s.commit()
    for job_id in again:
        runner().dispatch(job_id)
    return again


def runner() -> Runner:
    return current_app.extensions["hilum.runner"]


# Modules that register job kinds with @job_kind; each capability adds its own module here.
JOB_KIND_MODULES = ["server.job_kinds", "server.phi", "server.text_jobs", "server.transcription_jobs"]


def init_app(app: Flask) -> None:
    import importlib

    for name in JOB_KIND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a capability not installed yet
            if exc.name != name:
                raise

    for key, default in (("JOB_STALE_SECONDS", 60), ("JOB_VISIBILITY_SECONDS", 3600)):
        value = app.config.setdefault(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"HILUM_{key} must be a positive number of seconds, got {value!r}")
    from server.job_runners import CeleryRunner, InProcessRunner

    if app.config["BROKER_URL"]:
        app.extensions["hilum.runner"] = CeleryRunner(app)
    else:
        app.extensions["hilum.runner"] = InProcessRunner(app)


def start_background(app: Flask) -> None:
    """For long-running server processes (either runner): recover interrupted jobs now and keep sweeping, so
    a job whose runner or Celery worker died is re-dispatched within about JOB_STALE_SECONDS."""
    with app.app_context():
        recover()
    app.extensions["hilum.runner"].start_sweeper(interval=max(0.5, app.config["JOB_STALE_SECONDS"] / 2))


def wait(job_id: str, timeout: float = 30.0) -> Job:
    """Block until the job is final (tests, CLI). Raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        with db.new_session() as s:
            job = s.get(Job, job_id)
            if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} not finished after {timeout}s")
        time.sleep(0.05)
