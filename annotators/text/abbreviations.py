"""Abbreviations (`hilum_abbreviations`): those a document defines, found by scispaCy's AbbreviationDetector
(`chronic obstructive pulmonary disease (COPD)`) and by `annotators.text.definitions` (the forms it misses:
`phenobarbital (PB, 15 mg/kg)`, `13-cis-retinoic acid (cis-RA)`, `myotonic dystrophy (DM)`), wherever the short
form recurs (plural or singular too); then unambiguous ones from `data/clinical_abbreviations.json` (`RUL` → right
upper lobe) and `data/pharmacology_abbreviations.json` (`DMSO`, `5-HT`, element symbols and simple formulas).
A document's own definition always wins over the tables. The text is never changed: the long forms go to
`doc._.hilum_expansions` (start character of a token → long form; the further tokens of a short form of several
tokens map to "") and the linker looks concepts up by them.
"""

import json
import re
import warnings
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from annotators.text.definitions import find_definitions, occurrences, variants
from annotators.text.errors import PipelineConfigError
from annotators.text.extensions import register

ABBREVIATIONS_FILE = Path(__file__).parent / "data" / "clinical_abbreviations.json"
PHARMACOLOGY_FILE = Path(__file__).parent / "data" / "pharmacology_abbreviations.json"
NUMBERED = {"type", "types", "grade", "stage", "class", "phase", "factor", "group", "level", "cranial"}
ROMAN = re.compile(r"[IVX]+[a-dA-D]?")
ELEMENT = re.compile(r"[A-Z][a-z]?")
ION = re.compile(r"([A-Z][a-z]?)(?:\(\d?[+-]?|\d?[+-]|\d)$")


@lru_cache(maxsize=4)
def clinical_expansions(path: Path = ABBREVIATIONS_FILE) -> dict[str, str]:
    """The clinical abbreviation → expansion table (validated: strings to non-empty strings)."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))["expansions"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PipelineConfigError(f"cannot read the clinical abbreviations {path}: {exc}") from exc
    if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in
                                              table.items()):  # fmt: skip
        raise PipelineConfigError(f"{path}: 'expansions' must map strings to non-empty strings")
    return table


class AbbreviationAnnotator:
    """Runs scispaCy's AbbreviationDetector, then adds clinical expansions for tokens it did not resolve."""

    def __init__(self, nlp: Language, detect_defined: bool = True) -> None:
        from scispacy.abbreviation import AbbreviationDetector

        self.detector = AbbreviationDetector(nlp) if detect_defined else None
        table = _tables()
        self.exact = {k: v for k, v in table.items() if " " not in k}
        self.upper = {k.upper(): v for k, v in self.exact.items() if len(k) >= 3 and k.upper() == k}
        self.elements = {k: v for k, v in self.exact.items() if ELEMENT.fullmatch(k)}

    def __call__(self, doc: Doc) -> Doc:
        """Set `doc._.hilum_expansions` (and scispaCy's `doc._.abbreviations`)."""
        expansions: dict[int, str] = {}
        if self.detector is not None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", r"\[W036\]", UserWarning)  # its optional global matcher
                self.detector(doc)
            defined = {
                short.text: short._.long_form.text
                for short in doc._.abbreviations
                if isinstance(short._.long_form, Span)
            }
            defined.update(find_definitions(doc, set(defined)))
            for short, long_form in defined.items():
                for form in variants(short):
                    for first, end in occurrences(doc, form):
                        if doc[first].idx not in expansions:
                            expansions[doc[first].idx] = long_form
                            expansions.update((token.idx, "") for token in doc[first + 1 : end])
        for token in doc:
            if token.idx in expansions or token.is_space or token.is_punct:
                continue
            if token.i > 0 and doc[token.i - 1].lower_ in NUMBERED and ROMAN.fullmatch(token.text):
                continue  # type IV, grade II: a numeral, not the abbreviation IV
            found = self.exact.get(token.text) or (self.upper.get(token.text) if token.is_upper else None)
            if not found and (ion := ION.match(token.text)):  # Na+, Ca2, K(+, Mg(2 (the tokenizer splits ions)
                found = self.elements.get(ion.group(1))
            if found:
                expansions[token.idx] = found
        doc._.hilum_expansions = expansions
        return doc


@lru_cache(maxsize=1)
def _tables() -> dict[str, str]:
    """The pharmacology table overlaid with the clinical one (the clinical sense wins)."""
    return {**clinical_expansions(PHARMACOLOGY_FILE), **clinical_expansions()}


def listed(text: str) -> str | None:
    """The long form the clinical or pharmacology table gives `text` as a whole, or None."""
    table = _tables()
    return table.get(text) or (table.get(text.upper()) if text.isupper() and len(text) >= 3 else None)


def expand(span: Span) -> str | None:
    """The span's text with its abbreviations replaced by their long forms; None when it has none."""
    expansions = span.doc._.hilum_expansions or {}
    if not expansions:
        return None
    parts, changed = [], False
    for token in span:
        long_form = expansions.get(token.idx)
        if long_form is not None:
            parts.append(long_form + token.whitespace_)
            changed = True
        else:
            parts.append(token.text_with_ws)
    return "".join(parts).strip() if changed else None


@Language.factory("hilum_abbreviations", default_config={"detect_defined": True})
def make_abbreviations(nlp: Language, name: str, detect_defined: bool) -> AbbreviationAnnotator:
    """Factory of the `hilum_abbreviations` component."""
    register()
    return AbbreviationAnnotator(nlp, detect_defined)
