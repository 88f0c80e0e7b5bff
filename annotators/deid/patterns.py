"""Pattern recognizers for structured PHI: dates, ages over 89, phones, IDs, devices and licences (addresses
and ZIP codes: `annotators.deid.addresses`).

Each pattern encodes how clinicians write the identifier (e.g. `7/22`, `7-22-04`, `July 22nd`, `22-Jul`,
`the 22nd`, `'95`, `MI 1992`); a named group `phi` marks the part to redact when context surrounds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from annotators.deid.base import HilumRecognizer, Hit, regex_hits

_I = re.IGNORECASE
_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MON_ALONE = r"(?:january|february|march|april|june|july|august|september|sept|october|november|december)"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH_NUM = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:(?:19|20)\d{2}|\d{2})"
_ORD = r"(?:st|nd|rd|th)"
_UNITS = r"(?:mg|mcg|ml|cc|l|g|kg|units?|u|hrs?|h|min|mins|minutes|hours?|days?|%|mm|cm|mmhg|meq|x|times)"
_NOT_ORDINAL_NOUN = (
    r"(?!\s*(?:floor|ics|intercostal|grade|degree|time|dose|cranial|nerve|toe|finger|rib|ventricle"
    r"|generation|percentile|trimester|heart sound|hd|day|pod|week|attempt|step|trial|set|line|lumen|lead|cycle))"
)
# A numeric date is not part of a longer number, range or ratio; a dash or colon right before it is a
# separator only after a word (`TOXICITY-9/2/92`, `HX:8/30`), a dash after it only before a non-digit (`3/16->`).
_DATE_START = r"(?<![\d/.'])(?<![\d/.%][:\-])"
_DATE_END = r"(?![/\d]|-\d|\.\d)"
_DATE_PATTERNS = [
    (re.compile(rf"{_DATE_START}(?:{_MONTH_NUM}/{_DAY}(?:[/\-.]{_YEAR})?){_DATE_END}"), 0.85),
    (re.compile(rf"{_DATE_START}(?:{_MONTH_NUM}-{_DAY}[\-.]{_YEAR}){_DATE_END}"), 0.85),
    (re.compile(rf"(?<![\d/.:])(?:{_MONTH_NUM}/(?:[4-9]\d|(?:19|20)\d\d))(?![/\d])"), 0.7),
    (
        re.compile(
            r"(?<![\d/.])(?:19|20)\d{2}[/\-](?:0?[1-9]|1[0-2])[/\-]" + _DAY + r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?(?!\d)"
        ),
        0.9,
    ),
    (re.compile(rf"\b{_DAY}{_ORD}?[\s\-]{_MON}(?:[\s\-,]+{_YEAR})?(?![a-z])", _I), 0.85),
    (re.compile(rf"\b{_MON}[\s\-]+{_DAY}{_ORD}?(?:,?\s+{_YEAR})?\b(?!\s*{_UNITS}\b)", _I), 0.85),
    (re.compile(rf"\b{_MON},?\s+(?:of\s+)?(?:19|20|')?\d{{2}}\b(?!\s*{_UNITS}\b)", _I), 0.8),
    (re.compile(rf"\b{_MON_ALONE}\b", _I), 0.7),
    (re.compile(r"\b(?:jan|feb|apr|aug|oct|nov)\.?(?=\s|,|$)"), 0.5),
    (re.compile(rf"\b(?:the|on|since|until|by)\s+(?P<phi>{_DAY}{_ORD})\b{_NOT_ORDINAL_NOUN}", _I), 0.6),
    (re.compile(r"(?<![\w'])'(?:\d{2})\b"), 0.75),
    (
        re.compile(
            r"\b(?:dx|dx'd|diagnosed|mi|cabg|cva|ptca|pci|stent|pacer|repair|replacement|"
            r"removal|surgery|tia|chf|ca|avr|mvr|aicd|ppm|hx|s/p|[a-z]+(?:ectomy|otomy|ostomy|plasty))\s+(?:in\s+)?"
            r"(?P<phi>(?:19|20)?\d{2})\b"
            rf"(?![.:/]\d|\s*(?:-\s*\d|{_UNITS}\b|yo\b|y/o|yr|year|old|%))",
            _I,
        ),
        0.5,
    ),
]
_YEAR4 = re.compile(r"(?<![\d.:/\-#])(?:19[3-9]\d|20[0-3]\d)(?:'?s\b)?(?![\d:]|\.\d)", _I)
_NOT_YEAR_BEFORE = re.compile(
    r"(?:\bat|@|~|\bby|\bfrom|\bto|\buntil|\btill|\bbetween|\bq|-|>|\bx|\bof|\bapprox|\baprox|\bdue|\bcpks?)\s*\Z",
    _I,
)
_NOT_YEAR_AFTER = re.compile(rf"\A\s*(?:-|to\b|{_UNITS}\b|am\b|pm\b|hours?\b|hrs?\b|cal|kcal)", _I)


# Ventilator modes, `x` (times), strengths and rates before a fraction; `R AC` is the antecubital fossa.
_NOT_DATE_BEFORE = re.compile(
    r"\b(?:peep|ps|psv|cpap|bipap|ipap|epap|ips|eps|(?<!\b[rl]\s)ac|imv|simv|x|strength|rate|ratio|bp|dose)[\s:]*\Z",
    _I,
)
_NOT_DATE_AFTER = re.compile(
    rf"\A\s*(?:strength|ns|{_UNITS}\b|bipap|cpap|peep|ps\b|/?\d*\s*%|ips|psv|sem\b|hsm\b|murmur)", _I
)
# Ventilator settings (`CPAP 5/5`, `PSV 10/5/40%`) and pain scores (`CP 4/10`, `8/10 pain`) near the fraction.
_VENT_BEFORE = re.compile(
    r"(?:peep|\bps|psv|cpap|bi-?pap|ipap|epap|\bips|\beps|\bimv|simv|mask ventilation|flowby|settings|"
    r"weaning trial)(?:[^.;|\n]|\.\d){0,30}\Z",
    _I,
)
_PAIN = re.compile(r"(?:pain|\bcp\b|discomfort|pressure|scale|c/o|angina|rates?)[^.;|\n]{0,20}\Z", _I)
_PAIN_AFTER = re.compile(r"\A\s*(?:pain|cp\b|incisional|chest|mediastinal|angina|discomfort)", _I)
_FRACTIONS = frozenset({"1/2", "1/3", "2/3", "1/4", "3/4", "1/8"})


class DateRecognizer(HilumRecognizer):
    """Dates in every clinical form, and years (HIPAA: all date elements but the year are PHI; the
    nursing-note convention also removes years, which this recognizer follows)."""

    NAME = "hilum_date"
    LABEL = "DATE"

    @staticmethod
    def _setting_or_score(text: str, start: int, end: int) -> bool:
        """A ventilator setting, a pain score or a dose, not a date."""
        if _NOT_DATE_AFTER.match(text[end : end + 10]):
            return True
        before = text[max(0, start - 30) : start]
        if text[start:end].endswith("/10") and (_PAIN.search(before) or _PAIN_AFTER.match(text[end : end + 15])):
            return True
        parts = re.split(r"[/\-.]", text[start:end])
        small = len(parts) > 1 and parts[1].isdigit() and int(parts[1]) <= 20
        return small and bool(_VENT_BEFORE.search(before))

    def find(self, text: str) -> Iterable[Hit]:
        """Date and year hits."""
        for start, end, score in regex_hits(_DATE_PATTERNS, text):
            if text[start:end] in _FRACTIONS or _NOT_DATE_BEFORE.search(text[max(0, start - 10) : start]):
                continue
            if "/" in text[start:end] and self._setting_or_score(text, start, end):
                continue
            yield start, end, score
        for match in _YEAR4.finditer(text):
            before = text[max(0, match.start() - 12) : match.start()]
            after = text[match.end() : match.end() + 10]
            if _NOT_YEAR_BEFORE.search(before) or _NOT_YEAR_AFTER.match(after):
                continue
            yield match.start(), match.end(), 0.6


_AGE_NUM = r"(?:9\d|1[0-2]\d)"
_AGE_PATTERNS = [
    (
        re.compile(
            rf"(?<![\d.])(?P<phi>{_AGE_NUM})(?=\s*-?\s*(?:yo|y/o|y\.o\.?|yr|yrs|year|years|y\b|yom|yof|yoM|yoF)"
            r"(?:\b|\s|-|$))",
            _I,
        ),
        0.85,
    ),
    (re.compile(rf"\b(?:age|aged|age:)\s*(?P<phi>{_AGE_NUM})\b", _I), 0.85),
    (
        re.compile(r"\b(?:ninety|one hundred)[\s\-]?(?:one|two|three|four|five|six|seven|eight|nine)?\b", _I),
        0.6,
    ),
]


class AgeRecognizer(HilumRecognizer):
    """Ages over 89 (`98 yo`, `age 93`, `ninety-two`); younger ages are not PHI under Safe Harbor."""

    NAME = "hilum_age"
    LABEL = "AGE"

    def find(self, text: str) -> Iterable[Hit]:
        """Age hits."""
        return regex_hits(_AGE_PATTERNS, text)


_PHONE_PATTERNS = [
    (re.compile(r"(?<![\d/.\-])(?:\+?1[\s.\-]?)?\(?\d{3}\)?[\s.\-]{0,2}\d{3}[\s.\-]?\d{4}(?![\d/])"), 0.75),
    (re.compile(r"(?<![\d/.\-])\d{3}[.\-]\d{4}(?![\d/.])"), 0.5),
    (re.compile(r"\((?P<phi>\d{3}[\s.\-]\d{3}[\s.\-]\d{4,5})\)"), 0.6),
    (
        re.compile(
            r"\b(?:pager|page|pg|beeper|bpr|ext|extension|phone|tel|cell|fax|home|work|office)\s*(?:#|no\.?|number|num)?"
            r"\s*[:\-]?\s*(?P<phi>\d[\d\s\-]{3,14}\d)\b",
            _I,
        ),
        0.7,
    ),
]


class PhoneRecognizer(HilumRecognizer):
    """Phone, fax and pager numbers, with or without area code."""

    NAME = "hilum_phone"
    LABEL = "PHONE"

    def find(self, text: str) -> Iterable[Hit]:
        """Phone hits."""
        return regex_hits(_PHONE_PATTERNS, text)


_CODE = r"(?=[\w\-]*\d)[A-Za-z0-9][\w\-]{3,}"
_ID_PATTERNS = [
    (
        re.compile(
            r"\b(?:mrn|mr#|medical\s+record|unit|acct|account|accession|acc|ref|reference|case|claim|policy|"
            r"member|patient|pt|id|record|encounter|visit|fin|csn|specimen|order|insurance|medicaid|"
            r"medicare|subscriber|group|health\s+plan|beneficiary|certificate)\s*(?:number|no\.?|num|#|id)?"
            rf"\s*[:#]\s*(?P<phi>{_CODE})",
            _I,
        ),
        0.8,
    ),
    (re.compile(rf"\b(?:mrn|acct|accession)\s+(?P<phi>{_CODE})", _I), 0.8),
    (re.compile(rf"#\s*(?P<phi>{_CODE})"), 0.6),
    (re.compile(r"(?<![\d.,/:\-])\d{7,}(?![\d.,/]\d)"), 0.55),
    (re.compile(r"\b[A-Z]{1,3}-?\d{6,}\b"), 0.5),
]


class IdRecognizer(HilumRecognizer):
    """Medical record, account, accession, insurance and other reference numbers (patterns + context)."""

    NAME = "hilum_id"
    LABEL = "ID"

    def find(self, text: str) -> Iterable[Hit]:
        """ID hits."""
        return regex_hits(_ID_PATTERNS, text)


_DEVICE_PATTERNS = [
    (
        re.compile(
            r"\b(?:serial|s/n|sn|model|lot|device|udi|imei|implant|pacemaker|icd|generator|pump)\s*"
            rf"(?:number|no\.?|#|id)?\s*[:#]?\s*(?P<phi>{_CODE})",
            _I,
        ),
        0.6,
    ),
]


class DeviceRecognizer(HilumRecognizer):
    """Device identifiers and serial numbers (`serial no. AB12345`, `S/N 4471-22`, `UDI: (01)...`)."""

    NAME = "hilum_device"
    LABEL = "DEVICE_ID"

    def find(self, text: str) -> Iterable[Hit]:
        """Device-identifier hits (a code with at least one digit after a device word)."""
        for start, end, score in regex_hits(_DEVICE_PATTERNS, text):
            if not re.fullmatch(r"\d{1,3}", text[start:end]):
                yield start, end, score


_LICENSE_PATTERNS = [
    (
        re.compile(
            r"\b(?:licen[cs]e|lic|plates?|tag|dl|driver'?s?\s+licen[cs]e|registration|dea|npi|vin)\s*"
            rf"(?:plate|number|no\.?|#)?\s*[:#]?\s*(?P<phi>{_CODE})",
            _I,
        ),
        0.7,
    ),
]


class LicenseRecognizer(HilumRecognizer):
    """Licence, certificate, vehicle plate and VIN numbers after their keyword."""

    NAME = "hilum_license"
    LABEL = "LICENSE"

    def find(self, text: str) -> Iterator[Hit]:
        """Licence / plate hits."""
        yield from regex_hits(_LICENSE_PATTERNS, text)
