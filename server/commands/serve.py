"""`hilum serve`: run the server (waitress), migrating first; `--demo` loads the demo project."""

from __future__ import annotations

import os

import click

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Load the demo project (idempotent) before serving.")
def command(host: str, port: int, threads: int, demo: bool) -> None:
    """Serve Hilum on HOST:PORT."""
    from waitress import serve

    from server import create_app, jobs

    overrides = {}
    if host in LOOPBACK and "HILUM_SESSION_COOKIE_SECURE" not in os.environ:
        overrides["SESSION_COOKIE_SECURE"] = False  # plain HTTP on this machine only
    app = create_app(overrides)
    if demo:
        from server.commands.demo import print_demo
        from server.demo import load_demo

        with app.app_context():
            print_demo(load_demo())
    jobs.start_background(app)
    click.echo(
        f"Hilum on http://{host}:{port}/  (instance: {app.instance_path}, "
        f"database: {app.config['DATABASE_URL'].split('://')[0]}, "
        f"jobs: {'celery' if app.config['BROKER_URL'] else 'in-process'})"
    )
    serve(app, host=host, port=port, threads=threads, max_request_body_size=app.config["MAX_UPLOAD_BYTES"])
