"""Abbreviations (`hilum_abbreviations`): those a document defines, found by scispaCy's AbbreviationDetector
(`chronic obstructive pulmonary disease (COPD)`), and unambiguous clinical ones from
`data/clinical_abbreviations.json` (`RUL` → right upper lobe). The text is never changed: the long forms go to
`doc._.hilum_expansions` (start character → long form) and the linker looks concepts up by them.
"""

import json
import warnings
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from annotators.text.errors import PipelineConfigError
from annotators.text.extensions import register

ABBREVIATIONS_FILE = Path(__file__).parent / "data" / "clinical_abbreviations.json"


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
        table = clinical_expansions()
        self.exact = {k: v for k, v in table.items() if " " not in k}
        self.upper = {k.upper(): v for k, v in self.exact.items() if len(k) >= 3 and k.upper() == k}

    def __call__(self, doc: Doc) -> Doc:
        """Set `doc._.hilum_expansions` (and scispaCy's `doc._.abbreviations`)."""
        expansions: dict[int, str] = {}
        if self.detector is not None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", r"\[W036\]", UserWarning)  # its optional global matcher
                self.detector(doc)
            for short in doc._.abbreviations:
                long_form = short._.long_form
                if isinstance(long_form, Span):
                    expansions[short.start_char] = long_form.text
        for token in doc:
            if token.idx in expansions or token.is_space or token.is_punct:
                continue
            found = self.exact.get(token.text) or (self.upper.get(token.text) if token.is_upper else None)
            if found:
                expansions[token.idx] = found
        doc._.hilum_expansions = expansions
        return doc


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
