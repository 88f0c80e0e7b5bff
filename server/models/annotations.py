"""Annotations: text spans, image regions and the links between them, with review status."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base
from server.models._types import JSONType, Timestamp, enum_column, utcnow


class AnnotationKind(enum.StrEnum):
    SPAN = "span"
    REGION = "region"
    LINK = "link"


class AnnotationStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EDITED = "edited"


class AnnotationCategory(enum.StrEnum):
    """What an annotation is about: ground truth for the corpus, or a PHI finding for the privacy review."""

    ANNOTATION = "annotation"
    PHI = "phi"


class Annotation(Base):
    """One annotation. Spans carry character offsets into a document; regions carry pixel geometry on an
    instance frame; links join a span (`source_id`) and a region (`target_id`). `version` increases on every
    change and guards concurrent edits."""

    __tablename__ = "annotations"
    __table_args__ = (
        Index("ix_annotation_study_kind", "study_id", "kind"),
        Index("ix_annotation_project_category", "project_id", "category", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    kind: Mapped[AnnotationKind] = mapped_column(enum_column(AnnotationKind))
    category: Mapped[AnnotationCategory] = mapped_column(
        enum_column(AnnotationCategory), default=AnnotationCategory.ANNOTATION, server_default="annotation"
    )
    label: Mapped[str] = mapped_column(String(100))
    status: Mapped[AnnotationStatus] = mapped_column(
        enum_column(AnnotationStatus), default=AnnotationStatus.PROPOSED
    )
    # span
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    # region
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    frame: Mapped[int | None] = mapped_column(Integer)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # link
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    # all kinds
    concepts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(200))  # "user:<name>" or "<component>@<version>"
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
