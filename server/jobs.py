"""Slow work runs as a job: a stored row with status and progress, executed in-process (default) or on Celery
workers (`HILUM_BROKER_URL=redis://...`). Every job ends in a final state; a job whose runner died (no heartbeat)
is put back in the queue and retried, up to JOB_MAX_ATTEMPTS."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import or_, select, update

from server import db
from server.models import Job, JobStatus

log = logging.getLogger("hilum.jobs")

HEARTBEAT_SECONDS = 5.0

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
    """What a running job sees: its id, its params, and a way to report progress."""

    def __init__(self, job_id: str):
        self.job_id = job_id

    def progress(self, fraction: float, message: str = "") -> None:
        """Store progress (0..1) and a short message (no PHI) in its own transaction."""
        with db.new_session() as s:
            s.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(progress=max(0.0, min(1.0, fraction)), message=message[:500], heartbeat_at=_now())
            )
            s.commit()


def _now() -> datetime:
    return datetime.now(UTC)


def _stale_cutoff() -> datetime:
    return _now() - timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])


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


def _claim(job_id: str) -> Job | None:
    """Move the job to RUNNING if it is queued, or running with a dead runner. None: someone else has it."""
    with db.new_session() as s:
        claimable = or_(
            Job.status == JobStatus.QUEUED,
            (Job.status == JobStatus.RUNNING) & (Job.heartbeat_at < _stale_cutoff()),
        )
        res = s.execute(
            update(Job)
            .where(Job.id == job_id, claimable)
            .values(
                status=JobStatus.RUNNING, attempts=Job.attempts + 1, started_at=_now(), heartbeat_at=_now()
            )
        )
        s.commit()
        if res.rowcount != 1:
            return None
        return s.get(Job, job_id)


def _finish(
    job_id: str, status: JobStatus, *, result: dict[str, Any] | None = None, message: str = ""
) -> None:
    with db.new_session() as s:
        values: dict[str, Any] = {"status": status, "finished_at": _now(), "message": message[:500]}
        if status is JobStatus.SUCCEEDED:
            values.update(progress=1.0, result=result or {})
        s.execute(update(Job).where(Job.id == job_id).values(**values))
        s.commit()


def execute(job_id: str) -> None:
    """Run one job to a final state. Called by either runner inside an app context."""
    job = _claim(job_id)
    if job is None:
        return
    fn = REGISTRY.get(job.kind)
    if fn is None:
        _finish(job_id, JobStatus.FAILED, message=f"unknown job kind {job.kind!r}")
        return
    stop = threading.Event()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    beat = threading.Thread(target=_heartbeat, args=(app, job_id, stop), daemon=True)
    beat.start()
    try:
        result = fn(JobContext(job_id), dict(job.params or {}))
    except Exception as exc:  # noqa: BLE001 - every failure must end in a stored final state
        log.warning("job %s (%s) failed: %s", job_id, job.kind, type(exc).__name__)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: the job failed"
        _finish(job_id, JobStatus.FAILED, message=str(message))
    else:
        _finish(job_id, JobStatus.SUCCEEDED, result=result)
    finally:
        stop.set()


def _heartbeat(app: Flask, job_id: str, stop: threading.Event) -> None:
    with app.app_context():
        while not stop.wait(HEARTBEAT_SECONDS):
            with db.new_session() as s:
                s.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
                    .values(heartbeat_at=_now())
                )
                s.commit()


def recover() -> list[str]:
    """Re-dispatch jobs whose runner died (running, no heartbeat) or that were never picked up; fail the ones
    that ran out of attempts. Returns the ids re-dispatched."""
    cutoff = _stale_cutoff()
    max_attempts = current_app.config["JOB_MAX_ATTEMPTS"]
    with db.new_session() as s:
        stale = s.execute(
            select(Job.id, Job.attempts).where(
                or_(
                    (Job.status == JobStatus.RUNNING) & (Job.heartbeat_at < cutoff),
                    (Job.status == JobStatus.QUEUED) & (Job.created_at < cutoff),
                )
            )
        ).all()
    again = []
    for job_id, attempts in stale:
        if attempts >= max_attempts:
            _finish(job_id, JobStatus.FAILED, message=f"interrupted {attempts} times; giving up")
        else:
            again.append(job_id)
            runner().dispatch(job_id)
    return again


class InProcessRunner:
    """A thread pool inside the server process, plus a sweeper that recovers interrupted jobs."""

    def __init__(self, app: Flask):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=app.config["JOB_WORKERS"], thread_name_prefix="hilum-job")
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()

    def dispatch(self, job_id: str) -> None:
        self.pool.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        with self.app.app_context():
            try:
                execute(job_id)
            except Exception:  # noqa: BLE001 - a pool thread must never die silently
                log.exception("job runner failed for %s", job_id)

    def start_sweeper(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                with self.app.app_context():
                    try:
                        recover()
                    except Exception:  # noqa: BLE001
                        log.exception("job recovery sweep failed")

        self._sweeper = threading.Thread(target=loop, name="hilum-job-sweeper", daemon=True)
        self._sweeper.start()

    def shutdown(self) -> None:
        self._stop.set()
        self.pool.shutdown(wait=True)


class CeleryRunner:
    """Sends job ids to Celery workers (`hilum worker`) over Redis."""

    def __init__(self, app: Flask):
        from server.celery_app import make_celery

        self.celery = make_celery(app)

    def dispatch(self, job_id: str) -> None:
        self.celery.send_task("hilum.run_job", args=[job_id])

    def shutdown(self) -> None:
        pass


def runner() -> InProcessRunner | CeleryRunner:
    return current_app.extensions["hilum.runner"]


def init_app(app: Flask) -> None:
    import server.job_kinds  # noqa: F401  (registers the built-in kinds)

    app.config.setdefault("JOB_STALE_SECONDS", 60)
    if app.config["BROKER_URL"]:
        app.extensions["hilum.runner"] = CeleryRunner(app)
    else:
        app.extensions["hilum.runner"] = InProcessRunner(app)


def start_background(app: Flask) -> None:
    """For long-running server processes: recover interrupted jobs now and keep sweeping."""
    with app.app_context():
        recover()
    r = app.extensions["hilum.runner"]
    if isinstance(r, InProcessRunner):
        r.start_sweeper(interval=max(5.0, app.config["JOB_STALE_SECONDS"] / 2))


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
