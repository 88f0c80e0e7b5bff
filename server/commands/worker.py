"""`hilum worker`: a Celery worker for jobs (needs HILUM_BROKER_URL=redis://...)."""

from __future__ import annotations

from typing import Any

import click


@click.command("worker")
@click.option("--concurrency", default=2, show_default=True)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--name", default="hilum@%h", show_default=True, help="Node name; unique per worker on a host.")
def command(concurrency: int, loglevel: str, name: str) -> None:
    """Run jobs from the Redis broker."""
    from celery.signals import worker_process_init

    from server import create_app

    app = create_app()
    if not app.config["BROKER_URL"]:
        raise click.ClickException("set HILUM_BROKER_URL=redis://host:6379/0 to use workers")
    engine = app.extensions["hilum.engine"]
    engine.dispose()  # the pool children fork from here: none may inherit a database connection

    def fresh_connections(**_: Any) -> None:
        engine.dispose(close=False)  # in a child: drop (never close) anything inherited from the parent

    worker_process_init.connect(fresh_connections, weak=False)
    celery = app.extensions["hilum.celery"]
    celery.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "-n",
            name,
        ]
    )
