"""PHI findings for the privacy review: detection (a job), decisions, missed PHI, review sampling, and the
recall estimate that goes into every de-identification report.

Findings are span annotations with `category=phi`: the engine proposes them (`source=<recognizer>@<version>`),
privacy officers accept, reject or correct them, and add what the engine missed. Export applies the findings
that are not rejected; nothing is redacted in the stored text."""

from __future__ import annotations

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
        reviewed = {
            (a.start, a.end)
            for a in s.execute(
                select(Annotation).where(
                    Annotation.document_id == doc.id,
                    Annotation.category == PHI,
                    Annotation.status != AnnotationStatus.PROPOSED,
                )
            ).scalars()
        }
        gone = s.execute(
            delete(Annotation).where(
                Annotation.document_id == doc.id,
                Annotation.category == PHI,
                Annotation.status == AnnotationStatus.PROPOSED,
                ~Annotation.source.startswith("user:"),
            )
        )
        counts["replaced"] += gone.rowcount
        for span in deid.analyze(doc.text):
            if (span.start, span.end) in reviewed:
                continue
            s.add(
                Annotation(
                    project_id=study.project_id,
                    study_id=study.id,
                    kind=AnnotationKind.SPAN,
                    category=PHI,
                    label=span.label,
                    status=AnnotationStatus.PROPOSED,
                    document_id=doc.id,
                    start=span.start,
                    end=span.end,
                    text=doc.text[span.start : span.end],
                    source=span.source,
                    attributes={"score": round(float(span.score), 4)},
                    concepts=[],
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


@job_kind("deid.study")
def detect_study_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Detect PHI in every document of a study."""
    from server import db

    with db.new_session() as s:
        docs = list(s.execute(select(Document).where(Document.study_id == params["study_id"])).scalars())
        counts = detect_documents(s, docs, params.get("actor", "system"))
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

    totals = {"documents": 0, "findings": 0, "replaced": 0}
    with db.new_session() as s:
        study_ids = list(s.execute(select(Study.id).where(Study.project_id == params["project_id"])).scalars())
        for n, study_id in enumerate(study_ids, 1):
            docs = list(s.execute(select(Document).where(Document.study_id == study_id)).scalars())
            for key, value in detect_documents(s, docs, params.get("actor", "system")).items():
                totals[key] += value
            s.commit()
            ctx.progress(n / len(study_ids), f"{n} of {len(study_ids)} studies")
    return totals
