"""Element values read fast: text, numbers and DS lists straight from pydicom's raw (not yet converted)
elements where their VR allows, falling back to pydicom's conversion otherwise. `read_info` reads a few dozen
elements of every ingested file through these; pydicom's conversion and validation of each would cost about as
much as parsing the whole file."""

from __future__ import annotations

import functools
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

# Value representations whose raw bytes are plain ASCII: read without pydicom's conversion and validation,
# which otherwise costs as much as parsing the whole file.
_ASCII_VRS = frozenset({"UI", "CS", "SH", "DA", "TM", "DT", "IS", "DS", "AS"})


@functools.lru_cache(maxsize=256)
def _tag(keyword: str) -> int | None:
    return tag_for_keyword(keyword)


def _raw(ds: Dataset, keyword: str, vrs: frozenset[str]) -> RawDataElement | None | bool:
    """The element still in its raw form when its VR (or, implicit, its dictionary VR) is one of ``vrs``; None
    when absent; False when the raw shortcut does not apply (already converted, another VR, unknown keyword)."""
    tag = _tag(keyword)
    if tag is None or tag not in ds:
        return None if tag is not None else False
    elem = ds.get_item(tag)
    if not isinstance(elem, RawDataElement) or (elem.VR or _dictionary_vr(tag)) not in vrs:
        return False
    return elem


def _raw_ascii(ds: Dataset, keyword: str) -> str | None | bool:
    """The first value of an ASCII-VR element straight from its raw bytes; False when that shortcut does
    not apply (see `_raw`)."""
    elem = _raw(ds, keyword, _ASCII_VRS)
    if not isinstance(elem, RawDataElement):
        return elem
    text = elem.value.decode("latin-1").split("\\", 1)[0].strip(" \x00") if elem.value else ""
    return text or None


_DS = frozenset({"DS"})


def raw_floats(ds: Dataset, keyword: str) -> list[float] | None | bool:
    """Every value of a DS element straight from its raw bytes (None when absent, empty or not numbers);
    False when that shortcut does not apply."""
    elem = _raw(ds, keyword, _DS)
    if not isinstance(elem, RawDataElement):
        return elem
    try:
        values = [float(v) for v in elem.value.decode("latin-1").strip(" \x00").split("\\")] if elem.value else []
    except ValueError:
        return None
    return values or None


def text(ds: Dataset | None, keyword: str) -> str | None:
    """The element's value as stripped text, or None when absent or empty."""
    if ds is None:
        return None
    fast = _raw_ascii(ds, keyword)
    if fast is not False:
        return fast  # type: ignore[return-value]
    value = ds.get(keyword)
    if value is None:
        return None
    if not isinstance(value, str | bytes) and hasattr(value, "__iter__"):
        value = next(iter(value), None)  # multi-valued: first value
        if value is None:
            return None
    text = str(value).strip().strip("\x00")
    return text or None


_BINARY_INTS = {"US": (2, False), "SS": (2, True), "UL": (4, False), "SL": (4, True)}
_BINARY_VRS = frozenset(_BINARY_INTS)


def _raw_binary_int(ds: Dataset, keyword: str) -> int | None | bool:
    """The first value of a US/SS/UL/SL element straight from its raw bytes; False when that shortcut does
    not apply (see `_raw`; an ambiguous dictionary VR such as "US or SS" does not)."""
    elem = _raw(ds, keyword, _BINARY_VRS)
    if not isinstance(elem, RawDataElement):
        return elem
    size, signed = _BINARY_INTS[str(elem.VR or _dictionary_vr(elem.tag))]
    if not elem.value or len(elem.value) < size:
        return None
    return int.from_bytes(elem.value[:size], "little" if elem.is_little_endian else "big", signed=signed)


@functools.lru_cache(maxsize=256)
def _dictionary_vr(tag: int) -> str | None:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def integer(ds: Dataset, keyword: str) -> int | None:
    """The element's value as an int, or None when absent, empty or not a number."""
    fast = _raw_ascii(ds, keyword)
    if fast is False:
        binary = _raw_binary_int(ds, keyword)
        if not isinstance(binary, bool):
            return binary
    value: Any = ds.get(keyword) if fast is False else fast
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
