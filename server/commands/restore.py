"""`hilum import-jsonl FILE --project NAME`: read a native JSONL export back in."""

from __future__ import annotations

import click

from server.commands._app import with_app


@click.command("import-jsonl")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--project", "project_name", required=True)
@click.option("--create", is_flag=True, help="Create the project if it does not exist.")
@with_app
def command(path: str, project_name: str, create: bool) -> None:
    """Import studies, documents and annotations (with links and review status) from a Hilum JSONL export."""
    from server import db, projects
    from server.jsonl_import import JsonlImporter
    from server.storage import blobs

    s = db.session()
    project = projects.by_name(s, project_name, create=create, actor="cli")
    with open(path, encoding="utf-8") as f:
        counts = JsonlImporter(s, project, blobs(), "cli").run(f)
    s.commit()
    click.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to import")
