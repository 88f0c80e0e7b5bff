"""`hilum project create|list|add-member`."""

from __future__ import annotations

import click

from server.commands._app import with_app


@click.group("project")
def command() -> None:
    """Projects and memberships."""


@command.command("create")
@click.argument("name")
@click.option("--description", default="")
@with_app
def create(name: str, description: str) -> None:
    """Create a project."""
    from server import db, projects

    s = db.session()
    p = projects.create_project(s, name, actor="cli", description=description)
    s.commit()
    click.echo(f"created project {p.name} (id {p.id})")


@command.command("list")
@with_app
def list_() -> None:
    """List projects."""
    from sqlalchemy import select

    from server import db
    from server.models import Project

    for p in db.session().execute(select(Project).order_by(Project.id)).scalars():
        click.echo(f"{p.id}\t{p.name}")


@command.command("add-member")
@click.argument("project")
@click.option("--username", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "annotator", "reviewer", "physician", "privacy_officer"]),
)
@with_app
def add_member(project: str, username: str, role: str) -> None:
    """Give USERNAME a role in PROJECT."""
    from server import db, projects

    s = db.session()
    projects.add_member(s, projects.by_name(s, project), username, projects.parse_role(role), actor="cli")
    s.commit()
    click.echo(f"{username} is {role} in {project}")
