"""Importer for UMLS Metathesaurus files a user licenses themselves: `MRCONSO.RRF` (+ optional `MRSTY.RRF`).

MRCONSO columns: CUI|LAT|TS|LUI|STT|SUI|ISPREF|AUI|SAUI|SCUI|SDUI|SAB|TTY|CODE|STR|SRL|SUPPRESS|CVF|
MRSTY columns:   CUI|TUI|STN|STY|ATUI|CVF|
The files are read as a stream (the full Metathesaurus is gigabytes); MRCONSO must be sorted by CUI, as
NLM ships it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from pathlib import Path

from ontologies.concept import Concept, CorruptOntologyError

_CUI = re.compile(r"C\d{7}\Z")
_MRCONSO_FIELDS = 18


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8", newline="\n") as handle:
            for number, line in enumerate(handle, 1):
                yield number, line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise CorruptOntologyError(str(path), f"not UTF-8 text ({exc.reason})") from exc


def read_semantic_types(path: Path) -> dict[str, list[str]]:
    """CUI → semantic type ids (TUIs, e.g. `T047`) from an `MRSTY.RRF`."""
    types: dict[str, list[str]] = {}
    for number, line in _lines(path):
        if not line:
            continue
        fields = line.split("|")
        if len(fields) < 4 or not _CUI.match(fields[0]) or not re.fullmatch(r"T\d{3}", fields[1]):
            raise CorruptOntologyError(str(path), "not an MRSTY.RRF row (CUI|TUI|STN|STY|...)", number)
        types.setdefault(fields[0], []).append(fields[1])
    return types


def parse_mrconso(
    path: Path,
    *,
    semantic_types: dict[str, list[str]] | None = None,
    languages: Collection[str] = ("ENG",),
    sources: Collection[str] = (),
    include_suppressed: bool = False,
) -> Iterator[Concept]:
    """One concept per CUI with at least one kept row.

    A row is kept when its language is in `languages` (empty: all), its source vocabulary (SAB) is in
    `sources` (empty: all), and, unless `include_suppressed`, its SUPPRESS flag is `N`. The canonical name is
    the UMLS preferred string (TS=P, STT=PF, ISPREF=Y) among kept rows, else the first kept string.
    """
    languages, sources = set(languages), set(sources)
    semantic_types = semantic_types or {}
    current = ""
    preferred: str | None = None
    names: list[str] = []
    rows = 0

    def flush() -> Iterator[Concept]:
        if current and names:
            yield Concept.create(current, preferred or names[0], names, semantic_types.get(current, []))

    for number, line in _lines(path):
        if not line:
            continue
        fields = line.split("|")
        if len(fields) < _MRCONSO_FIELDS or not _CUI.match(fields[0]):
            raise CorruptOntologyError(str(path), "not an MRCONSO.RRF row (18 '|'-separated fields)", number)
        rows += 1
        cui = fields[0]
        if cui != current:
            if cui < current:
                raise CorruptOntologyError(str(path), f"rows are not sorted by CUI ({cui} after {current})", number)
            yield from flush()
            current, preferred, names = cui, None, []
        lat, ts, stt, ispref, sab, string, suppress = (
            fields[1],
            fields[2],
            fields[4],
            fields[6],
            fields[11],
            fields[14],
            fields[16],
        )
        if (languages and lat not in languages) or (sources and sab not in sources):
            continue
        if suppress != "N" and not include_suppressed:
            continue
        names.append(string)
        if preferred is None and ts == "P" and stt == "PF" and ispref == "Y":
            preferred = string
    yield from flush()
    if rows == 0:
        raise CorruptOntologyError(str(path), "no MRCONSO rows")
