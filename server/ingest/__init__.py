"""Ingest: classify each file by its content, validate it, store the original by hash, index it under its
study, and pair reports/audio/pictures with studies. Every file gets its own verdict; one bad file never
stops or undoes the others."""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import posixpath
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from annotators import audio, dicom, images
from annotators.errors import EngineError
from server import audit
from server.errors import HilumError
from server.ingest import pairing, parallel, store
from server.ingest.sources import Item, Limits, check_filename, from_zip, is_zip
from server.ingest.verdicts import FileResult, IngestError, decode_text, summarize
from server.models import DocumentKind, Project
from server.projects import patient_key
from server.storage import BlobStore

__all__ = ["FileResult", "IngestError", "Ingestor", "decode_text", "parallelism", "summarize"]

log = logging.getLogger("hilum.ingest")

TEXT_EXTENSIONS = frozenset({".txt", ".text", ".md"})
DICOM_EXTENSIONS = frozenset({".dcm", ".dicom", ".dic", ""})
COMMIT_EVERY = 200
PRELOAD_EVERY = 64  # prepared DICOM files whose studies are looked up in one query


def _ext(name: str) -> str:
    return posixpath.splitext(name)[1].lower()


class Ingestor:
    """One batch of files into one project."""

    def __init__(
        self,
        session: Session,
        project: Project,
        blobs: BlobStore,
        limits: Limits,
        *,
        actor: str,
        explicit: pairing.PairingKey | None = None,
        on_result: Callable[[FileResult], None] | None = None,
        workers: int = 1,
        parallel_min: int = 128,
    ):
        self.s = session
        self.project = project
        self.blobs = blobs
        self.limits = limits
        self.actor = actor
        self.explicit = explicit or pairing.PairingKey()
        self.index = store.StudyIndex(session, project)
        self.results: list[FileResult] = []
        self._pending = 0
        self._stored_total = 0
        self.on_result = on_result
        self.workers = workers  # > 1: DICOM files are parsed and stored in that many worker processes
        self.parallel_min = parallel_min  # ... when a batch holds at least this many of them
        self.pending = store.PendingRows(session)
        self._patient_keys: dict[tuple[str | None, str | None], str | None] = {}

    # ------------------------------------------------------------------ driving
    def run(self, items: Iterable[Item]) -> list[FileResult]:
        """Ingest everything; DICOM first so that reports and audio find their studies."""
        expanded = list(self._expand(items))
        manifests = [i for i in expanded if pairing.is_manifest(i.name)]
        keys: dict[str, pairing.PairingKey] = {}
        for item in manifests:
            try:
                keys.update(pairing.parse_manifest(item.name, item.read()))
                self.results.append(FileResult(item.name, "stored", "manifest"))
            except HilumError as exc:
                self.results.append(FileResult(item.name, "error", "manifest", exc.code, exc.message))
        rest = [i for i in expanded if not pairing.is_manifest(i.name)]
        names = {i.name for i in rest}
        sidecars = {n for i in rest for n in pairing.sidecar_names(i.name) if n in names and n != i.name}
        by_name = {i.name: i for i in rest}
        ordered = sorted((i for i in rest if i.name not in sidecars), key=lambda i: self._rank(i))
        for item, prepared in self._prepared(ordered):
            key = keys.get(item.name) or keys.get(posixpath.basename(item.name)) or self._sidecar(item, by_name)
            self._one(item, key, prepared)
        for name in sorted(sidecars):
            self.results.append(FileResult(name, "skipped", "sidecar", reason="pairing sidecar, read with its file"))
        try:
            self._commit()
        finally:
            self.pending.close()
        return self.results

    def _expand(self, items: Iterable[Item]) -> Iterable[Item]:
        for item in items:
            try:
                check_filename(item.name)
                if item.size > self.limits.max_archive_bytes:
                    raise IngestError("file is larger than the archive limit", code="too_large", status=413)
                if _ext(item.name) == ".zip":
                    data = item.read()
                    if not is_zip(item.name, data[:4]):
                        raise IngestError("file named .zip is not a zip archive", code="invalid_archive")
                    members = list(from_zip(io.BytesIO(data), item.name, self.limits))
                    self.results.append(FileResult(item.name, "stored", "archive", reason=f"{len(members)} members"))
                    yield from members
                else:
                    yield item
            except HilumError as exc:
                self.results.append(FileResult(item.name, "error", None, exc.code, exc.message))

    @staticmethod
    def _rank(item: Item) -> tuple[int, str]:
        ext = _ext(item.name)
        order = 0 if ext in DICOM_EXTENSIONS else 1 if ext in images.IMAGE_EXTENSIONS else 2
        return order, item.name

    def _sidecar(self, item: Item, by_name: dict[str, Item]) -> pairing.PairingKey | None:
        for name in pairing.sidecar_names(item.name):
            if name in by_name and name != item.name:
                return pairing.parse_sidecar(by_name[name].read())
        return None

    def _prepared(self, ordered: list[Item]) -> Iterable[tuple[Item, parallel.Outcome | None]]:
        """The items in order; DICOM files (sorted first) come prepared by worker processes in a big batch."""
        dicoms = [i for i in ordered if _ext(i.name) in DICOM_EXTENSIONS]
        if self.workers > 1 and len(dicoms) >= self.parallel_min:
            with parallel.Prefetcher(dicoms, self.blobs.root, self.workers) as files:
                while group := list(itertools.islice(files, PRELOAD_EVERY)):
                    infos = [o.info for _item, o in group if isinstance(o, parallel.Prepared) and o.info]
                    self.index.preload(
                        {i.study_instance_uid for i in infos}, {i.accession_number for i in infos if i.accession_number}
                    )
                    self.index.create_missing([self._rows_for(i) for i in infos])
                    yield from group
            ordered = ordered[len(dicoms) :]
        for item in ordered:
            yield item, None

    def _one(self, item: Item, key: pairing.PairingKey | None, prepared: parallel.Outcome | None) -> None:
        with self.s.no_autoflush:  # new instances go to the database in batches
            self._classify_and_store(item, key, prepared)

    def _classify_and_store(
        self, item: Item, key: pairing.PairingKey | None, prepared: parallel.Outcome | None
    ) -> None:
        try:
            if isinstance(prepared, HilumError):
                raise prepared
            if prepared is not None:  # a DICOM file the worker processes already parsed and stored
                result = self._dicom(item.name, prepared)
            else:
                result = self._by_type(item, key)
        except (HilumError, EngineError) as exc:
            code = getattr(exc, "code", "invalid_file")
            message = getattr(exc, "message", None) or str(exc)
            result = FileResult(item.name, "error", None, code, message)
        self._finish(result)

    def _by_type(self, item: Item, key: pairing.PairingKey | None) -> FileResult:
        """Read the file and handle it by its type: extension first, content sniffing for DICOM."""
        ext = _ext(item.name)
        data = item.read()
        if not data:
            raise IngestError("the file is empty", code="empty_file")
        if ext in audio.AUDIO_EXTENSIONS:
            return self._audio(item.name, data, key)
        if ext in TEXT_EXTENSIONS:
            return self._report(item.name, data, key)
        if ext in images.IMAGE_EXTENSIONS:
            return self._image(item.name, data, key)
        if ext in DICOM_EXTENSIONS or dicom.looks_like_dicom(data[:132]):
            return self._dicom(item.name, parallel.prepare(data, self.blobs))
        if ext == ".json":
            return FileResult(
                item.name, "skipped", None, "unpaired_sidecar", "JSON without a file of the same name beside it"
            )
        return FileResult(
            item.name, "skipped", None, "unsupported_type", f"files of type {ext or '(none)'} are not imported"
        )

    def _finish(self, result: FileResult) -> None:
        self.results.append(result)
        if self.on_result is not None:
            self.on_result(result)
        if result.status == "stored":
            self._pending += 1
            self._stored_total += 1
            if self._pending >= COMMIT_EVERY:
                self._commit()

    def _commit(self) -> None:
        if self._pending:
            audit.record(
                self.s,
                self.actor,
                "ingest",
                target_type="project",
                target_id=self.project.id,
                project_id=self.project.id,
                stored=self._pending,
                total_stored=self._stored_total,
            )
        self.pending.write()
        self.s.commit()
        self._pending = 0

    # ------------------------------------------------------------------ per kind
    def _key_for(self, name: str, key: pairing.PairingKey | None) -> pairing.PairingKey | None:
        if key:
            return key
        if self.explicit:
            return self.explicit
        stem = posixpath.splitext(posixpath.basename(name))[0]
        if self.index.find(None, stem) is not None:
            return pairing.PairingKey(accession_number=stem, by="filename")
        return None

    def _rows_for(self, info: dicom.DicomInstanceInfo) -> tuple[str, str | None, dict[str, Any], str, dict[str, Any]]:
        """(study UID, accession, study fields, series UID, series fields) of a DICOM instance."""
        patient = (info.patient_id, info.issuer_of_patient_id)
        if patient not in self._patient_keys:
            self._patient_keys[patient] = patient_key(self.project, *patient)
        study = {"modality": info.modality, "description": info.study_description,
                 "patient_key": self._patient_keys[patient]}  # fmt: skip
        series = {"modality": info.modality, "description": info.series_description, "number": info.series_number}
        return info.study_instance_uid, info.accession_number, study, info.series_instance_uid, series

    def _dicom(self, name: str, prepared: parallel.Prepared) -> FileResult:
        """Index a parsed, stored DICOM file under its study and series."""
        if prepared.dicomdir:
            return FileResult(name, "skipped", "dicomdir", "dicomdir", "DICOMDIR index; its images import as files")
        info = prepared.info
        if info is None or prepared.sha256 is None:
            return FileResult(name, "error", None, prepared.code, prepared.message)
        study_uid, accession, study_fields, series_uid, series_fields = self._rows_for(info)
        study, _ = self.index.get_or_create(study_uid, accession, **study_fields)
        series = self.index.series(study, series_uid, **series_fields)
        if self.index.has_instance(series, info.sop_instance_uid):
            return FileResult(name, "duplicate", "dicom", study_id=study.id)
        self.pending.add_blob(prepared.sha256, prepared.size, "application/dicom")
        self.index.claim(series, info.sop_instance_uid)
        self.pending.add_instance(
            series_id=series.id,
            sop_uid=info.sop_instance_uid,
            sop_class_uid=info.sop_class_uid,
            number=info.instance_number,
            frame_count=info.frame_count,
            rows=info.rows,
            columns=info.columns,
            pixel_spacing=list(info.pixel_spacing) if info.pixel_spacing else None,
            transfer_syntax_uid=info.transfer_syntax_uid,
            window_center=info.window_center,
            window_width=info.window_width,
            media_type="application/dicom",
            blob_sha256=prepared.sha256,
        )
        return FileResult(name, "stored", "dicom", study_id=study.id)

    def _study_for(self, name: str, key: pairing.PairingKey | None, what: str):  # type: ignore[no-untyped-def]
        key = self._key_for(name, key)
        if not key:
            raise IngestError(
                f"cannot pair this {what} with a study: give accession_number or "
                "study_instance_uid (API field, manifest or sidecar JSON)",
                code="unpaired",
            )
        study, _ = self.index.get_or_create(key.study_uid, key.accession_number)
        return study, key

    def _report(self, name: str, data: bytes, key: pairing.PairingKey | None) -> FileResult:
        text = decode_text(data)
        study, key = self._study_for(name, key, "report")
        kind = DocumentKind(key.kind) if key.kind in {k.value for k in DocumentKind} else DocumentKind.REPORT
        sha, size = self.blobs.put_bytes(data)
        store.ensure_blob(self.s, sha, size, "text/plain")
        _doc, created = store.add_document(self.s, study, text, sha, kind, source="upload")
        return FileResult(name, "stored" if created else "duplicate", "report", study_id=study.id, paired_by=key.by)

    def _audio(self, name: str, data: bytes, key: pairing.PairingKey | None) -> FileResult:
        info = audio.probe_audio(data, filename=name)
        study, key = self._study_for(name, key, "recording")
        sha, size = self.blobs.put_bytes(data)
        store.ensure_blob(self.s, sha, size, info.media_type)
        rec, created = store.add_recording(self.s, study, sha, info)
        return FileResult(
            name,
            "stored" if created else "duplicate",
            "audio",
            study_id=study.id,
            paired_by=key.by,
            recording_id=rec.id,
        )

    def _image(self, name: str, data: bytes, key: pairing.PairingKey | None) -> FileResult:
        info = images.probe_image(data)
        sha = hashlib.sha256(data).hexdigest()
        key = self._key_for(name, key)
        if key:
            study, _ = self.index.get_or_create(key.study_uid, key.accession_number)
            paired_by = key.by
        else:  # a picture on its own is its own study, with identifiers derived from its content
            study, _ = self.index.get_or_create(store.synthetic_uid("study", sha), None, modality="OT")
            paired_by = None
        series = self.index.series(
            study,
            store.synthetic_uid("series", str(study.id), info.format),
            modality="OT",
            description=info.format.upper(),
        )
        sop = store.synthetic_uid("instance", sha)
        if self.index.has_instance(series, sop):
            return FileResult(name, "duplicate", "image", study_id=study.id)
        self.blobs.put_bytes(data)
        self.pending.add_blob(sha, len(data), info.media_type)
        self.index.claim(series, sop)
        self.pending.add_instance(
            series_id=series.id,
            sop_uid=sop,
            frame_count=1,
            rows=info.height,
            columns=info.width,
            media_type=info.media_type,
            blob_sha256=sha,
        )
        return FileResult(name, "stored", "image", study_id=study.id, paired_by=paired_by)


def parallelism(config: Any) -> dict[str, int]:
    """The `Ingestor` keywords for worker processes from an app config (HILUM_INGEST_WORKERS, _PARALLEL_MIN)."""
    return {"workers": config["INGEST_WORKERS"], "parallel_min": config["INGEST_PARALLEL_MIN"]}
