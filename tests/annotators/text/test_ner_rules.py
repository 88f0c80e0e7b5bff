"""Rules of the entity combiner (`annotators.text.ner`): placeholders are no entities, leading negation words
leave the model's spans (but `NO`, nitric oxide, stays a chemical), and a model span made of describing words plus
a lexicon span gives way to the lexicon span. Table-driven over tiny token lists."""

from __future__ import annotations

from typing import Any

import pytest
import spacy
from spacy.tokens import Span

from annotators.text.combine import _described_lexicon
from annotators.text.ner import _placeholder, _without_negation


@pytest.fixture(scope="module")
def nlp() -> Any:
    return spacy.blank("en")


@pytest.mark.parametrize(("text", "expected"), [
    ("XXXX", True), ("xxx XXXX", True), ("XX", False), ("XXXX disease", False), ("AAA", False), ("HD", False),
    ("pneumothorax", False), ("XXL", False),
])  # fmt: skip
def test_placeholder(nlp: Any, text: str, expected: bool) -> None:
    doc = nlp(text)
    assert _placeholder(doc[:]) is expected


# (text, the model span's token range, laterality tokens, anatomy tokens, lexicon spans, expected)
DESCRIBED = [
    ("left pleural effusion", (0, 3), {0}, set(), {(1, 3)}, True),
    ("Small left pneumothorax", (0, 3), {1}, set(), {(2, 3)}, True),
    ("acute cardiopulmonary abnormality", (0, 3), set(), set(), {(2, 3)}, True),
    ("RUL nodule", (0, 2), set(), {0}, {(0, 1), (1, 2)}, True),
    ("breast cancer", (0, 2), set(), {0}, {(0, 1), (1, 2)}, False),  # anatomy words name the finding
    ("familial breast cancer", (0, 3), set(), {1}, {(2, 3)}, False),
    ("acute renal failure", (0, 3), set(), {1}, {(1, 2)}, False),  # no lexicon span at the end
    ("small bowel obstruction", (0, 3), set(), set(), set(), False),
]


@pytest.mark.parametrize(("text", "span", "sides", "body", "lexicon", "expected"), DESCRIBED)
def test_described_lexicon(nlp: Any, text: str, span: tuple[int, int], sides: set[int], body: set[int],
                           lexicon: set[tuple[int, int]], expected: bool) -> None:  # fmt: skip
    doc = nlp(text)
    assert _described_lexicon(Span(doc, *span, label="FINDING"), sides, body, lexicon) is expected


@pytest.mark.parametrize(("text", "span", "label", "expected"), [
    ("No edema was seen", (0, 2), "FINDING", "edema"),
    ("without aura", (0, 2), "FINDING", "aura"),
    ("no", (0, 1), "FINDING", None),
    ("levels of NO rose", (2, 3), "CHEMICAL", "NO"),
    ("NO EFFUSION", (0, 1), "CHEMICAL", None),  # written in capitals: the negation
    ("NO synthase", (0, 2), "FINDING", "synthase"),
])  # fmt: skip
def test_without_negation(nlp: Any, text: str, span: tuple[int, int], label: str, expected: str | None) -> None:
    found = _without_negation(Span(nlp(text), *span, label=label))
    assert (found.text if found is not None else None) == expected
