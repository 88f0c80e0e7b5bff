"""`hilum audit verify`."""

from __future__ import annotations

import click

from server.commands._app import with_app


@click.group("audit")
def command() -> None:
    """The audit log."""


@command.command("verify")
@with_app
def verify() -> None:
    """Recompute the hash chain; exit 1 when any event was edited, deleted or inserted."""
    from server import audit, db

    result = audit.verify(db.session())
    if result.ok:
        click.echo(f"audit log intact: {result.events} events")
        return
    for problem in result.problems:
        click.echo(f"TAMPERED: {problem}", err=True)
    raise SystemExit(1)
