"""`hilum user create|password`."""

from __future__ import annotations

import click

from server.commands._app import with_app


@click.group("user")
def command() -> None:
    """Users."""


@command.command("create")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Site administrator (all projects, all permissions).")
@with_app
def create(username: str, password: str, admin: bool) -> None:
    """Create a user."""
    from server import db, projects

    s = db.session()
    user = projects.create_user(s, username, password, admin=admin, actor="cli")
    s.commit()
    click.echo(f"created user {user.username} (id {user.id}){' as site admin' if admin else ''}")


@command.command("password")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_app
def password(username: str, password: str) -> None:
    """Set a user's password."""
    from sqlalchemy import select

    from server import db, projects
    from server.models import User

    s = db.session()
    user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    projects.set_password(s, user, password, actor="cli")
    s.commit()
    click.echo(f"password changed for {username}")
