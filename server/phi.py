"""PHI findings for the privacy review: detection (a job), decisions, missed PHI, review sampling, and the
recall estimate that goes into every de-identification report.

Findings are annotations with `category=phi`: spans in documents, and box regions on DICOM frames for text burned
into the pixels (read with tesseract on the instances whose header flags burned-in text). The engines propose them
(`source=<recognizer>@<version>`, `tesseract@<version>`), privacy officers accept, reject or correct them, and add
what the engines missed. Export applies the findings that are not rejected; nothing is redacted in stored data."""

from __future__ import annotations

import json
import math
import random
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server import audit
from server.jobs import JobContext, job_kind
from server.models import (
    Annotation,
    AnnotationCategory,
    AnnotationKind,
    AnnotationStatus,
    AuditEvent,
    Document,
    Instance,
    Series,
    Study,
)

PHI = AnnotationCategory.PHI
REVIEWED = "phi.document_reviewed"


def detect_documents(s: Session, documents: list[Document], actor: str) -> dict[str, int]:
    """Run the text engine over documents; replace earlier unreviewed machine proposals, keep every decision."""
    from annotators import deid

    counts = {"documents": 0, "findings": 0, "replaced": 0}
    for doc in documents:
        study = s.get(Study, doc.study_id)
        assert study is not None
        reviewed = {(a.start, a.end) for a in _decided(s, Annotation.document_id == doc.id)}
        counts["replaced"] += _replace_proposals(s, Annotation.document_id == doc.id)
        for span in deid.analyze(doc.text):
            if (span.start, span.end) in reviewed:
                continue
            s.add(
                _proposal(
                    study,
                    kind=AnnotationKind.SPAN,
                    label=span.label,
                    document_id=doc.id,
                    start=span.start,
                    end=span.end,
                    text=doc.text[span.start : span.end],
                    source=span.source,
                    attributes={"score": round(float(span.score), 4)},
                )
            )
            counts["findings"] += 1
        counts["documents"] += 1
        audit.record(
            s,
            actor,
            "phi.detect",
            target_type="document",
            target_id=doc.id,
            project_id=study.project_id,
            findings=counts["findings"],
        )
    return counts


def _proposal(study: Study, **fields: Any) -> Annotation:
    """A machine-proposed PHI finding on the study (a span or a region, by `fields`)."""
    return Annotation(
        project_id=study.project_id,
        study_id=study.id,
        category=PHI,
        status=AnnotationStatus.PROPOSED,
        concepts=[],
        **fields,
    )


def _decided(s: Session, *where: Any) -> list[Annotation]:
    """The PHI findings matching `where` that someone has decided (accepted, rejected, edited)."""
    return list(
        s.execute(
            select(Annotation).where(*where, Annotation.category == PHI, Annotation.status != AnnotationStatus.PROPOSED)
        ).scalars()
    )


def _replace_proposals(s: Session, *where: Any) -> int:
    """Delete the unreviewed machine proposals matching `where`; decisions and people's findings stay."""
    gone = s.execute(
        delete(Annotation).where(
            *where,
            Annotation.category == PHI,
            Annotation.status == AnnotationStatus.PROPOSED,
            ~Annotation.source.startswith("user:"),
        )
    )
    return int(gone.rowcount)


def detect_pixels(s: Session, study: Study, actor: str) -> dict[str, int]:
    """Read burned-in text on the study's DICOM instances whose header flags it (BurnedInAnnotation YES, or
    absent on a modality that burns text in) and store each PHI word's box as a proposed region finding.
    Without tesseract the flagged instances are counted as needing review, never skipped silently."""
    from annotators import dicom
    from annotators.deid.dicom import PixelPolicy, tesseract_version
    from annotators.deid.dicom.pixels import find_boxes
    from annotators.deid.dicom.report import needs_pixel_review
    from server.storage import blobs

    counts = {"instances_flagged": 0, "instances_read": 0, "pixel_findings": 0, "pixel_review_needed": 0}
    ocr = tesseract_version() is not None
    policy = PixelPolicy("ocr")
    instances = s.execute(
        select(Instance)
        .join(Series, Series.id == Instance.series_id)
        .where(Series.study_id == study.id, Instance.media_type == "application/dicom")
        .order_by(Instance.id)
    ).scalars()
    for inst in instances:
        try:
            ds = dicom.read_dataset(blobs().read(inst.blob_sha256))
        except dicom.DicomError:
            continue  # the file no longer parses: nothing to read
        if not needs_pixel_review(ds):
            continue  # the header does not flag burned-in text
        counts["instances_flagged"] += 1
        try:
            boxes, frames = find_boxes(ds, ds, policy) if ocr else ([], 0)
        except dicom.DicomError:  # frames that cannot be rendered or read stay flagged for review
            boxes, frames = [], 0
        if frames < dicom.frame_count(ds) or any(not box.redacted for box in boxes):
            counts["pixel_review_needed"] += 1  # unread frames, or text that is not PHI but still burned in
        if not frames:
            continue
        counts["instances_read"] += 1
        reviewed = {
            (a.frame, json.dumps(a.geometry, sort_keys=True)) for a in _decided(s, Annotation.instance_id == inst.id)
        }
        _replace_proposals(s, Annotation.instance_id == inst.id)
        for box in boxes:
            if not box.redacted or (box.frame, json.dumps(box.geometry(), sort_keys=True)) in reviewed:
                continue
            s.add(
                _proposal(
                    study,
                    kind=AnnotationKind.REGION,
                    label=box.label,
                    instance_id=inst.id,
                    frame=box.frame,
                    geometry=box.geometry(),
                    source=box.source,
                    attributes={"reason": box.reason, "chars": box.chars},
                )
            )
            counts["pixel_findings"] += 1
    if counts["instances_flagged"]:
        audit.record(
            s, actor, "phi.detect_pixels", target_type="study", target_id=study.id, project_id=study.project_id,
            policy="ocr" if ocr else "flag", **counts,
        )  # fmt: skip
    return counts


