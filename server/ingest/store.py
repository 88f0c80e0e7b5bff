"""Find-or-create the rows a file belongs to. Re-importing the same content is a no-op (`duplicate`)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.models import Blob, Document, DocumentKind, Instance, Project, Recording, Series, Study
from server.models._types import utcnow


def synthetic_uid(*parts: str) -> str:
    """A deterministic DICOM UID under the 2.25 (UUID-derived) root, for pictures without DICOM identity."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]
    return "2.25." + str(int.from_bytes(digest, "big"))


class StudyIndex:
    """Study/series lookups for one batch, cached so a folder of thousands of instances stays fast."""

    def __init__(self, session: Session, project: Project):
        self.s = session
        self.project = project
        self._studies: dict[tuple[str, str], Study] = {}
        self._absent: set[tuple[str, str]] = set()  # keys `preload` found no study for
        self._created: set[int] = set()  # studies made in this batch: no series of theirs to look up
        self._series: dict[tuple[int, str], Series] = {}
        self._sops: dict[int, set[str]] = {}  # series id -> SOP Instance UIDs stored (loaded once per series)

    def preload(self, study_uids: set[str], accessions: set[str]) -> None:
        """Look up many studies in one query (the next files' keys), so that `find` needs none for them."""
        uids = {u for u in study_uids if ("uid", u) not in self._studies}
        accs = {a for a in accessions if ("acc", a) not in self._studies}
        if not uids and not accs:
            return
        found = self.s.execute(
            select(Study)
            .where(Study.project_id == self.project.id)
            .where(or_(Study.study_uid.in_(uids), Study.accession_number.in_(accs)))
            .order_by(Study.id.desc())  # the oldest last, so it wins a tie as in `_lookup`
        ).scalars()
        for study in found:
            self._remember(study)
        self._absent |= {("uid", u) for u in uids if ("uid", u) not in self._studies}
        self._absent |= {("acc", a) for a in accs if ("acc", a) not in self._studies}

    def find(self, study_uid: str | None, accession: str | None) -> Study | None:
        if study_uid:
            hit = self._lookup("uid", study_uid)
            if hit:
                return hit
        if accession:
            return self._lookup("acc", accession)
        return None

    def _lookup(self, kind: str, value: str) -> Study | None:
        if (kind, value) in self._studies:
            return self._studies[(kind, value)]
        if (kind, value) in self._absent:
            return None
        cond = Study.study_uid == value if kind == "uid" else Study.accession_number == value
        study = self.s.execute(
            select(Study).where(Study.project_id == self.project.id, cond).order_by(Study.id).limit(1)
        ).scalar_one_or_none()
        if study is not None:
            self._remember(study)
        return study

    def _remember(self, study: Study) -> None:
        if study.study_uid:
            self._studies[("uid", study.study_uid)] = study
        if study.accession_number:
            self._studies[("acc", study.accession_number)] = study

    def get_or_create(self, study_uid: str | None, accession: str | None, **fields: Any) -> tuple[Study, bool]:
        study = self.find(study_uid, accession)
        created = False
        if study is None:
            study = Study(project_id=self.project.id, study_uid=study_uid, accession_number=accession, **fields)
            self.s.add(study)
            self.s.flush()
            self._created.add(study.id)
            created = True
        else:
            # A study first known by accession (from a report) adopts the UID when its images arrive.
            if study_uid and not study.study_uid:
                study.study_uid = study_uid
            if accession and not study.accession_number:
                study.accession_number = accession
            for key, value in fields.items():
                if value and not getattr(study, key):
                    setattr(study, key, value)
        self._remember(study)
        return study, created

    def create_missing(self, wanted: list[tuple[str, str | None, dict[str, Any], str, dict[str, Any]]]) -> None:
        """Create, with one flush per table, the studies and the series of new studies that a group of files
        needs: (study UID, accession, study fields, series UID, series fields) per file, in file order; the
        first file of a new study or series gives its fields, as `get_or_create` and `series` would one by one.
        Existing studies are left to `get_or_create` (which may adopt a UID or fields) and `series`."""
        studies: dict[str, Study] = {}
        for study_uid, accession, fields, _series_uid, _series_fields in wanted:
            if study_uid not in studies and self.find(study_uid, accession) is None:
                studies[study_uid] = Study(
                    project_id=self.project.id, study_uid=study_uid, accession_number=accession, **fields
                )
        if studies:
            self.s.add_all(studies.values())
            self.s.flush()
            for study in studies.values():
                self._created.add(study.id)
                self._remember(study)
        series: dict[tuple[int, str], Series] = {}
        for study_uid, accession, _fields, series_uid, fields in wanted:
            study = self.find(study_uid, accession)
            if study is not None and study.id in self._created:
                key = (study.id, series_uid)
                if key not in self._series and key not in series:
                    series[key] = Series(study_id=study.id, series_uid=series_uid, **fields)
        if series:
            self.s.add_all(series.values())
            self.s.flush()
            for key, found in series.items():
                self._series[key] = found
                self._sops[found.id] = set()

    def series(self, study: Study, series_uid: str, **fields: Any) -> Series:
        key = (study.id, series_uid)
        if key not in self._series:
            found = None
            if study.id not in self._created:
                found = self.s.execute(
                    select(Series).where(Series.study_id == study.id, Series.series_uid == series_uid)
                ).scalar_one_or_none()
            if found is None:
                found = Series(study_id=study.id, series_uid=series_uid, **fields)
                self.s.add(found)
                self.s.flush()
                self._sops[found.id] = set()
            else:
                self._sops[found.id] = set(
                    self.s.execute(select(Instance.sop_uid).where(Instance.series_id == found.id)).scalars()
                )
            self._series[key] = found
        return self._series[key]

    def has_instance(self, series: Series, sop_uid: str) -> bool:
        """Whether the series already holds this SOP Instance UID (stored earlier or in this batch)."""
        return sop_uid in self._sops[series.id]

    def add_instance(self, instance: Instance, series: Series) -> None:
        """Add a new instance object to the session."""
        self.claim(series, instance.sop_uid)
        self.s.add(instance)

    def claim(self, series: Series, sop_uid: str) -> None:
        """Note that the series holds this SOP Instance UID from now on (its row may still be queued)."""
        self._sops[series.id].add(sop_uid)


