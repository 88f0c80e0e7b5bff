"""The `name → class` registry of Hilum's PHI recognizers, and the post-filter for Presidio's findings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from presidio_analyzer import RecognizerResult

from annotators.deid.addresses import AddressRecognizer, ZipRecognizer
from annotators.deid.base import VERSION, HilumRecognizer
from annotators.deid.cues import ContextNameRecognizer
from annotators.deid.names import NameRecognizer
from annotators.deid.patterns import (
    AgeRecognizer,
    DateRecognizer,
    DeviceRecognizer,
    IdRecognizer,
    LicenseRecognizer,
    PhoneRecognizer,
)
from annotators.deid.places import InstitutionRecognizer, LocationRecognizer

__all__ = ["RECOGNIZERS", "VERSION", "filter_results"]

RECOGNIZERS: dict[str, type[HilumRecognizer]] = {
    cls.NAME: cls
    for cls in (
        DateRecognizer, AgeRecognizer, PhoneRecognizer, IdRecognizer, AddressRecognizer, ZipRecognizer,
        DeviceRecognizer, LicenseRecognizer, InstitutionRecognizer, LocationRecognizer, NameRecognizer,
        ContextNameRecognizer,
    )
}  # fmt: skip

# A URL has a scheme, `www.` or a generic top-level domain; a bare two-letter country domain is a sentence
# run together in a note (`anxious.denies`, `OH.cath`), not a web address.
_URL_SHAPE = re.compile(r"https?://|www\.|[A-Za-z0-9\-]{2,}\.(?:com|org|net|edu|gov|mil|info|biz|io)\b", re.I)


def filter_results(text: str, results: Iterable[RecognizerResult]) -> Iterator[RecognizerResult]:
    """Drop Presidio findings that are clinical text: URLs without a URL's shape, phones that are ranges or
    blood gases, IP addresses inside a blood gas (`80/48/7.45.34.7`)."""
    for res in results:
        if res.entity_type == "URL" and not _URL_SHAPE.search(text[res.start : res.end]):
            continue
        if res.entity_type == "IP_ADDRESS" and text[max(0, res.start - 1) : res.start] == "/":
            continue
        if res.entity_type == "PHONE_NUMBER" and _not_a_phone(text, res.start, res.end):
            continue
        yield res


_RANGE = re.compile(r"\d{2,4}\s?-\s?-?\d{1,4}")
# A pH or a decimal value (`7.38`), a double dash or a sentence break: a blood gas or a list of values.
_NOT_PHONE_PART = re.compile(r"(?<![\d.])\d{1,2}\.\d{1,2}(?![\d.])|--|\.\s")


def _not_a_phone(text: str, start: int, end: int) -> bool:
    """Presidio's phone finds also match blood pressures, gases and time ranges (`112-140/50-60`,
    `7.34/50/95/28`, `0600-0800`, `169-33-7.38-20--4`): a phone has no slash near it, is not a bare range of
    two numbers and holds no decimal value."""
    near = text[max(0, start - 2) : end + 2]
    span = text[start:end]
    if "/" in near or _RANGE.fullmatch(span.strip()) or _NOT_PHONE_PART.search(span):
        return True
    return sum(c.isdigit() for c in span) < 7
