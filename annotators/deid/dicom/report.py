"""The per-instance report (no values) and the attributes that say how an instance was de-identified."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from annotators.deid.dicom.table import CID_7050

if TYPE_CHECKING:
    from annotators.deid.dicom.burnin import PixelBox

_MAX_LO = 64
# Modalities whose images commonly carry burned-in text when BurnedInAnnotation is absent.
_BURN_IN_MODALITIES = {"US", "SC", "OT", "XC", "ES", "GM", "DOC", "SM", "IVUS", "XA", "RF"}
#: PS3.16 CID 7050 code written when burned-in text was read and removed (not a Table E.1-1 Option column).
CLEAN_PIXEL_DATA = ("113101", "Clean Pixel Data Option")


@dataclass(frozen=True)
class TagChange:
    """One changed attribute, never its value: ``path`` like ``(0008,1140)[0].(0008,1155)``; ``action`` is
    ``X`` removed, ``Z`` emptied, ``D`` dummy, ``U`` UID remapped, ``C`` cleaned (text engine, shifted date,
    surrogate), ``K`` kept by an Option; ``rule`` is ``E.1-1``, ``E.3.4-1``, ``private`` or ``method``."""

    path: str
    name: str
    action: str
    rule: str


@dataclass
class Report:
    """What `deidentify_dataset` did to one instance (no values, so it can be stored and shown).

    The pixel fields are set when a pixel policy other than ``flag`` ran: ``pixel_policy``, ``pixel_boxes``
    (every word found, blacked out or kept: `PixelBox`), ``pixel_frames`` (frames read), ``pixel_seconds``, and
    ``pixel_warning`` when burned-in text could not be handled (the instance then stays flagged for review)."""

    profile: str
    options: tuple[str, ...]
    changes: list[TagChange] = field(default_factory=list)
    burned_in_annotation: str | None = None
    needs_pixel_review: bool = False
    warnings: int = 0
    pixel_policy: str | None = None
    pixel_boxes: list[PixelBox] = field(default_factory=list)
    pixel_frames: int = 0
    pixel_seconds: float = 0.0
    pixel_warning: str | None = None
    burned_in_after: str | None = None  # BurnedInAnnotation as written after the pixel policy ran

    def counts(self) -> dict[str, int]:
        """Number of changes per action code."""
        return dict(Counter(change.action for change in self.changes))

    def pixels(self) -> dict[str, Any]:
        """The burned-in text summary for JSON reports: policy, frames read, boxes (no text), warning."""
        return {
            "policy": self.pixel_policy, "frames": self.pixel_frames, "seconds": round(self.pixel_seconds, 3),
            "boxes": [box.as_dict() for box in self.pixel_boxes],
            "redacted": sum(box.redacted for box in self.pixel_boxes), "warning": self.pixel_warning,
            "burned_in_annotation": self.burned_in_after,
        }  # fmt: skip


def write_method(ds: Dataset, report: Report, options: frozenset[str], *, clean_pixels: bool = False) -> None:
    """Write Patient Identity Removed, De-identification Method (+ Code Sequence), Longitudinal Temporal Info;
    with ``clean_pixels`` (burned-in text was read and removed) the Clean Pixel Data code as well."""
    ds.PatientIdentityRemoved = "YES"
    names = ["basic", *sorted(options)]
    methods = [CID_7050[name] for name in names if name in CID_7050] + ([CLEAN_PIXEL_DATA] if clean_pixels else [])
    ds.DeidentificationMethod = [f"Hilum: {report.profile}"[:_MAX_LO]] + [
        meaning[:_MAX_LO] for _code, meaning in methods[1:]
    ]
    items = list(ds.get("DeidentificationMethodCodeSequence") or [])
    have = {str(item.get("CodeValue", "")) for item in items}
    for code, meaning in methods:
        if code in have:
            continue
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code, "DCM", meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    if "retain_longitudinal_modified_dates" in options:
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
    elif "retain_longitudinal_full_dates" in options:
        ds.LongitudinalTemporalInformationModified = "UNMODIFIED"
    else:
        ds.LongitudinalTemporalInformationModified = "REMOVED"
    for keyword in ("PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence"):
        tag = int(ds[keyword].tag)
        report.changes.append(TagChange(f"({tag >> 16:04X},{tag & 0xFFFF:04X})", keyword, "D", "method"))


def _burned_in_value(ds: Dataset) -> str | None:
    return str(ds.get("BurnedInAnnotation", "") or "").strip().upper() or None


def needs_pixel_review(ds: Dataset) -> bool:
    """Whether the pixels may carry burned-in text: BurnedInAnnotation YES, or absent on a burn-in modality."""
    value = _burned_in_value(ds)
    has_pixels = any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))
    modality = str(ds.get("Modality", "") or "").upper()
    return has_pixels and (value == "YES" or (value is None and modality in _BURN_IN_MODALITIES))


def burned_in(ds: Dataset, report: Report) -> None:
    """Record BurnedInAnnotation and whether the pixels need review (`needs_pixel_review`)."""
    report.burned_in_annotation = _burned_in_value(ds)
    report.needs_pixel_review = needs_pixel_review(ds)
