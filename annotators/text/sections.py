"""Sentences and sections of radiology reports and nursing notes (`hilum_sentences`, `hilum_sections`).

Sentences end at `.`, `!`, `?` and `;` (telegraphic notes), at a section header's colon, and at a line break
when the next line starts a new unit (a capital, a list bullet or number, a header) or the line before ended
with punctuation; a line wrapped in the middle of a sentence stays one sentence; a list number (`1.`) at the
start of a line belongs to the sentence after it. Section headers are known
names (`SECTION_NAMES`) at the start of a line or sentence followed by `:` (`FINDINGS:`, `Impression:`,
`Past medical history:`) or alone on a line in capitals (`FINDINGS`).
"""


import re

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from annotators.text.extensions import Section, register

SECTION_NAMES: dict[str, tuple[str, ...]] = {
    "indication": ("indication", "indications", "clinical indication", "reason for exam", "reason for study",
                   "reason for examination", "clinical information", "clinical data", "reason"),
    "history": ("history", "clinical history", "hx", "hpi", "history of present illness", "brief history"),
    "past_medical_history": ("past medical history", "pmh", "past history", "medical history", "pmhx"),
    "family_history": ("family history", "fh", "fhx"),
    "social_history": ("social history", "sh", "social"),
    "comparison": ("comparison", "comparisons", "prior studies", "prior exam", "prior examination"),
    "technique": ("technique", "procedure", "examination", "exam", "views", "study"),
    "findings": ("findings", "finding", "report", "description"),
    "impression": ("impression", "impressions", "conclusion", "conclusions", "summary", "opinion", "diagnosis",
                   "assessment"),
    "medications": ("medications", "meds", "current medications", "medication", "home medications"),
    "allergies": ("allergies", "allergy", "nka", "nkda"),
    "plan": ("plan", "recommendation", "recommendations", "follow up", "follow-up"),
    "neuro": ("neuro", "neurologic", "neurological", "cns"),
    "cardiovascular": ("cv", "cardiovascular", "cardiac", "cvs"),
    "respiratory": ("resp", "respiratory", "pulm", "pulmonary", "lungs"),
    "gastrointestinal": ("gi", "gastrointestinal", "abd", "abdomen"),
    "genitourinary": ("gu", "genitourinary", "renal"),
    "skin": ("skin", "integ", "integumentary"),
}  # fmt: skip
_ALIASES = {alias: name for name, aliases in SECTION_NAMES.items() for alias in aliases}
_HEADER_WORDS = "|".join(sorted((re.escape(a) for a in _ALIASES), key=len, reverse=True))
HEADER_RE = re.compile(
    rf"(?:^|(?<=\n)|(?<=[.;]\s)|(?<=[.;]))[ \t\-*•]*(?P<name>{_HEADER_WORDS})[ \t]*(?::|(?=[ \t]*\n))",
    re.IGNORECASE,
)
_BOUNDARY = {".", "!", "?", ";"}


def find_sections(text: str) -> list[Section]:
    """The sections of `text`, in order; a header without a colon counts only when it is all capitals."""
    found: list[Section] = []
    for match in HEADER_RE.finditer(text):
        name = match.group("name")
        has_colon = match.group(0).rstrip().endswith(":")
        if not has_colon and not name.isupper():
            continue
        if found:
            found[-1] = found[-1]._replace(end=match.start("name"))
        found.append(Section(_ALIASES[name.lower()], match.start("name"), match.end(), match.end(), len(text)))
    return found


class SentenceAnnotator:
    """Rule-based sentence boundaries for clinical text (see the module docstring)."""

    def __call__(self, doc: Doc) -> Doc:
        """Set the sentence starts of `doc` (all at once: per-token setting is quadratic in spaCy)."""
        if len(doc) == 0:
            return doc
        text = doc.text
        starts = numpy.full((len(doc), 1), -1, dtype="int64").astype("uint64")
        starts[0] = 1
        previous_end = True
        for token in doc[1:]:
            before = doc[token.i - 1]
            start = before.text in _BOUNDARY and not token.is_punct and not _list_number(doc, before.i)
            if before.text == ":" and token.is_space:
                start = False
            if before.is_space and "\n" in before.text:
                start = previous_end or "\n\n" in before.text or not token.is_lower
            elif "\n" in before.whitespace_:
                start = previous_end or not token.is_lower
            if before.text == ":" and not token.is_space and _is_header(text, before.idx):
                start = True
            if start:
                starts[token.i] = 1
            if not token.is_space:
                previous_end = token.text in _BOUNDARY or token.text == ":"
        doc.from_array([SENT_START], starts)  # type: ignore[arg-type]
        return doc


def _list_number(doc: Doc, period: int) -> bool:
    """Whether the `.` at token `period` closes a list number at the start of a line (`1.`)."""
    if period == 0 or not doc[period - 1].like_num or len(doc[period - 1]) > 2:
        return False
    number = period - 1
    return number == 0 or doc[number - 1].is_space or "\n" in doc[number - 1].whitespace_


def sentence_ids(doc: Doc) -> list[int]:
    """The index of the sentence of each token."""
    ids = [0] * len(doc)
    for number, sent in enumerate(doc.sents):
        ids[sent.start : sent.end] = [number] * (sent.end - sent.start)
    return ids


def _is_header(text: str, colon: int) -> bool:
    """Whether the colon at character `colon` closes a section header."""
    line_start = max(text.rfind("\n", max(0, colon - 60), colon) + 1, colon - 60)
    words = text[line_start:colon].strip(" \t-*•").lower()
    return words in _ALIASES


class SectionAnnotator:
    """Finds section headers and stores `doc._.hilum_sections`; spans read `span._.hilum_section`."""

    def __call__(self, doc: Doc) -> Doc:
        """Set `doc._.hilum_sections`."""
        doc._.hilum_sections = find_sections(doc.text)
        return doc


@Language.factory("hilum_sentences")
def make_sentences(nlp: Language, name: str) -> SentenceAnnotator:
    """Factory of the `hilum_sentences` component."""
    register()
    return SentenceAnnotator()


@Language.factory("hilum_sections")
def make_sections(nlp: Language, name: str) -> SectionAnnotator:
    """Factory of the `hilum_sections` component."""
    register()
    return SectionAnnotator()
