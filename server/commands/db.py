"""`hilum db upgrade|current`."""

from __future__ import annotations

import click


@click.group("db")
def command() -> None:
    """Database migrations."""


@command.command("upgrade")
def upgrade() -> None:
    """Apply all migrations (also done on every server start)."""
    from server import create_app, db

    app = create_app({"AUTO_MIGRATE": False})
    with app.app_context():
        db.upgrade(db.engine())
        click.echo(f"database at revision {db.current_revision(db.engine())}")


@command.command("current")
def current() -> None:
    """Print the database's migration revision."""
    from server import create_app, db

    app = create_app({"AUTO_MIGRATE": False})
    with app.app_context():
        click.echo(db.current_revision(db.engine()) or "empty")
