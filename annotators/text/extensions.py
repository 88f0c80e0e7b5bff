"""Every `Doc` / `Span` extension the Hilum text components write, declared in one place.

Doc:
- `hilum_sections`: list of `Section` (name, header start/end, body start/end in characters), in text order.
- `hilum_expansions`: dict start character → long form, for abbreviations (document-defined or clinical).

Span (entities in `doc.ents`; `MEASUREMENT` entities too):
- `hilum_section`: the section name the span lies in (`None` before any header).
- `hilum_assertion`: one of `ASSERTIONS` (`present` unless a ConText rule says otherwise).
- `hilum_source`: which component found the span, `name@version`.
- `hilum_long_form`: the expansion used for linking (abbreviations resolved), or `None`.
- `hilum_concepts`: list of `ConceptCandidate`, best first.
- `hilum_measurement_mm`: for a MEASUREMENT, its dimensions in millimetres; for a finding, the dimensions of the
  measurement attached to it (empty when none).
- `hilum_laterality`: `left` / `right` / `bilateral` / `None`.
- `hilum_location`: the anatomy spans' texts attached to a finding.
"""

from __future__ import annotations

import bisect
from typing import Any, NamedTuple

from spacy.tokens import Doc, Span

_STARTS_KEY = ("hilum", "section_starts", None, None)
ASSERTIONS = ("present", "negated", "uncertain", "historical", "hypothetical", "family")


class Section(NamedTuple):
    """A section of a report: its normalised name and character offsets of its header and body."""

    name: str
    header_start: int
    header_end: int
    start: int
    end: int


class ConceptCandidate(NamedTuple):
    """One ranked concept for a span: ontology name, concept id, preferred name, similarity score (0..1)."""

    ontology: str
    concept_id: str
    name: str
    score: float

    def to_json(self) -> dict[str, object]:
        """The `{"ontology", "id", "name", "score"}` shape of the CLI and the annotation store."""
        return {"ontology": self.ontology, "id": self.concept_id, "name": self.name, "score": round(self.score, 4)}


def _section_of(span: Span) -> str | None:
    sections = span.doc._.hilum_sections or []
    user_data: dict[Any, Any] = span.doc.user_data
    starts = user_data.get(_STARTS_KEY)
    if starts is None or len(starts) != len(sections):
        starts = user_data[_STARTS_KEY] = [s.header_start for s in sections]
    index = bisect.bisect_right(starts, span.start_char) - 1
    return sections[index].name if index >= 0 else None


def register() -> None:
    """Declare the extensions (idempotent; called by every Hilum component factory)."""
    if Doc.has_extension("hilum_sections"):
        return
    Doc.set_extension("hilum_sections", default=None)
    Doc.set_extension("hilum_expansions", default=None)
    Span.set_extension("hilum_section", getter=_section_of)
    Span.set_extension("hilum_assertion", default="present")
    Span.set_extension("hilum_source", default=None)
    Span.set_extension("hilum_long_form", default=None)
    Span.set_extension("hilum_concepts", default=None)
    Span.set_extension("hilum_measurement_mm", default=None)
    Span.set_extension("hilum_laterality", default=None)
    Span.set_extension("hilum_location", default=None)
