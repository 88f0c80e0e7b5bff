"""Burned-in text: read flagged frames with OCR, black out the PHI boxes in every frame, record them.

    clean_pixels(out, original, report, PixelPolicy("ocr"))   # True when the pixels were read and cleaned

Native little-endian pixel data is rewritten in place (same transfer syntax, same layout); compressed or
big-endian pixel data is decoded with the installed codecs and written as Explicit VR Little Endian (compressed
colour as RGB). A box is filled with the
frame's darkest stored value (the value at its darkest rendered pixel), so it shows black whatever the
photometric interpretation (MONOCHROME1, palette, YBR). BurnedInAnnotation becomes NO only when every frame
was read and every word found was blacked out (always so under ``all-text``), else YES; a multi-frame image
with more frames than ``policy.max_frames`` is read on an even sample and stays flagged for review. When the
pixels cannot be read or rewritten (an unsupported transfer syntax or pixel format, tesseract failing) nothing
is changed, ``report.pixel_warning`` says why and the instance stays flagged for review.
"""

from __future__ import annotations

import time

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import ExplicitVRLittleEndian

from annotators.deid.dicom.burnin import PixelBox, PixelPolicy, classify, header_terms
from annotators.deid.dicom.ocr import read_words, tesseract_version
from annotators.deid.dicom.report import Report, TagChange
from annotators.dicom.errors import DicomError, UnsupportedTransferSyntaxError
from annotators.dicom.reading import frame_count, transfer_syntax
from annotators.dicom.rendering import can_decode, render_frame

_PIXEL_TAG = "(7FE0,0010)"


class UnsupportedPixelFormatError(DicomError):
    """Pixel data this step cannot rewrite (float pixels, 1-bit packed, more than 16 bits per sample)."""

    code = "unsupported_pixel_format"


def sample_frames(count: int, most: int) -> list[int]:
    """Up to ``most`` frame indices spread evenly over ``count`` frames, first and last included."""
    if count <= most:
        return list(range(count))
    if most == 1:
        return [0]
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def clean_pixels(out: Dataset, original: Dataset, report: Report, policy: PixelPolicy) -> bool:
    """Read the frames of ``out`` that ``report`` flags with OCR and black out the PHI boxes ``policy`` picks
    (``original`` supplies the header identifiers to look for). Records boxes, frames read, seconds and any
    warning in ``report``; returns True when the pixel data was read (and cleaned where needed)."""
    if policy.mode == "flag" or not report.needs_pixel_review:
        return False
    started = time.perf_counter()
    report.pixel_policy = policy.mode
    try:
        _check_format(out)
        boxes, frames = find_boxes(out, original, policy)
        redacted = [b for b in boxes if b.redacted]
        if redacted:
            blackout(out, redacted, report)
    except DicomError as exc:
        report.pixel_warning = f"{exc.code}: burned-in text was not removed ({exc.message})"
        report.pixel_seconds = time.perf_counter() - started
        return False
    unread = frames < frame_count(out)  # frames outside the sample may carry other text
    remaining = len(boxes) - len(redacted)
    out.BurnedInAnnotation = report.burned_in_after = "YES" if remaining or unread else "NO"
    report.changes.append(TagChange("(0028,0301)", "BurnedInAnnotation", "D", "pixels"))
    report.needs_pixel_review = bool(remaining or unread)
    report.pixel_boxes, report.pixel_frames = boxes, frames
    report.pixel_seconds = time.perf_counter() - started
    return True


def find_boxes(ds: Dataset, original: Dataset, policy: PixelPolicy) -> tuple[list[PixelBox], int]:
    """Read ``ds``'s frames (an even sample of at most ``policy.max_frames``) with OCR and decide for every
    word whether ``policy`` blacks it out (``original`` supplies the header identifiers to look for); returns the
    boxes and how many frames were read. Raises `DicomError` when the frames cannot be rendered or read."""
    frames = sample_frames(frame_count(ds), policy.max_frames)
    source = f"tesseract@{tesseract_version()}"
    terms = header_terms(original)
    boxes: list[PixelBox] = []
    for frame in frames:
        image = render_frame(ds, frame)
        words = read_words(image, min_confidence=policy.min_confidence)
        boxes += classify(words, frame=frame, size=image.size, policy=policy, terms=terms, source=source)
    return boxes, len(frames)


