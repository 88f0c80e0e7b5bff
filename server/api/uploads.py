"""Uploads: multipart files (any number, zips included) or one raw body with `?filename=`."""

from __future__ import annotations

import tempfile
from typing import Any

from flask import Blueprint, current_app, g, request

from server import db
from server.api._common import get_or_404, project_of
from server.auth import actor, authorize
from server.errors import PayloadTooLarge, ValidationError
from server.ingest import FileResult, Ingestor, parallelism, summarize
from server.ingest.pairing import PairingKey
from server.ingest.sources import Item, Limits, check_filename
from server.models import Project
from server.storage import blobs

bp = Blueprint("uploads", __name__)


def limits() -> Limits:
    return Limits.from_config(current_app.config)


def _file_item(name: str, stream: Any) -> Item:
    stream.seek(0, 2)
    size = stream.tell()

    def read() -> bytes:
        stream.seek(0)
        return stream.read()

    return Item(name, read, size)


def _raw_item(spool: Any) -> Item:
    name = check_filename(request.args.get("filename", ""))
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    copied = 0
    while chunk := request.stream.read(1024 * 1024):
        copied += len(chunk)
        if copied > limit:
            raise PayloadTooLarge(f"request body exceeds the upload limit of {limit} bytes")
        spool.write(chunk)
    return _file_item(name, spool)


@bp.post("/projects/<int:project_id>/uploads")
@authorize("study.upload", project_of)
def upload(project_id: int) -> Any:
    """Upload DICOM (files, zips, DICOMDIR trees), PNG/JPEG, reports and audio. Optional form fields
    `accession_number` / `study_instance_uid` pair reports and audio; a `manifest.csv|json` or a
    `<file>.json` sidecar in the batch does the same per file. Answers per file."""
    project = get_or_404(Project, project_id, "project")
    if request.mimetype == "multipart/form-data":
        files = [f for key in request.files for f in request.files.getlist(key)]
        if not files:
            raise ValidationError("no files in the upload", code="no_files")
        items = [_file_item(f.filename or "", f.stream) for f in files]
        return _ingest(project, items)
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        return _ingest(project, [_raw_item(spool)])


def _ingest(project: Project, items: list[Item]) -> Any:
    explicit = PairingKey(
        request.values.get("accession_number") or None,
        request.values.get("study_instance_uid") or None,
        request.values.get("kind") or None,
    )
    ingestor = Ingestor(
        db.session(),
        project,
        blobs(),
        limits(),
        actor=actor(),
        explicit=explicit,
        **parallelism(current_app.config),
    )
    results = ingestor.run(items)
    if current_app.config["AUTO_TRANSCRIBE"]:
        _transcribe_new_recordings(results)
    body = summarize(results)
    if body["stored"] == 0 and body["duplicates"] == 0 and body["errors"]:
        first = next(f for f in body["files"] if f["status"] == "error")
        status = 413 if first.get("code") == "too_large" else 422
        return {"error": first["code"], "message": first["reason"], **body}, status
    return body, 201 if body["stored"] else 200


def _transcribe_new_recordings(results: list[FileResult]) -> None:
    """Every newly stored recording gets a transcription job (its id goes into the file's verdict)."""
    from server.jobs import UnknownJobKind

    try:
        from server.transcription_jobs import start_for_recording
    except ImportError:  # transcription not installed on this server
        return
    for result in results:
        if result.kind == "audio" and result.status == "stored" and result.recording_id is not None:
            try:
                result.job_id = start_for_recording(result.recording_id, g.user.id, actor()).id
            except UnknownJobKind:
                return
