"""Replacement values: dummies of the right VR (D), keyed UID remapping (U), date shifting and text cleaning (C)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from annotators.deid.surrogates import date_offset, surrogate

# D: a non-zero-length dummy per VR, valid for that VR's character repertoire and length limit.
_DUMMY_TEXT = {
    "AE": "ANONYMOUS", "AS": "000Y", "CS": "ANONYMIZED", "DA": "19000101", "DT": "19000101000000",
    "LO": "ANONYMIZED", "LT": "ANONYMIZED", "PN": "ANONYMOUS", "SH": "ANONYMIZED", "ST": "ANONYMIZED",
    "TM": "000000", "UC": "ANONYMIZED", "UR": "http://example.org", "UT": "ANONYMIZED",
    "DS": "0", "IS": "0",
}  # fmt: skip
_NUMERIC = {"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "AT"}
_BINARY = {"OB", "OW", "OD", "OF", "OL", "OV", "UN"}
TEXT_VRS = {"LO", "LT", "SH", "ST", "UC", "UT"}


def dummy(vr: str) -> Any:
    """The dummy value used for action D on an element of ``vr`` (SQ and UI are handled by the caller)."""
    if vr in _DUMMY_TEXT:
        return _DUMMY_TEXT[vr]
    if vr in _NUMERIC:
        return 0
    if vr in _BINARY:
        return b"\x00\x00"
    return "ANONYMIZED"


def remap_uid(uid: str, secret: str) -> str:
    """A 2.25 UID derived from ``uid`` by HMAC-SHA256 under ``secret``: the same input, the same output."""
    digest = hmac.new(secret.encode(), b"dicom-uid\x1f" + uid.strip().encode(), hashlib.sha256).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def _shift_da(value: str, days: int) -> str | None:
    text = value.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        day = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
    try:
        return (day + dt.timedelta(days=days)).strftime("%Y%m%d")
    except OverflowError:
        return None


def _shift_dt(value: str, days: int) -> str | None:
    text = value.strip()
    digits = len(text) - len(text.lstrip("0123456789"))
    if digits < 4:
        return None
    head = text[: min(digits, 8)]
    padded = head + {4: "0701", 6: "15", 8: ""}.get(len(head), "")
    shifted = _shift_da(padded, days) if len(padded) == 8 else None
    if shifted is None:
        return None
    return shifted[: len(head)] + text[len(head) :]


def shift_date(value: str, vr: str, days: int) -> str | None:
    """Shift a DA or DT value (``\\``-separated multi-values kept) by ``days``; None when it does not parse.

    TM values carry no date and are kept as they are. DT keeps its time, fraction and UTC offset; a DT of only
    a year or year and month is shifted from the middle of that period and cut back to the same precision.
    """
    if vr == "TM":
        return value
    shift = _shift_da if vr == "DA" else _shift_dt
    parts = []
    for part in value.split("\\"):
        if not part.strip():
            parts.append(part)
            continue
        new = shift(part, days)
        if new is None:
            return None
        parts.append(new)
    return "\\".join(parts)


def patient_offset(secret: str, patient_key: str) -> int:
    """The per-patient date shift in days (`annotators.deid.surrogates.date_offset`)."""
    return date_offset(secret, patient_key)


def clean_text(value: str, *, secret: str, patient_key: str) -> str:
    """Action C on free text: PHI found by the text engine (`annotators.deid.analyze`) becomes surrogates."""
    from annotators.deid import analyze, redact

    if not value.strip():
        return value
    spans: list[Any] = list(analyze(value))  # PhiSpan is frozen; redact's protocol reads only
    return redact(value, spans, mode="surrogate", secret=secret, patient_key=patient_key) if spans else value


def clean_name(value: str, *, secret: str, patient_key: str) -> str:
    """Action C on a person name: each component becomes a consistent surrogate name."""
    parts = [p for p in value.replace("^", " ").split() if p]
    if not parts:
        return value
    return surrogate(" ".join(parts), "NAME", secret=secret, patient_key=patient_key).replace(" ", "^")


def clean_age(value: str) -> str:
    """Action C on an Age String: ages over 89 years become ``090Y`` (HIPAA Safe Harbor)."""
    text = value.strip()
    if len(text) == 4 and text[:3].isdigit() and text[3] == "Y" and int(text[:3]) > 89:
        return "090Y"
    return value
