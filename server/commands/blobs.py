"""`hilum blobs verify`: every blob the database knows is stored, whole and unchanged."""

from __future__ import annotations

import click

from server.commands._app import with_app


@click.group("blobs")
def command() -> None:
    """The blob store (originals: DICOM, reports, audio, pictures)."""


@command.command("verify")
@with_app
def verify() -> None:
    """Read every blob the database names and check its SHA-256 and size; exit 1 when any is missing or damaged
    (the digests are printed, never file contents)."""
    from sqlalchemy import select

    from server import db
    from server.models import Blob
    from server.storage import blobs

    store, checked, problems = blobs(), 0, 0
    for sha256, size in db.session().execute(select(Blob.sha256, Blob.size).order_by(Blob.sha256)):
        checked += 1
        if (problem := store.check(sha256, size)) is not None:
            problems += 1
            click.echo(f"BAD {sha256}: {problem}", err=True)
    if problems:
        click.echo(f"{problems} of {checked} blobs missing or damaged", err=True)
        raise SystemExit(1)
    click.echo(f"blobs intact: {checked} checked")
