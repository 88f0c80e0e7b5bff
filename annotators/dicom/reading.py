"""Parse and validate DICOM files into a `DicomInstanceInfo` the ingest step can store and pair."""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
)

from annotators.dicom import elements
from annotators.dicom.errors import DicomDirError, MalformedDicomError, NotDicomError

Source = bytes | str | os.PathLike[str]

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
_REQUIRED_UIDS = ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
# First tag of a dataset written without preamble: group 0002 or 0008, little- or big-endian.
_RAW_STARTS = (b"\x02\x00", b"\x08\x00", b"\x00\x02", b"\x00\x08")
_ITEM = b"\xfe\xff\x00\xe0"
_SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0"


@dataclass(frozen=True)
class DicomInstanceInfo:
    """What ingest needs to know about one DICOM instance, read from its header.

    ``frame_count`` is NumberOfFrames, 1 for a single-frame image and 0 when there is no pixel data.
    ``pixel_spacing`` is (row spacing, column spacing) in mm from PixelSpacing, else ImagerPixelSpacing,
    else the functional groups' PixelMeasuresSequence.
    """

    sop_instance_uid: str
    sop_class_uid: str | None
    study_instance_uid: str
    series_instance_uid: str
    accession_number: str | None
    patient_id: str | None
    issuer_of_patient_id: str | None
    modality: str | None
    study_date: str | None
    study_description: str | None
    series_description: str | None
    series_number: int | None
    instance_number: int | None
    rows: int | None
    columns: int | None
    frame_count: int
    pixel_spacing: tuple[float, float] | None
    transfer_syntax_uid: str | None
    photometric_interpretation: str | None
    has_pixels: bool
    window_center: float | None = None  # the file's default window (first frame), for viewers
    window_width: float | None = None


def looks_like_dicom(head: bytes) -> bool:
    """Cheap sniff: true when ``head`` (the first 132+ bytes of a file) has "DICM" at offset 128."""
    return len(head) >= 132 and head[128:132] == b"DICM"


def is_dicomdir(ds_or_info: Dataset | DicomInstanceInfo) -> bool:
    """True for a Media Storage Directory (DICOMDIR): an index of other files, not an image."""
    if isinstance(ds_or_info, DicomInstanceInfo):
        return ds_or_info.sop_class_uid == MediaStorageDirectoryStorage
    meta = getattr(ds_or_info, "file_meta", None)
    if meta is not None and meta.get("MediaStorageSOPClassUID") == MediaStorageDirectoryStorage:
        return True
    return "DirectoryRecordSequence" in ds_or_info


def read_dataset(source: Source | Dataset) -> Dataset:
    """Parse ``source`` (bytes, a path, or an already parsed Dataset, returned as is) into a Dataset.

    Raises `NotDicomError` for anything that is not DICOM and `MalformedDicomError` when parsing fails.
    Files written without the 128-byte preamble are accepted when they start with a plausible tag; their
    transfer syntax is recorded in a new ``file_meta`` so the pixel data can be decoded.
    """
    if isinstance(source, Dataset):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        return _parse(io.BytesIO(source))
    with Path(source).open("rb") as fp:
        return _parse(fp)


def _parse(fp: BinaryIO) -> Dataset:
    head = fp.read(132)
    fp.seek(0)
    if not head:
        raise NotDicomError("The file is empty.")
    if looks_like_dicom(head):
        try:
            return dcmread(fp)
        except Exception as exc:
            raise MalformedDicomError("The DICOM file could not be parsed.") from exc
    if head[:2] not in _RAW_STARTS:
        raise NotDicomError("The file is not DICOM (no 'DICM' marker and no DICOM tag at its start).")
    try:
        ds = dcmread(fp, force=True)
    except Exception as exc:
        raise NotDicomError("The file is not DICOM (it has no 'DICM' marker and does not parse).") from exc
    if not any(keyword in ds for keyword in _REQUIRED_UIDS):
        raise NotDicomError("The file is not DICOM (no 'DICM' marker and no instance UIDs).")
    _add_transfer_syntax(ds)
    return ds


