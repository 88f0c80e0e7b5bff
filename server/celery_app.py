"""Celery over Redis for jobs, when HILUM_BROKER_URL is set. Workers run jobs inside the Flask app context."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask


def make_celery(app: Flask) -> Celery:
    """A Celery app bound to the Flask app; the single task runs one stored job by id."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery("hilum", broker=app.config["BROKER_URL"], task_cls=FlaskTask)
    celery.conf.update(
        task_acks_late=True,  # a worker that dies mid-job does not ack: the message is delivered again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": app.config.get("JOB_VISIBILITY_SECONDS", 3600)},
    )

    @celery.task(name="hilum.run_job")
    def run_job(job_id: str) -> None:
        from server.jobs import execute

        execute(job_id)

    app.extensions["hilum.celery"] = celery
    return celery
