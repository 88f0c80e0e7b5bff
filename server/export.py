"""The native JSONL export: one JSON object per line, `type` first — project, study (with series and
instances), document, recording, annotation. Links are annotations with `source_id`/`target_id`.

De-identification is applied here through `DEID_HOOKS` (the de-identification work plugs in); an export asked
to be de-identified with no hook able to do it fails rather than leak."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server import serialize
from server.models import Annotation, Document, Project, Series, Study

FORMAT_VERSION = 1


def _hilum_deid(project: Project, session: Session) -> Callable[[dict[str, Any]], dict[str, Any]]:
    from server.deid_export import ExportDeidentifier

    return ExportDeidentifier(project, session=session)


# name → factory(project, session) → fn(record) -> record, applied in order to every record when de-identifying.
DEID_HOOKS: dict[str, Callable[[Project, Session], Callable[[dict[str, Any]], dict[str, Any]]]] = {"hilum": _hilum_deid}


class DeidUnavailable(RuntimeError):
    """A de-identified export was asked for and no de-identification hook is installed."""


def records(s: Session, project: Project) -> Iterator[dict[str, Any]]:
    yield {"type": "project", "format_version": FORMAT_VERSION, **serialize.project(project)}
    studies = s.execute(
        select(Study)
        .where(Study.project_id == project.id)
        .order_by(Study.id)
        .options(selectinload(Study.series).selectinload(Series.instances), selectinload(Study.recordings))
    ).scalars()
    for study in studies.yield_per(200):
        yield {"type": "study", **serialize.study_detail(study)} | {"documents": None}
        for rec in study.recordings:
            yield {"type": "recording", **serialize.recording(rec)}
    docs = s.execute(select(Document).join(Study).where(Study.project_id == project.id).order_by(Document.id))
    for doc in docs.scalars().yield_per(200):
        yield {"type": "document", **serialize.document(doc, with_text=True)}
    anns = s.execute(select(Annotation).where(Annotation.project_id == project.id).order_by(Annotation.id))
    for ann in anns.scalars().yield_per(500):
        yield {"type": "annotation", **serialize.annotation(ann)}


def write_jsonl(
    s: Session,
    project: Project,
    path: str,
    *,
    deidentify: bool,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, int], list[Any]]:
    """Write the export to `path` (atomically); returns counts per record type and the de-identification
    hooks used (they carry what they changed, for the de-identification report)."""
    if deidentify and not DEID_HOOKS:
        raise DeidUnavailable(
            "no de-identification engine is installed; export with deidentify=false "
            "(admins only) or install the de-identification hooks"
        )
    hooks = [factory(project, s) for factory in DEID_HOOKS.values()] if deidentify else []
    counts: dict[str, int] = {}
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as out:
        for n, rec in enumerate(records(s, project), 1):
            for hook in hooks:
                rec = hook(rec)
            out.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
            counts[rec["type"]] = counts.get(rec["type"], 0) + 1
            if progress and n % 1000 == 0:
                progress(n)
    os.replace(tmp, path)
    return counts, hooks
