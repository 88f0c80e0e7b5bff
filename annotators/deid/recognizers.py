"""The `name → class` registry of Hilum's PHI recognizers, and the post-filter for spaCy NER findings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from presidio_analyzer import RecognizerResult

from annotators.deid.base import VERSION, HilumRecognizer
from annotators.deid.lexicon import Lexicon
from annotators.deid.names import NameRecognizer
from annotators.deid.patterns import (
    AddressRecognizer,
    AgeRecognizer,
    DateRecognizer,
    DeviceRecognizer,
    IdRecognizer,
    LicenseRecognizer,
    PhoneRecognizer,
    ZipRecognizer,
)
from annotators.deid.places import InstitutionRecognizer, LocationRecognizer

__all__ = ["RECOGNIZERS", "VERSION", "filter_results"]

RECOGNIZERS: dict[str, type[HilumRecognizer]] = {
    cls.NAME: cls
    for cls in (
        DateRecognizer, AgeRecognizer, PhoneRecognizer, IdRecognizer, AddressRecognizer, ZipRecognizer,
        DeviceRecognizer, LicenseRecognizer, InstitutionRecognizer, LocationRecognizer, NameRecognizer,
    )
}  # fmt: skip

_WORD = re.compile(r"[A-Za-z]+")


def _ner_noise(text: str, lexicon: Lexicon) -> bool:
    """True when a spaCy NER span is made only of common words or short all-caps abbreviations."""
    words = _WORD.findall(text)
    if not words:
        return True
    for word in words:
        if lexicon.is_name(word) and len(word) > 2:
            return False
        if not lexicon.is_common(word) and not (word.isupper() and len(word) <= 4):
            return False
    return True


_URL_SHAPE = re.compile(
    r"https?://|www\.|[A-Za-z0-9\-]{2,}\.(?:com|org|net|edu|gov|mil|info|biz|io|us|uk|ca|de)\b", re.I
)


def filter_results(
    text: str, results: Iterable[RecognizerResult], lexicon: Lexicon
) -> Iterator[RecognizerResult]:
    """Drop spaCy NER findings that are clinical abbreviations or common words (`BNP`, `MD`, `Lasix`?)."""
    for res in results:
        meta = res.recognition_metadata or {}
        if meta.get(RecognizerResult.RECOGNIZER_NAME_KEY) == "SpacyRecognizer" and _ner_noise(
            text[res.start : res.end], lexicon
        ):
            continue
        if res.entity_type == "URL" and not _URL_SHAPE.search(text[res.start : res.end]):
            continue
        if res.entity_type == "PHONE_NUMBER" and _not_a_phone(text, res.start, res.end):
            continue
        yield res


_RANGE = re.compile(r"\d{2,4}\s?-\s?-?\d{1,4}")


def _not_a_phone(text: str, start: int, end: int) -> bool:
    """Presidio's phone finds also match blood pressures, gases and time ranges (`112-140/50-60`,
    `7.34/50/95/28`, `0600-0800`): a phone has no slash near it and is not a bare range of two numbers."""
    near = text[max(0, start - 2) : end + 2]
    span = text[start:end]
    return "/" in near or bool(_RANGE.fullmatch(span.strip())) or sum(c.isdigit() for c in span) < 7