def _add_transfer_syntax(ds: Dataset) -> None:
    """Give a dataset read without file meta the transfer syntax it was actually encoded in."""
    if transfer_syntax(ds) is not None:
        return
    meta = getattr(ds, "file_meta", None)
    implicit, little = ds.original_encoding
    if implicit:
        syntax = ImplicitVRLittleEndian
    else:
        syntax = ExplicitVRLittleEndian if little else ExplicitVRBigEndian
    if meta is None:
        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax


def read_info(source: Source | Dataset) -> DicomInstanceInfo:
    """Parse and fully validate one DICOM instance, returning its `DicomInstanceInfo`.

    Raises `NotDicomError`, `MalformedDicomError` (parse failure, truncation, pixel data shorter than the
    header says, an image header without pixel data, missing SOP/Study/Series Instance UID) or
    `DicomDirError` for a DICOMDIR. Pixel data is not decoded, so unsupported transfer syntaxes pass here.
    """
    ds = read_dataset(source)
    if is_dicomdir(ds):
        raise DicomDirError("The file is a DICOMDIR (an index of other files), not an image instance.")
    missing = [keyword for keyword in _REQUIRED_UIDS if not elements.text(ds, keyword)]
    if missing:
        raise MalformedDicomError(f"The DICOM file lacks required attributes: {', '.join(missing)}.")
    frame_count = _validate_pixels(ds)
    meta = getattr(ds, "file_meta", None)
    syntax = transfer_syntax(ds)
    return DicomInstanceInfo(
        sop_instance_uid=str(elements.text(ds, "SOPInstanceUID")),
        sop_class_uid=elements.text(ds, "SOPClassUID")
        or (elements.text(meta, "MediaStorageSOPClassUID") if meta else None),
        study_instance_uid=str(elements.text(ds, "StudyInstanceUID")),
        series_instance_uid=str(elements.text(ds, "SeriesInstanceUID")),
        accession_number=elements.text(ds, "AccessionNumber"),
        patient_id=elements.text(ds, "PatientID"),
        issuer_of_patient_id=elements.text(ds, "IssuerOfPatientID"),
        modality=elements.text(ds, "Modality"),
        study_date=elements.text(ds, "StudyDate"),
        study_description=elements.text(ds, "StudyDescription"),
        series_description=elements.text(ds, "SeriesDescription"),
        series_number=elements.integer(ds, "SeriesNumber"),
        instance_number=elements.integer(ds, "InstanceNumber"),
        rows=elements.integer(ds, "Rows"),
        columns=elements.integer(ds, "Columns"),
        frame_count=frame_count,
        pixel_spacing=pixel_spacing(ds),
        transfer_syntax_uid=str(syntax) if syntax else None,
        photometric_interpretation=elements.text(ds, "PhotometricInterpretation"),
        has_pixels=frame_count > 0,
        **_default_window(ds, frame_count),
    )


