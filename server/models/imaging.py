"""Studies and what belongs to them: series, instances, documents, recordings; blobs they point at."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base
from server.models._types import JSONType, Timestamp, enum_column, utcnow


class Blob(Base):
    """A stored original, addressed by the SHA-256 of its bytes. Never modified."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Study(Base):
    __tablename__ = "studies"
    __table_args__ = (
        UniqueConstraint("project_id", "study_uid", name="uq_study_uid"),
        Index("ix_study_accession", "project_id", "accession_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    study_uid: Mapped[str | None] = mapped_column(String(64))
    accession_number: Mapped[str | None] = mapped_column(String(64))
    modality: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(200))
    patient_key: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    series: Mapped[list[Series]] = relationship(back_populates="study", cascade="all, delete-orphan")
    documents: Mapped[list[Document]] = relationship(back_populates="study", cascade="all, delete-orphan")
    recordings: Mapped[list[Recording]] = relationship(back_populates="study", cascade="all, delete-orphan")


class Series(Base):
    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("study_id", "series_uid", name="uq_series_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    series_uid: Mapped[str] = mapped_column(String(64))
    modality: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[int | None] = mapped_column(Integer)

    study: Mapped[Study] = relationship(back_populates="series")
    instances: Mapped[list[Instance]] = relationship(back_populates="series", cascade="all, delete-orphan")


class Instance(Base):
    """One image object: a DICOM SOP instance (possibly multi-frame) or a PNG/JPEG picture."""

    __tablename__ = "instances"
    __table_args__ = (UniqueConstraint("series_id", "sop_uid", name="uq_instance_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    sop_uid: Mapped[str] = mapped_column(String(80))
    sop_class_uid: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[int | None] = mapped_column(Integer)
    frame_count: Mapped[int] = mapped_column(Integer, default=1)
    rows: Mapped[int | None] = mapped_column(Integer)
    columns: Mapped[int | None] = mapped_column(Integer)
    pixel_spacing: Mapped[list[float] | None] = mapped_column(JSONType)
    transfer_syntax_uid: Mapped[str | None] = mapped_column(String(64))
    window_center: Mapped[float | None] = mapped_column(Float)
    window_width: Mapped[float | None] = mapped_column(Float)
    media_type: Mapped[str] = mapped_column(String(100), default="application/dicom")
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)

    series: Mapped[Series] = relationship(back_populates="instances")


class DocumentKind(enum.StrEnum):
    REPORT = "report"
    TRANSCRIPT = "transcript"
    NOTE = "note"


class Document(Base):
    """Report or transcript text. A new version is a new row; `version` counts per (study, kind, source)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind))
    source: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="SET NULL"))
    words: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)  # transcript word timings
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    study: Mapped[Study] = relationship(back_populates="documents")


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (UniqueConstraint("study_id", "blob_sha256", name="uq_recording_blob"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    media_type: Mapped[str] = mapped_column(String(100))
    duration: Mapped[float] = mapped_column(Float)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    study: Mapped[Study] = relationship(back_populates="recordings")
