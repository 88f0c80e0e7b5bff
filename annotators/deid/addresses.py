"""Pattern recognizers for street addresses (US and international, address blocks over several lines) and ZIP
codes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from annotators.deid.base import HilumRecognizer, Hit, regex_hits
from annotators.deid.lexicon import Lexicon

_I = re.IGNORECASE
_STREET_ABBR = r"(?:st|ave|av|rd|blvd|ln|dr|ct|pl|pkwy|hwy|ter|cir|sq|trl|way)"
# Suffixes that only name streets; Faker's others (`Via`, `Well`, `Run`, `Point`, `Green`) need Title Case.
_STRONG_SUFFIX = (
    r"(?:street|avenue|road|boulevard|lane|drive|court|terrace|circle|parkway|highway|turnpike|pike|plaza|"
    r"st|ave|rd|blvd|ln|pkwy|hwy)"
)


# Street words that come before the name in many languages (`Rua do Sol 12`, `Via Roma 131`).
_STREET_FIRST = (
    r"(?:Rua|Rue|Via|Viale|Calle|Carrer|Avenida|Piazza|Strada|Ulica|ul\.|Rruga|Camino|Paseo|Travessa|Largo|"
    r"Avinguda|Plaza|Praça|Allee|Chemin|Boulevard)"
)
_WORD = r"[^\W\d_][\w'.\-]*"
_HOUSE = r"(?:(?<![\d.,/:\-])\d{1,6}[ \t]+)"
# A following line of an address block: a unit, a town, a region code, a postal code, a country.
_BLOCK_LINE = re.compile(r"[ \t]*\n[ \t]*(?:[>|?]+[ \t]*)?(?P<line>[\w'’.,()\- ]{1,40}?)[ \t]*(?=\n|\Z)")
_WORD_RE = re.compile(r"[^\W\d_]+")
_UNIT_TAIL = re.compile(r"[ \t,]*(?:(?:Apt|Apartment|Suite|Ste|Unit)\.?[ \t]*#?[ \t]*\w+[ \t,]*)*")
_NUMBERED_STREET = re.compile(
    r"(?<![\d.,/:\-])\d{1,6}(?:[ \t]+\d{1,5})?[ \t]+(?P<street>[^\W\d_][\w'\-]*(?:[ \t]+[^\W\d_][\w'\-]*){0,3}?)"
    r"[ \t]+\d{1,5}\b"
    r"(?![.:/%]|\s*(?:mg|ml|cc|mcg|units?|%|am|pm)\b)"
)


class AddressRecognizer(HilumRecognizer):
    """Street addresses (`12 Oak Street, Apt 4`) and PO boxes; street suffixes come from Faker."""

    NAME = "hilum_address"
    LABEL = "ADDRESS"

    def __init__(self, lexicon: Lexicon, language: str = "en") -> None:
        super().__init__(lexicon, language)
        suffixes = "|".join(sorted((re.escape(s) for s in lexicon.street_suffixes), key=len, reverse=True))
        unit = r"(?:,?\s*(?:apt|apartment|suite|ste|unit|fl|floor|#)\.?\s*#?\s*[\w\-]+)?"
        num = r"(?<![\d.,/:\-])\d{1,6}[A-Za-z]?"
        title = r"(?:\s+(?:[NSEW]\.?|[A-Z][a-z'\-]+|\d+(?:st|nd|rd|th)))"
        title_sfx = "|".join(sorted({s.title() for s in suffixes.split("|")}, key=len, reverse=True))
        self._patterns = [
            (re.compile(rf"{num}{title}{{1,4}}?\s+(?:{title_sfx})\b\.?{unit}"), 0.7),
            (re.compile(rf"{num}(?:\s+[A-Za-z][A-Za-z'\-]+){{1,3}}?\s+{_STRONG_SUFFIX}\b\.?{unit}", _I), 0.7),
            (re.compile(rf"{num}{title}{{1,3}}\s+{_STREET_ABBR.title()}\b\.?{unit}"), 0.7),
            (re.compile(r"\bp\.?\s?o\.?\s*box\s+\d+", _I), 0.8),
            (re.compile(rf"{_HOUSE}?\b{_STREET_FIRST}\s+(?:{_WORD}\s+){{0,4}}\d{{1,5}}[A-Za-z]?\b"), 0.7),
            (re.compile(r"\b(?:Apt|APT|Apartment|Suite|SUITE|Ste)\.?\s*#?\s*\d{1,5}[A-Za-z]?\b"), 0.6),
            (re.compile(r"\b(?:PSC|CMR|Unit)\s+\d{3,5},\s*Box\s+\d{3,5}(?:\s+[AF]PO\s+A[AEP]\s+\d{5})?"), 0.8),
        ]

    def find(self, text: str) -> Iterable[Hit]:
        """Address hits: the patterns above, and a house number, proper street words and a number
        (`2456 Koskikatu 25`, the European order), where the street words are no English or clinical words."""
        for start, end, score in regex_hits(self._patterns, text):
            yield start, self._block_end(text, end), score
        for match in _NUMBERED_STREET.finditer(text):
            words = _WORD_RE.findall(match.group("street"))
            long = [w for w in words if len(w) > 2]
            if long and all(
                w[0].isupper() and not w.isupper() and not self.lexicon.is_common(w) and not self.lexicon.is_medical(w)
                for w in long
            ):
                yield match.start(), self._block_end(text, match.end()), 0.6

    @staticmethod
    def _block_end(text: str, end: int) -> int:
        """End of the address block that a street line ending at `end` opens: up to four following short
        lines (unit, town, region, postal code, country), when the street line ends there."""
        rest = text[end : end + 60]
        line_end = rest.find("\n")
        if line_end < 0 or rest[:line_end].strip(" ,\t") and not _UNIT_TAIL.fullmatch(rest[:line_end]):
            return end
        end += len(rest[:line_end].rstrip(" ,\t"))
        for _ in range(4):
            match = _BLOCK_LINE.match(text, end)
            if not match or not match.group("line").strip(" ,"):
                break
            end = match.end("line")
        return end


class ZipRecognizer(HilumRecognizer):
    """ZIP codes after a state or with context (`MD 21201`, `zip: 21201`, `21201-1234`); after an explicit
    "zip"/"postal code" also the shapes of other countries' postal codes (`3520`, `394 13`, `53-320`)."""

    NAME = "hilum_zip"
    LABEL = "ZIP"

    def __init__(self, lexicon: Lexicon, language: str = "en") -> None:
        super().__init__(lexicon, language)
        abbrs = "|".join(sorted(lexicon.state_abbrs))
        names = "|".join(sorted(re.escape(s) for s in lexicon.states))
        zip5 = r"(?P<phi>\d{5}(?:-\d{4})?)(?!\d)"
        self._patterns = [
            (re.compile(rf"\b(?:{abbrs}),?\s+{zip5}"), 0.85),
            (re.compile(rf"\b(?:{names}),?\s+{zip5}", _I), 0.85),
            (re.compile(rf"\b(?:zip|zipcode|zip\s+code|postal\s+code)\s*[:#]?\s*{zip5}", _I), 0.85),
            (
                re.compile(
                    r"\b(?:zip|zipcode|zip\s+code|postal\s+code|postcode)\s*(?:is\s+|[:#]\s*)"
                    r"(?P<phi>(?=[A-Z]*\d)[A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?)\b",
                    _I,
                ),
                0.8,
            ),
            (re.compile(r"(?<![\d\-])\d{5}-\d{4}(?![\d\-])"), 0.6),
        ]

    def find(self, text: str) -> Iterable[Hit]:
        """ZIP hits."""
        return regex_hits(self._patterns, text)
