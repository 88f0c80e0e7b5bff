"""`hilum import PATH --project NAME`."""

from __future__ import annotations

import json

import click

from server.commands._app import with_app


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--project", "project_name", required=True, help="Project name (created if --create).")
@click.option("--create", is_flag=True, help="Create the project if it does not exist.")
@click.option("--accession-number", default=None, help="Pair every report/audio file with this accession.")
@click.option("--study-uid", default=None, help="Pair every report/audio file with this StudyInstanceUID.")
@click.option("--json", "as_json", is_flag=True, help="Print the per-file results as JSON lines.")
@with_app
def command(
    paths: tuple[str, ...],
    project_name: str,
    create: bool,
    accession_number: str | None,
    study_uid: str | None,
    as_json: bool,
) -> None:
    """Import DICOM files/folders/zips/DICOMDIR trees, PNG/JPEG, reports and audio into a project."""
    from flask import current_app

    from server import db, projects
    from server.ingest import Ingestor, parallelism, summarize
    from server.ingest.pairing import PairingKey
    from server.ingest.sources import Limits, from_path
    from server.storage import blobs

    s = db.session()
    project = projects.by_name(s, project_name, create=create, actor="cli")
    s.commit()
    limits = Limits.from_config(current_app.config)
    items = [item for path in paths for item in from_path(path)]
    with click.progressbar(length=len(items), label="importing") as bar:
        ingestor = Ingestor(
            s,
            project,
            blobs(),
            limits,
            actor="cli",
            explicit=PairingKey(accession_number, study_uid, by="explicit"),
            on_result=lambda _result: bar.update(1),
            **parallelism(current_app.config),
        )
        results = ingestor.run(items)
    summary = summarize(results)
    if as_json:
        for row in summary["files"]:
            click.echo(json.dumps(row))
    else:
        for row in summary["files"]:
            if row["status"] == "error":
                click.echo(f"error    {row['file']}: {row.get('reason')}", err=True)
    click.echo(
        f"stored {summary['stored']}, duplicate {summary['duplicates']}, skipped {summary['skipped']}, "
        f"errors {summary['errors']}"
    )
    if summary["errors"] and not summary["stored"] and not summary["duplicates"]:
        raise SystemExit(1)