def _check_format(ds: Dataset) -> None:
    syntax = transfer_syntax(ds)
    if syntax is None or not can_decode(str(syntax)):
        raise UnsupportedTransferSyntaxError("the installed codecs cannot decode this transfer syntax")
    if "PixelData" not in ds or int(ds.get("BitsAllocated") or 0) not in (8, 16):
        raise UnsupportedPixelFormatError("only 8- and 16-bit integer pixel data can be rewritten")


def blackout(ds: Dataset, boxes: list[PixelBox], report: Report) -> None:
    """Fill ``boxes`` (each on every frame) with each frame's darkest value and write the pixel data back."""
    pixels, photometric, native = _decode_all(ds)
    for index in range(pixels.shape[0]):
        frame = pixels[index]
        fill = frame[np.unravel_index(int(np.argmin(_brightness(frame, photometric, ds))), frame.shape[:2])]
        for box in boxes:
            frame[box.y : box.y + box.height, box.x : box.x + box.width] = fill
    _write(ds, pixels, photometric, native, report)


def _decode_all(ds: Dataset) -> tuple[np.ndarray, str, bool]:
    """All frames as (frames, rows, columns[, samples]) stored values; compressed colour comes back as RGB."""
    syntax = transfer_syntax(ds)
    assert syntax is not None
    native = not syntax.is_encapsulated
    try:
        pixels, info = get_decoder(syntax).as_array(ds, raw=native)
    except Exception as exc:
        raise DicomError("the pixel data could not be decoded", code="malformed_dicom") from exc
    samples = int(ds.get("SamplesPerPixel") or 1)
    shape = (frame_count(ds), int(ds.Rows), int(ds.Columns)) + ((samples,) if samples > 1 else ())
    photometric = str(info.get("photometric_interpretation") or ds.get("PhotometricInterpretation") or "")
    return np.array(pixels.reshape(shape)), photometric.strip().upper(), native


def _brightness(frame: np.ndarray, photometric: str, ds: Dataset) -> np.ndarray:
    """How bright each pixel renders (any monotone proxy will do: only its minimum is used)."""
    if photometric == "MONOCHROME1":
        return -frame.astype(np.float64)
    if photometric == "PALETTE COLOR":
        return np.asarray(apply_color_lut(frame, ds), dtype=np.float64).sum(axis=-1)
    if frame.ndim == 3 and photometric.startswith("YBR"):
        return frame[..., 0].astype(np.float64)  # luma
    if frame.ndim == 3:
        return frame.sum(axis=-1, dtype=np.float64)
    return frame.astype(np.float64)


def _write(ds: Dataset, pixels: np.ndarray, photometric: str, native: bool, report: Report) -> None:
    """Store ``pixels`` as native little-endian data, keeping the transfer syntax when it already was one."""
    syntax = transfer_syntax(ds)
    assert syntax is not None
    bits = int(ds.BitsAllocated)
    signed = int(ds.get("PixelRepresentation") or 0) == 1
    dtype = np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")
    data = pixels.astype(dtype, copy=False)
    planar = native and pixels.ndim == 4 and int(ds.get("PlanarConfiguration") or 0) == 1
    if planar:
        data = data.transpose(0, 3, 1, 2)
    blob = np.ascontiguousarray(data).tobytes()
    blob += b"\x00" * (len(blob) % 2)
    keep_syntax = native and syntax.is_little_endian
    if not keep_syntax:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        report.changes.append(TagChange("(0002,0010)", "TransferSyntaxUID", "C", "pixels"))
        for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
            if keyword in ds:
                del ds[keyword]
        if pixels.ndim == 4:
            ds.PlanarConfiguration = 0
    photometric = "YBR_FULL" if photometric == "YBR_FULL_422" else photometric  # decoded at full resolution
    if str(ds.get("PhotometricInterpretation") or "").strip().upper() != photometric:
        ds.PhotometricInterpretation = photometric
    del ds["PixelData"]
    ds.add_new(0x7FE00010, "OB" if bits == 8 else "OW", blob)
    report.changes.append(TagChange(_PIXEL_TAG, "PixelData", "C", "pixels"))
