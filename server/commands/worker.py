"""`hilum worker`: a Celery worker for jobs (needs HILUM_BROKER_URL=redis://...)."""

from __future__ import annotations

import click


@click.command("worker")
@click.option("--concurrency", default=2, show_default=True)
@click.option("--loglevel", default="INFO", show_default=True)
def command(concurrency: int, loglevel: str) -> None:
    """Run jobs from the Redis broker."""
    from server import create_app

    app = create_app()
    if not app.config["BROKER_URL"]:
        raise click.ClickException("set HILUM_BROKER_URL=redis://host:6379/0 to use workers")
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
            "hilum@%h",
        ]
    )
