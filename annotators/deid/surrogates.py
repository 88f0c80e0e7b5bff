"""Transformations applied on export: tags (`[NAME]`) or consistent surrogates keyed by a secret and
a patient.

The same (secret, patient key, label, normalised value) always gives the same surrogate, so a name, MRN or
phone stays linkable across a patient's documents without being recoverable. Dates move by one per-patient
offset (intervals are kept); ages over 89 become `90+`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Protocol

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_NUMERIC_DATE = re.compile(r"\A(\d{1,2})([/\-.])(\d{1,2})(?:([/\-.])(\d{2}|\d{4}))?\Z")
_MONTH_DATE = re.compile(r"\A([A-Za-z]+)\.?\s+(\d{1,2})(st|nd|rd|th)?(,?\s+(\d{4}))?\Z")
_YEAR = re.compile(r"\A'?(\d{2}|\d{4})\Z")


class SpanLike(Protocol):
    """Anything with `start`, `end` and `label` (a `PhiSpan`, or a stored annotation)."""

    start: int
    end: int
    label: str


def _digest(secret: str, *parts: str) -> bytes:
    return hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()


def date_offset(secret: str, patient_key: str, max_days: int = 365) -> int:
    """The per-patient date shift in days (never 0), stable for a (secret, patient key)."""
    value = int.from_bytes(_digest(secret, "date-offset", patient_key)[:4], "big")
    return -(1 + value % max_days)


def _shift_date(value: str, days: int) -> str | None:
    match = _NUMERIC_DATE.match(value)
    if match:
        month, sep, day, sep2, year = match.groups()
        y = int(year) if year else 2001
        y = y + 2000 if year and len(year) == 2 and y < 50 else (y + 1900 if year and len(year) == 2 else y)
        try:
            new = dt.date(y, int(month), int(day)) + dt.timedelta(days=days)
        except ValueError:
            return None
        out = f"{new.month}{sep}{new.day}"
        if year:
            out += f"{sep2}{new.year % 100:02d}" if len(year) == 2 else f"{sep2}{new.year}"
        return out
    match = _MONTH_DATE.match(value)
    if match and match.group(1)[:3].lower() in _MONTHS:
        month = _MONTHS.index(match.group(1)[:3].lower()) + 1
        year = int(match.group(5)) if match.group(5) else 2001
        try:
            new = dt.date(year, month, int(match.group(2))) + dt.timedelta(days=days)
        except ValueError:
            return None
        out = f"{new.strftime('%B')} {new.day}"
        return out + (f", {new.year}" if match.group(5) else "")
    match = _YEAR.match(value)
    if match:
        year = int(match.group(1))
        shifted = (dt.date(year if year > 99 else 2001, 6, 30) + dt.timedelta(days=days)).year
        return str(shifted) if year > 99 else value  # a bare 2-digit year is kept only if unchanged
    return None


def _pick(secret: str, patient_key: str, label: str, value: str, choices: Sequence[str]) -> str:
    idx = int.from_bytes(_digest(secret, patient_key, label, value.lower())[:8], "big")
    return choices[idx % len(choices)]


def _same_shape(secret: str, patient_key: str, label: str, value: str) -> str:
    """Replace every digit and letter by a keyed pseudo-random one of the same kind (keeps punctuation)."""
    stream = _digest(secret, patient_key, label, value.lower())
    out = []
    for i, ch in enumerate(value):
        b = stream[i % len(stream)] ^ i
        if ch.isdigit():
            out.append(str(b % 10))
        elif ch.isalpha():
            letter = chr(ord("a") + b % 26)
            out.append(letter.upper() if ch.isupper() else letter)
        else:
            out.append(ch)
    return "".join(out)


def surrogate(value: str, label: str, *, secret: str, patient_key: str) -> str:
    """The surrogate for one identifier (consistent for the same secret, patient key, label and value)."""
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.person.en_US import Provider as Person

    if label == "AGE":
        return "90+"
    if label == "DATE":
        shifted = _shift_date(value.strip(), date_offset(secret, patient_key))
        return shifted if shifted is not None else "[DATE]"
    if label == "NAME":
        words = value.split()
        lasts = list(Person.last_names)
        fake = [_pick(secret, patient_key, label, w, lasts) for w in words if len(w.strip(".")) > 1]
        name = " ".join(fake) or _pick(secret, patient_key, label, value, lasts)[0] + "."
        return name.upper() if value.isupper() else name
    if label in ("LOCATION", "INSTITUTION"):
        city = _pick(secret, patient_key, label, value, ["Springfield", "Riverton", "Fairview", "Georgetown"])
        city = city + " " + _pick(secret, patient_key, label, value, list(Address.city_suffixes))
        return city.upper() if value.isupper() else city
    if label == "EMAIL":
        return _same_shape(secret, patient_key, label, value.split("@")[0]) + "@example.org"
    if label == "URL":
        return "https://example.org/" + _same_shape(secret, patient_key, label, value)[-8:]
    return _same_shape(secret, patient_key, label, value)


def redact(
    text: str,
    spans: Sequence[SpanLike],
    *,
    mode: str = "surrogate",
    secret: str = "",
    patient_key: str = "",
) -> str:
    """`text` with every span replaced: `mode="tag"` writes `[LABEL]`, `"surrogate"` consistent fakes.

    Surrogates need a non-empty `secret` (the project's de-identification secret); overlapping spans must have
    been merged (as `analyze` returns them).
    """
    if mode not in ("surrogate", "tag"):
        raise ValueError(f"unknown redaction mode '{mode}'; valid: surrogate, tag")
    if mode == "surrogate" and not secret:
        raise ValueError("surrogate mode needs a secret")
    out, pos = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < pos or span.end > len(text):
            raise ValueError(f"span {span.start}:{span.end} overlaps another or lies outside the text")
        out.append(text[pos : span.start])
        value = text[span.start : span.end]
        if mode == "tag":
            out.append(f"[{span.label}]")
        else:
            out.append(surrogate(value, span.label, secret=secret, patient_key=patient_key))
        pos = span.end
    out.append(text[pos:])
    return "".join(out)