def _blob_insert(s: Session) -> Any:
    insert_ = sqlite_insert if s.get_bind().dialect.name == "sqlite" else pg_insert
    return insert_(Blob.__table__).on_conflict_do_nothing(index_elements=["sha256"])


def ensure_blob(s: Session, sha256: str, size: int, media_type: str) -> None:
    """Record a stored blob (one statement; a blob already known is left as it is)."""
    s.execute(_blob_insert(s), [{"sha256": sha256, "size": size, "media_type": media_type, "created_at": utcnow()}])


class PendingRows:
    """Blob and instance rows queued during a batch and written when `write()` is called (at each commit), with
    one statement per table (blobs first, so instance rows always find theirs). Plain rows, not ORM objects: a
    folder of thousands of instances costs one executemany per table and commit, not thousands of objects. Nothing
    in a batch reads instance rows back before its commit (`StudyIndex` keeps their SOP UIDs in memory)."""

    def __init__(self, s: Session):
        self.s = s
        self.blobs: dict[str, dict[str, Any]] = {}
        self.instances: list[dict[str, Any]] = []

    def add_blob(self, sha256: str, size: int, media_type: str) -> None:
        row = {"sha256": sha256, "size": size, "media_type": media_type, "created_at": utcnow()}
        self.blobs.setdefault(sha256, row)

    def add_instance(self, **values: Any) -> None:
        self.instances.append(values)

    def write(self) -> None:
        if self.blobs:
            rows, self.blobs = list(self.blobs.values()), {}
            self.s.connection().execute(_blob_insert(self.s), rows)
        if self.instances:
            rows, self.instances = self.instances, []
            self.s.connection().execute(insert(Instance.__table__), rows)

    def close(self) -> None:
        self.write()


def add_document(
    s: Session, study: Study, text: str, sha256: str, kind: DocumentKind, source: str
) -> tuple[Document, bool]:
    """A report/transcript; the same bytes on the same study are a duplicate, new text is a new version."""
    dup = s.execute(
        select(Document).where(Document.study_id == study.id, Document.blob_sha256 == sha256, Document.kind == kind)
    ).scalar_one_or_none()
    if dup is not None:
        return dup, False
    version = (
        s.execute(
            select(func.count())
            .select_from(Document)
            .where(Document.study_id == study.id, Document.kind == kind, Document.source == source)
        ).scalar_one()
        + 1
    )
    doc = Document(study_id=study.id, kind=kind, source=source, version=version, text=text, blob_sha256=sha256)
    s.add(doc)
    s.flush()
    return doc, True


def add_recording(s: Session, study: Study, sha256: str, info: Any) -> tuple[Recording, bool]:
    dup = s.execute(
        select(Recording).where(Recording.study_id == study.id, Recording.blob_sha256 == sha256)
    ).scalar_one_or_none()
    if dup is not None:
        return dup, False
    rec = Recording(
        study_id=study.id,
        blob_sha256=sha256,
        media_type=info.media_type,
        duration=info.duration_s,
        sample_rate=info.sample_rate,
        channels=info.channels,
    )
    s.add(rec)
    s.flush()
    return rec, True
