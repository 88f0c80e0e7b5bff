"""Pre-annotation of a study's documents with the clinical text pipeline (job kind `annotate.study`).

Entities become span annotations with `status=proposed`, `source=<component>@<version>`, the ranked concepts,
and `attributes` {assertion, section, measurement_mm, laterality, location}. Re-running replaces only unreviewed
machine proposals: accepted, edited and rejected annotations stay, people's own spans stay, a proposal that a
link points at stays, and a span someone already decided on is not proposed again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from server import audit, db, jobs
from server.jobs import JobContext, job_kind
from server.models import Annotation, AnnotationCategory, AnnotationKind, AnnotationStatus, Document, Job, Study

KIND = "annotate.study"
ENTITY = AnnotationCategory.ANNOTATION


def _replace_proposals(s: Session, doc: Document) -> tuple[int, set[tuple[int | None, int | None, str]]]:
    """Delete the document's unreviewed machine proposals; returns how many, and the spans people decided on."""
    kept = {
        (a.start, a.end, a.label)
        for a in s.execute(
            select(Annotation).where(
                Annotation.document_id == doc.id,
                Annotation.category == ENTITY,
                Annotation.kind == AnnotationKind.SPAN,
                or_(Annotation.status != AnnotationStatus.PROPOSED, Annotation.source.startswith("user:")),
            )
        ).scalars()
    }
    linked = select(Annotation.source_id).where(Annotation.source_id.is_not(None)).union(
        select(Annotation.target_id).where(Annotation.target_id.is_not(None))
    )
    gone = s.execute(
        delete(Annotation)
        .where(
            Annotation.document_id == doc.id,
            Annotation.category == ENTITY,
            Annotation.kind == AnnotationKind.SPAN,
            Annotation.status == AnnotationStatus.PROPOSED,
            ~Annotation.source.startswith("user:"),
            Annotation.id.not_in(linked),
        )
        .execution_options(synchronize_session=False)
    )
    return int(gone.rowcount or 0), kept


def annotate_documents(s: Session, documents: list[Document], actor: str, ctx: JobContext | None = None) -> dict:
    """Annotate `documents`; returns counts. Without `ctx` all in the caller's transaction, with it one commit
    per document (then its progress)."""
    from annotators.text.pipeline import annotate

    counts = {"documents": 0, "spans": 0, "replaced": 0, "kept": 0}
    texts = [doc.text or "" for doc in documents]
    for number, (doc, spans) in enumerate(zip(documents, annotate(texts), strict=True), 1):
        study = s.get(Study, doc.study_id)
        assert study is not None
        replaced, kept = _replace_proposals(s, doc)
        counts["replaced"] += replaced
        existing = {
            (a.start, a.end, a.label)
            for a in s.execute(select(Annotation).where(Annotation.document_id == doc.id)).scalars()
        }
        for span in spans:
            key = (span.start, span.end, span.label)
            if key in kept or key in existing:
                counts["kept"] += 1
                continue
            s.add(
                Annotation(
                    project_id=study.project_id,
                    study_id=study.id,
                    kind=AnnotationKind.SPAN,
                    category=ENTITY,
                    label=span.label,
                    status=AnnotationStatus.PROPOSED,
                    document_id=doc.id,
                    start=span.start,
                    end=span.end,
                    text=span.text,
                    source=span.source or "hilum_text@unknown",
                    concepts=[c.to_json() for c in span.concepts],
                    attributes={
                        "assertion": span.assertion,
                        "section": span.section,
                        "measurement_mm": list(span.measurement_mm) or None,
                        "laterality": span.laterality,
                        "location": list(span.location),
                    },
                )
            )
            counts["spans"] += 1
        counts["documents"] += 1
        audit.record(
            s, actor, "text.annotate", target_type="document", target_id=doc.id, project_id=study.project_id,
            spans=len(spans), replaced=replaced,
        )  # fmt: skip
        if ctx is not None:  # one transaction per document: progress is written in a session of its own
            s.commit()
            ctx.progress(number / len(documents), f"{number} of {len(documents)} documents")
    return counts


@job_kind(KIND)
def annotate_study_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Run the text pipeline over every document of the study `params["study_id"]`."""
    with db.new_session() as s:
        if s.get(Study, params["study_id"]) is None:
            raise LookupError("the study no longer exists")
        docs = list(
            s.execute(select(Document).where(Document.study_id == params["study_id"]).order_by(Document.id)).scalars()
        )
        counts = annotate_documents(s, docs, params.get("actor", "system"), ctx)
        s.commit()
    return counts


def start_for_study(study_id: int, user_id: int | None, actor: str | None = None) -> Job:
    """Queue the `annotate.study` job for a study (in the app context); `LookupError` when it does not exist."""
    with db.new_session() as s:
        study = s.get(Study, study_id)
        if study is None:
            raise LookupError(f"study {study_id} does not exist")
        project_id = study.project_id
    params = {"study_id": study_id, "actor": actor or (f"user-id:{user_id}" if user_id is not None else "system")}
    return jobs.submit(KIND, params, project_id=project_id, user_id=user_id)
