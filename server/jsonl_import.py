"""Read the native JSONL export back into a project: studies (matched by StudyInstanceUID or AccessionNumber),
their instances and recordings when the blobs are in this server's store, documents, and annotations with
their review status and links (ids remapped). A de-identified export imports the same way."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from server import audit
from server.errors import ValidationError
from server.ingest import store
from server.models import (
    Annotation,
    AnnotationCategory,
    AnnotationKind,
    AnnotationStatus,
    DocumentKind,
    Instance,
    Project,
    Recording,
    Study,
)
from server.storage import BlobStore


class JsonlImporter:
    """One pass over the lines; ids in the file are mapped to the rows created here."""

    def __init__(self, s: Session, project: Project, blobs: BlobStore, actor: str):
        self.s, self.project, self.blobs, self.actor = s, project, blobs, actor
        self.index = store.StudyIndex(s, project)
        self.ids: dict[str, dict[int, int]] = {"study": {}, "document": {}, "instance": {}, "annotation": {}}
        self.counts: dict[str, int] = {}

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def run(self, lines: Iterable[str]) -> dict[str, int]:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"line {n}: not JSON ({exc.msg})", code="invalid_json") from exc
            if not isinstance(rec, dict) or "type" not in rec:
                raise ValidationError(f"line {n}: expected an object with a type", code="invalid_record")
            handler = getattr(self, f"_{rec['type']}", None)
            if handler is None:
                raise ValidationError(f"line {n}: unknown record type {rec['type']!r}", code="invalid_record")
            try:
                handler(rec)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValidationError(
                    f"line {n}: malformed {rec['type']} record ({type(exc).__name__})", code="invalid_record"
                ) from exc
        audit.record(
            self.s,
            self.actor,
            "import.jsonl",
            target_type="project",
            target_id=self.project.id,
            project_id=self.project.id,
            **self.counts,
        )
        return self.counts

    def _project(self, rec: dict[str, Any]) -> None:
        if not self.project.label_schema and rec.get("label_schema"):
            self.project.label_schema = rec["label_schema"]

    def _study(self, rec: dict[str, Any]) -> None:
        study, created = self.index.get_or_create(
            rec.get("study_instance_uid"),
            rec.get("accession_number"),
            modality=rec.get("modality"),
            patient_key=rec.get("patient_key"),
        )
        self.ids["study"][rec["id"]] = study.id
        self._count("studies_created" if created else "studies_matched")
        for se in rec.get("series") or []:
            series = self.index.series(
                study, se["series_instance_uid"], modality=se.get("modality"), number=se.get("number")
            )
            for inst in se.get("instances") or []:
                sha = inst.get("sha256")
                if not sha or not self.blobs.exists(sha):
                    self._count("instances_without_blob")
                    continue
                if not self.index.has_instance(series, inst["sop_instance_uid"]):
                    store.ensure_blob(self.s, sha, len(self.blobs.read(sha)), inst["media_type"])
                    row = Instance(
                        series_id=series.id,
                        sop_uid=inst["sop_instance_uid"],
                        sop_class_uid=inst.get("sop_class_uid"),
                        number=inst.get("number"),
                        frame_count=inst.get("frame_count", 1),
                        rows=inst.get("rows"),
                        columns=inst.get("columns"),
                        pixel_spacing=inst.get("pixel_spacing"),
                        transfer_syntax_uid=inst.get("transfer_syntax_uid"),
                        media_type=inst["media_type"],
                        blob_sha256=sha,
                    )
                    self.index.add_instance(row, series)
                    self.s.flush()
                    self.ids["instance"][inst["id"]] = row.id
                    self._count("instances")

    def _recording(self, rec: dict[str, Any]) -> None:
        sha = rec.get("sha256")
        study_id = self.ids["study"].get(rec["study_id"])
        if not sha or not self.blobs.exists(sha) or study_id is None:
            self._count("recordings_without_blob")
            return
        store.ensure_blob(self.s, sha, len(self.blobs.read(sha)), rec["media_type"])
        self.s.add(
            Recording(
                study_id=study_id,
                blob_sha256=sha,
                media_type=rec["media_type"],
                duration=rec["duration"],
                sample_rate=rec.get("sample_rate"),
                channels=rec.get("channels"),
            )
        )
        self._count("recordings")

    def _document(self, rec: dict[str, Any]) -> None:
        study = self.s.get(Study, self.ids["study"][rec["study_id"]])
        assert study is not None
        sha, size = self.blobs.put_bytes(rec["text"].encode())
        store.ensure_blob(self.s, sha, size, "text/plain")
        doc, created = store.add_document(
            self.s, study, rec["text"], sha, DocumentKind(rec["kind"]), source=rec.get("source", "import")
        )
        if rec.get("words") and created:
            doc.words = rec["words"]
        self.ids["document"][rec["id"]] = doc.id
        self._count("documents" if created else "documents_matched")

    def _annotation(self, rec: dict[str, Any]) -> None:
        kind = AnnotationKind(rec["kind"])
        fields: dict[str, Any] = {}
        if kind is AnnotationKind.SPAN:
            fields = {
                "document_id": self.ids["document"][rec["document_id"]],
                "start": rec["start"],
                "end": rec["end"],
                "text": rec.get("text"),
            }
        elif kind is AnnotationKind.REGION:
            if rec["instance_id"] not in self.ids["instance"]:
                self._count("regions_without_instance")
                return
            fields = {
                "instance_id": self.ids["instance"][rec["instance_id"]],
                "frame": rec.get("frame", 0),
                "geometry": rec["geometry"],
            }
        else:
            ends = (self.ids["annotation"].get(rec["source_id"]), self.ids["annotation"].get(rec["target_id"]))
            if None in ends:
                self._count("links_without_ends")
                return
            fields = {"source_id": ends[0], "target_id": ends[1]}
        ann = Annotation(
            project_id=self.project.id,
            study_id=self.ids["study"][rec["study_id"]],
            kind=kind,
            category=AnnotationCategory(rec.get("category", "annotation")),
            label=rec["label"],
            status=AnnotationStatus(rec.get("status", "proposed")),
            concepts=rec.get("concepts") or [],
            attributes=rec.get("attributes") or {},
            source=rec.get("source") or "import@1",
            **fields,
        )
        self.s.add(ann)
        self.s.flush()
        self.ids["annotation"][rec["id"]] = ann.id
        self._count("annotations")
