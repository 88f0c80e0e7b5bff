"""The per-instance report (no values) and the attributes that say how an instance was de-identified."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from annotators.deid.dicom.table import CID_7050

_MAX_LO = 64
# Modalities whose images commonly carry burned-in text when BurnedInAnnotation is absent.
_BURN_IN_MODALITIES = {"US", "SC", "OT", "XC", "ES", "GM", "DOC", "SM", "IVUS"}


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
    """What `deidentify_dataset` did to one instance (no values, so it can be stored and shown)."""

    profile: str
    options: tuple[str, ...]
    changes: list[TagChange] = field(default_factory=list)
    burned_in_annotation: str | None = None
    needs_pixel_review: bool = False
    warnings: int = 0

    def counts(self) -> dict[str, int]:
        """Number of changes per action code."""
        return dict(Counter(change.action for change in self.changes))


def write_method(ds: Dataset, report: Report, options: frozenset[str]) -> None:
    """Write Patient Identity Removed, De-identification Method (+ Code Sequence), Longitudinal Temporal Info."""
    ds.PatientIdentityRemoved = "YES"
    names = ["basic", *sorted(options)]
    ds.DeidentificationMethod = [f"Hilum: {report.profile}"[:_MAX_LO]] + [
        CID_7050[name][1][:_MAX_LO] for name in names[1:] if name in CID_7050
    ]
    items = list(ds.get("DeidentificationMethodCodeSequence") or [])
    have = {str(item.get("CodeValue", "")) for item in items}
    for name in names:
        code, meaning = CID_7050[name]
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


def burned_in(ds: Dataset, report: Report) -> None:
    """Record BurnedInAnnotation and whether the pixels need review (YES, or absent on a burn-in modality)."""
    value = str(ds.get("BurnedInAnnotation", "") or "").strip().upper() or None
    report.burned_in_annotation = value
    has_pixels = any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))
    modality = str(ds.get("Modality", "") or "").upper()
    report.needs_pixel_review = has_pixels and (value == "YES" or (value is None and modality in _BURN_IN_MODALITIES))
