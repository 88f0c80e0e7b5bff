"""Celery over Redis for jobs, when HILUM_BROKER_URL is set. Workers run jobs inside the Flask app context.

A worker killed mid-job never acks its message (`task_acks_late`); Redis hands it out again once it has been
unacked for JOB_VISIBILITY_SECONDS, and the new worker claims the job when its heartbeat is stale. The
server's sweeper (`jobs.start_background`) re-dispatches such a job within about JOB_STALE_SECONDS anyway, so
the visibility timeout only bounds how late Redis redelivers; a redelivered message for a job whose runner is
still alive is dropped by the claim, never run twice."""

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

    visibility = app.config["JOB_VISIBILITY_SECONDS"]
    celery = Celery("hilum", broker=app.config["BROKER_URL"], task_cls=FlaskTask)
    celery.conf.update(
        task_acks_late=True,  # a worker that dies mid-job does not ack: the message is delivered again
        task_reject_on_worker_lost=True,  # a pool child that dies: requeued at once by its parent
        worker_cancel_long_running_tasks_on_connection_loss=True,  # unacked after a lost link: redelivered
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility,
            # how often a worker looks for messages unacked for longer than the visibility timeout
            "unacked_restore_interval": max(1, min(10, int(visibility // 4))),
            "unacked_restore_throttle": 1,
        },
    )

    @celery.task(name="hilum.run_job")
    def run_job(job_id: str) -> None:
        from server.jobs import execute

        execute(job_id)

    app.extensions["hilum.celery"] = celery
    return celery