def detect_study(s: Session, study: Study, actor: str) -> dict[str, int]:
    """Detect PHI in every document of a study and in the burned-in text of its flagged images."""
    docs = list(s.execute(select(Document).where(Document.study_id == study.id)).scalars())
    return {**detect_documents(s, docs, actor), **detect_pixels(s, study, actor)}


@job_kind("deid.study")
def detect_study_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Detect PHI in every document of a study and in its burned-in pixel text."""
    from server import db

    with db.new_session() as s:
        study = s.get(Study, params["study_id"])
        if study is None:
            return {"documents": 0, "findings": 0, "replaced": 0}
        counts = detect_study(s, study, params.get("actor", "system"))
        s.commit()
    return counts


def stored_findings(s: Session, document_id: int) -> list[Annotation] | None:
    """The findings export applies to a document (all but rejected), or None when it was never analysed."""
    rows = list(
        s.execute(select(Annotation).where(Annotation.document_id == document_id, Annotation.category == PHI)).scalars()
    )
    if not rows:
        return None
    return [a for a in rows if a.status is not AnnotationStatus.REJECTED]


def mark_reviewed(s: Session, doc: Document, project_id: int, actor: str) -> None:
    """A privacy officer read the whole document and added every missed PHI: it now counts for recall."""
    audit.record(s, actor, REVIEWED, target_type="document", target_id=doc.id, project_id=project_id)


def reviewed_document_ids(s: Session, project_id: int) -> set[int]:
    rows = s.execute(
        select(AuditEvent.target_id).where(AuditEvent.project_id == project_id, AuditEvent.action == REVIEWED)
    ).scalars()
    return {int(x) for x in rows}


def sample(s: Session, project_id: int, size: int, seed: int | None = None) -> list[int]:
    """A uniform random sample of analysed, not yet reviewed documents: reviewing them estimates recall."""
    analysed = set(
        s.execute(
            select(Annotation.document_id)
            .where(Annotation.project_id == project_id, Annotation.category == PHI)
            .distinct()
        ).scalars()
    )
    pool = sorted(analysed - reviewed_document_ids(s, project_id))
    return sorted(random.Random(seed).sample(pool, min(size, len(pool))))


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (95 % by default)."""
    if total == 0:
        return (0.0, 1.0)
    p = successes / total
    centre = p + z * z / (2 * total)
    spread = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    denom = 1 + z * z / total
    return (max(0.0, (centre - spread) / denom), min(1.0, (centre + spread) / denom))


def recall_estimate(s: Session, project_id: int) -> dict[str, Any]:
    """Over reviewed documents: engine findings kept (accepted/edited) vs PHI people had to add."""
    docs = reviewed_document_ids(s, project_id)
    if not docs:
        return {
            "reviewed_documents": 0,
            "recall": None,
            "ci95": None,
            "note": "no document has been reviewed yet; sample some with POST .../phi/samples",
        }
    rows = s.execute(
        select(Annotation.source, Annotation.status).where(Annotation.document_id.in_(docs), Annotation.category == PHI)
    ).all()
    found = sum(
        1
        for src, st in rows
        if not src.startswith("user:") and st in (AnnotationStatus.ACCEPTED, AnnotationStatus.EDITED)
    )
    missed = sum(1 for src, _st in rows if src.startswith("user:"))
    low, high = wilson(found, found + missed)
    return {
        "reviewed_documents": len(docs),
        "engine_found": found,
        "missed": missed,
        "recall": found / (found + missed) if found + missed else None,
        "ci95": [round(low, 4), round(high, 4)],
    }


def summary(s: Session, project_id: int) -> dict[str, Any]:
    """Counts of findings by label and decision, and by who decided (rule or person)."""
    rows = s.execute(
        select(Annotation.label, Annotation.status, Annotation.source, func.count())
        .where(Annotation.project_id == project_id, Annotation.category == PHI)
        .group_by(Annotation.label, Annotation.status, Annotation.source)
    ).all()
    by_label: dict[str, dict[str, int]] = {}
    by_source: dict[str, int] = {}
    for label, status, source, n in rows:
        by_label.setdefault(label, {}).setdefault(status.value, 0)
        by_label[label][status.value] += n
        who = "person" if source.startswith("user:") else source
        by_source[who] = by_source.get(who, 0) + n
    return {"by_label": by_label, "by_source": by_source}


@job_kind("deid.project")
def detect_project_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Detect PHI in every document of a project, committing per study."""
    from server import db

    totals: dict[str, int] = {"documents": 0, "findings": 0, "replaced": 0}
    with db.new_session() as s:
        studies = list(s.execute(select(Study).where(Study.project_id == params["project_id"])).scalars())
        for n, study in enumerate(studies, 1):
            for key, value in detect_study(s, study, params.get("actor", "system")).items():
                totals[key] = totals.get(key, 0) + value
            s.commit()
            ctx.progress(n / len(studies), f"{n} of {len(studies)} studies")
    return totals
