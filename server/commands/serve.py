"""`hilum serve`: run the server (waitress), migrating first; `--demo` loads the demo project; `--workers N`
serves from N processes (see `server.serving`)."""

from __future__ import annotations

import os
import sys

import click

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="HILUM_SERVER_THREADS",
    help="Request threads per process: one runs Python at a time, so more than a few only stretch every request "
    "(downloads are sent without holding one); env HILUM_SERVER_THREADS.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="HILUM_SERVER_WORKERS",
    help="Server processes sharing the port (one Python process uses one core at a time); "
    "env HILUM_SERVER_WORKERS.",
)
@click.option("--demo", is_flag=True, help="Load the demo project (idempotent) before serving.")
def command(host: str, port: int, threads: int, workers: int, demo: bool) -> None:
    """Serve Hilum on HOST:PORT."""
    from flask import Flask

    from server import create_app, serving

    overrides: dict[str, object] = {}
    if host in LOOPBACK and "HILUM_SESSION_COOKIE_SECURE" not in os.environ:
        overrides["SESSION_COOKIE_SECURE"] = False  # plain HTTP on this machine only
    if workers > 1 and not hasattr(os, "fork"):
        raise click.UsageError("--workers above 1 needs os.fork (Linux, macOS)")
    app = create_app(overrides)
    if demo:
        from server.commands.demo import print_demo
        from server.demo import load_demo

        with app.app_context():
            print_demo(load_demo())
    click.echo(
        f"Hilum on http://{host}:{port}/  (instance: {app.instance_path}, "
        f"database: {app.config['DATABASE_URL'].split('://')[0]}, "
        f"jobs: {'celery' if app.config['BROKER_URL'] else 'in-process'}"
        + (f", {workers} worker processes" if workers > 1 else "")
        + ")"
    )
    if workers == 1:
        serving.serve(app, threads=threads, host=host, port=port)
        return
    sock = serving.listen(host, port)
    app.extensions["hilum.engine"].dispose()  # migrated (and demo loaded); no connection may cross a fork
    sys.stdout.flush()

    def make_app() -> Flask:
        return create_app({**overrides, "AUTO_MIGRATE": False})

    sys.exit(serving.serve_workers(make_app, sock, workers=workers, threads=threads))
