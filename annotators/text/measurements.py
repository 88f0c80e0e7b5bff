"""Measurements, laterality and location (`hilum_measurements`, `hilum_modifiers`).

`hilum_measurements` finds sizes (`2.3 x 1.8 cm`, `5mm`, `1.2 cm by 8 mm`, `3 x 4 x 5 millimeters`) and stores
them as MEASUREMENT spans in `doc.spans["hilum_measurements"]` with their dimensions in millimetres.
`hilum_modifiers` runs after the entities are combined: each measurement goes to the nearest FINDING of its
sentence with no other finding between them (`span._.hilum_measurement_mm`); each finding gets the nearest
anatomy of its sentence within a few tokens as its location (`hilum_location`) and a laterality (`left`,
`right`, `bilateral`) from its own words, its location's words (abbreviations expanded: `RUL`) or a laterality
word right beside it.
"""

import re
from collections import defaultdict

from spacy.language import Language
from spacy.tokens import Doc, Span

from annotators.text.abbreviations import expand
from annotators.text.extensions import register
from annotators.text.sections import sentence_ids

SOURCE = "hilum_measurements@1"
_NUM = r"(?:\d{1,4}(?:\.\d{1,3})?|\.\d{1,3})"
_UNIT = r"(?:mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)"
MEASUREMENT_RE = re.compile(
    rf"(?<![\w.])(?P<all>{_NUM}(?:[ \t]*{_UNIT})?(?:[ \t]*(?:x|×|by)[ \t]*{_NUM}(?:[ \t]*{_UNIT})?){{0,2}})(?!\w)",
    re.IGNORECASE,
)
_PART_RE = re.compile(rf"(?P<num>{_NUM})(?:[ \t]*(?P<unit>{_UNIT}))?", re.IGNORECASE)
LOCATION_WINDOW = 8
LATERALITY_WINDOW = 3
_SIDES = (("bilateral", re.compile(r"\b(?:bilateral(?:ly)?|both|bibasilar|bibasal|b/l)\b", re.I)),
          ("left", re.compile(r"\b(?:left|lt)\b", re.I)), ("right", re.compile(r"\b(?:right|rt)\b", re.I)))  # fmt: skip


def parse_millimetres(text: str) -> list[float] | None:
    """Dimensions in mm of a measurement like `2.3 x 1.8 cm`; None when no unit is given."""
    parts = list(_PART_RE.finditer(text))
    units = [p.group("unit") for p in parts]
    if not any(units):
        return None
    values, unit = [], None
    for part, own in zip(reversed(parts), reversed(units), strict=True):  # a number takes the next unit given
        unit = own or unit
        factor = 10.0 if unit and unit.lower().startswith("c") else 1.0
        values.append(round(float(part.group("num")) * factor, 3))
    return list(reversed(values))


class MeasurementAnnotator:
    """Finds measurements (see the module docstring)."""

    def __call__(self, doc: Doc) -> Doc:
        """Add MEASUREMENT spans with `hilum_measurement_mm` to `doc.spans["hilum_measurements"]`."""
        spans = []
        for match in MEASUREMENT_RE.finditer(doc.text):
            values = parse_millimetres(match.group("all"))
            span = doc.char_span(match.start("all"), match.end("all"), "MEASUREMENT", alignment_mode="contract")
            if values is None or span is None or len(span) == 0:
                continue
            span._.hilum_measurement_mm = values
            span._.hilum_source = SOURCE
            spans.append(span)
        doc.spans["hilum_measurements"] = spans
        return doc


def laterality_of(text: str) -> str | None:
    """`bilateral`, `left` or `right` when `text` says so (bilateral wins over both sides named)."""
    found = [side for side, pattern in _SIDES if pattern.search(text)]
    if "bilateral" in found or ("left" in found and "right" in found):
        return "bilateral"
    return found[0] if found else None


def _gap(a: Span, b: Span) -> int:
    return b.start - a.end if a.end <= b.start else a.start - b.end


def _nearest(target: Span, candidates: list[Span], blockers: list[Span], window: int) -> Span | None:
    """The candidate nearest `target` (after it on a tie) within `window` tokens, no blocker between them."""
    best: tuple[int, int, Span] | None = None
    for candidate in candidates:
        if _gap(target, candidate) > window:
            continue
        low, high = min(target.end, candidate.end), max(target.start, candidate.start)
        if any(low <= b.start and b.end <= high for b in blockers if b is not target):
            continue
        key = (_gap(target, candidate), 0 if candidate.start >= target.end else 1, candidate)
        if best is None or key[:2] < best[:2]:
            best = key
    return best[2] if best else None


class ModifierAnnotator:
    """Attaches measurements, location and laterality to findings (see the module docstring)."""

    def __call__(self, doc: Doc) -> Doc:
        """Set `hilum_measurement_mm`, `hilum_location`, `hilum_laterality` on FINDING entities."""
        sentence = sentence_ids(doc)
        by_sentence: dict[int, dict[str, list[Span]]] = defaultdict(lambda: defaultdict(list))
        for ent in doc.ents:
            by_sentence[sentence[ent.start]][ent.label_].append(ent)
        for side in doc.spans.get("hilum_laterality", []):
            by_sentence[sentence[side.start]]["LATERALITY"].append(side)
        for group in by_sentence.values():
            self._attach(group["FINDING"], group["ANATOMY"], group["MEASUREMENT"], group["LATERALITY"])
        return doc

    @staticmethod
    def _attach(findings: list[Span], anatomy: list[Span], measurements: list[Span], sides: list[Span]) -> None:
        for measurement in measurements:
            finding = _nearest(measurement, findings, findings, 2 * LOCATION_WINDOW)
            if finding is not None and not finding._.hilum_measurement_mm:
                finding._.hilum_measurement_mm = list(measurement._.hilum_measurement_mm or [])
        for ent in anatomy:
            ent._.hilum_laterality = laterality_of(expand(ent) or ent.text)
        for finding in findings:
            location = _nearest(finding, anatomy, findings, LOCATION_WINDOW)
            finding._.hilum_location = [location.text] if location is not None else []
            side = laterality_of(expand(finding) or finding.text)
            if side is None and location is not None:
                side = location._.hilum_laterality
            if side is None:
                word = _nearest(finding, sides, findings, LATERALITY_WINDOW)
                side = laterality_of(expand(word) or word.text) if word is not None else None
            finding._.hilum_laterality = side


@Language.factory("hilum_measurements")
def make_measurements(nlp: Language, name: str) -> MeasurementAnnotator:
    """Factory of the `hilum_measurements` component."""
    register()
    return MeasurementAnnotator()


@Language.factory("hilum_modifiers")
def make_modifiers(nlp: Language, name: str) -> ModifierAnnotator:
    """Factory of the `hilum_modifiers` component."""
    register()
    return ModifierAnnotator()