def _default_window(ds: Dataset, frames: int) -> dict[str, float | None]:
    from annotators.dicom.rendering import _file_window, usable_window

    if frames and not any(k in ds for k in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence")):
        centers, widths = elements.raw_floats(ds, "WindowCenter"), elements.raw_floats(ds, "WindowWidth")
        if not isinstance(centers, bool) and not isinstance(widths, bool):  # the dataset's own first window, raw
            if not centers or not widths:
                return {}
            c, w = centers[0], widths[0]
            return {"window_center": c, "window_width": w} if usable_window(c, w) else {}
    try:
        window = _file_window(ds, 0) if frames else None
    except (TypeError, ValueError, AttributeError):
        window = None
    return {"window_center": window[0], "window_width": window[1]} if window else {}


def transfer_syntax(ds: Dataset) -> UID | None:
    """The dataset's Transfer Syntax UID from its file meta, or None."""
    meta = getattr(ds, "file_meta", None)
    value = meta.get("TransferSyntaxUID") if meta is not None else None
    return UID(str(value)) if value else None


def frame_count(ds: Dataset) -> int:
    """Number of frames: NumberOfFrames, 1 for a single-frame image, 0 without pixel data."""
    if not any(keyword in ds for keyword in PIXEL_KEYWORDS):
        return 0
    raw = ds.get("NumberOfFrames")
    if raw in (None, ""):
        return 1
    try:
        count = int(raw)
    except (TypeError, ValueError) as exc:
        raise MalformedDicomError("NumberOfFrames is not an integer.") from exc
    if count < 0:
        raise MalformedDicomError("NumberOfFrames is negative.")
    return max(count, 1)


def pixel_spacing(ds: Dataset) -> tuple[float, float] | None:
    """(row, column) spacing in mm: PixelSpacing, ImagerPixelSpacing, then the functional groups."""
    candidates: list[Any] = []
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        fast = elements.raw_floats(ds, keyword)
        candidates.append(ds.get(keyword) if fast is False else fast)
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        for group in ds.get(groups) or []:
            for measures in group.get("PixelMeasuresSequence") or []:
                candidates.append(measures.get("PixelSpacing"))
            break
    for value in candidates:
        try:
            row, column = (float(v) for v in value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(row) and math.isfinite(column) and row > 0 and column > 0:
            return (row, column)
    return None


def _validate_pixels(ds: Dataset) -> int:
    """Check the pixel data against the header; return the frame count."""
    count = frame_count(ds)
    if count == 0:
        if all(keyword in ds for keyword in ("Rows", "Columns", "BitsAllocated")):
            raise MalformedDicomError("The header describes an image but has no pixel data (truncated?).")
        sop_class = elements.text(ds, "SOPClassUID")
        if sop_class and "Image Storage" in UID(sop_class).name:
            raise MalformedDicomError("An image object without pixel data (truncated?).")
        return 0
    keyword = next(k for k in PIXEL_KEYWORDS if k in ds)
    rows, columns = elements.integer(ds, "Rows"), elements.integer(ds, "Columns")
    if not rows or not columns:
        raise MalformedDicomError("Pixel data is present but Rows or Columns is missing or zero.")
    elem = ds.get_item(keyword)
    value = elem.value if isinstance(elem, RawDataElement) else ds[keyword].value
    if value is None or len(value) == 0:
        raise MalformedDicomError("The pixel data element is empty.")
    syntax = transfer_syntax(ds)
    if keyword == "PixelData" and syntax is not None and syntax.is_encapsulated:
        _validate_fragments(bytes(value), count)
        return count
    bits = {"FloatPixelData": 32, "DoubleFloatPixelData": 64}.get(keyword) or elements.integer(ds, "BitsAllocated")
    if not bits:
        raise MalformedDicomError("Pixel data is present but BitsAllocated is missing.")
    samples = elements.integer(ds, "SamplesPerPixel") or 1
    if samples == 3 and elements.text(ds, "PhotometricInterpretation") == "YBR_FULL_422":
        samples = 2  # native 4:2:2 stores two chroma samples per pixel pair
    expected = math.ceil(rows * columns * count * samples * bits / 8)
    if len(value) < expected:
        raise MalformedDicomError(
            f"Pixel data is shorter than the header says ({len(value)} of {expected} bytes); truncated file?"
        )
    return count


def _validate_fragments(data: bytes, frames: int) -> None:
    """Walk the encapsulated items: each must fit in the data, and there must be a fragment per frame."""
    position, items = 0, 0
    while position + 8 <= len(data):
        tag = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8], "little")
        if tag == _SEQUENCE_DELIMITER:
            break
        if tag != _ITEM or position + 8 + length > len(data):
            raise MalformedDicomError("The encapsulated pixel data is truncated or corrupt.")
        position += 8 + length
        items += 1
    fragments = items - 1  # the first item is the Basic Offset Table
    if fragments < max(frames, 1):  # PS3.5 A.4: a fragment never holds data of more than one frame
        raise MalformedDicomError("The encapsulated pixel data has fewer fragments than frames (truncated?).")
