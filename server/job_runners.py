"""The two job runners: a thread pool inside the server process (the default) and Celery workers over Redis
(`HILUM_BROKER_URL`). Both run a sweeper that re-dispatches jobs whose runner died (`server.jobs.recover`)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from server.jobs import execute, recover

log = logging.getLogger("hilum.jobs")


class Runner:
    """What both runners share: a sweeper thread that calls `recover()` every `interval` seconds."""

    def __init__(self, app: Flask):
        self.app = app
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def dispatch(self, job_id: str) -> None:
        raise NotImplementedError

    def start_sweeper(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                with self.app.app_context():
                    try:
                        recover()
                    except Exception:  # noqa: BLE001 - the next sweep tries again
                        log.exception("job recovery sweep failed")

        self._sweeper = threading.Thread(target=loop, name="hilum-job-sweeper", daemon=True)
        self._sweeper.start()

    def shutdown(self) -> None:
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join()


class InProcessRunner(Runner):
    """A thread pool inside the server process. A job id already waiting in the pool is not queued twice."""

    def __init__(self, app: Flask):
        super().__init__(app)
        self.pool = ThreadPoolExecutor(max_workers=app.config["JOB_WORKERS"], thread_name_prefix="hilum-job")
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def dispatch(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._pending:
                return
            self._pending.add(job_id)
        self.pool.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        with self._lock:
            self._pending.discard(job_id)
        with self.app.app_context():
            try:
                execute(job_id)
            except Exception:  # noqa: BLE001 - a pool thread must never die silently
                log.exception("job runner failed for %s", job_id)

    def shutdown(self) -> None:
        super().shutdown()
        self.pool.shutdown(wait=True)


class CeleryRunner(Runner):
    """Sends job ids to Celery workers (`hilum worker`) over Redis."""

    def __init__(self, app: Flask):
        super().__init__(app)
        from server.celery_app import make_celery

        self.celery = make_celery(app)

    def dispatch(self, job_id: str) -> None:
        self.celery.send_task("hilum.run_job", args=[job_id])

    def shutdown(self) -> None:
        super().shutdown()
        self.celery.close()
