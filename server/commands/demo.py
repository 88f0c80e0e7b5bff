"""`hilum demo`: load the demo project."""

from __future__ import annotations

import click

from server.commands._app import with_app


def print_demo(result: dict) -> None:  # type: ignore[type-arg]
    click.echo(f"demo project {result['project']!r}: {result['ingest']}")
    if result.get("password"):
        click.echo(
            f"log in as {result['username']} / {result['password']}  (saved in {result['credentials_file']})"
        )
    else:
        click.echo(f"log in as {result['username']} (password in the instance folder's demo-credentials.txt)")


@click.command("demo")
@with_app
def command() -> None:
    """Create the demo project (sample CT/MR studies with reports) and a `demo` admin user."""
    from server.demo import load_demo

    print_demo(load_demo())
