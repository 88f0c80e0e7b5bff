"""Render one DICOM frame to an 8-bit PIL image: Modality LUT, VOI window, MONOCHROME1 inversion, colour."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import UID

from annotators.dicom.errors import (
    FrameOutOfRangeError,
    MalformedDicomError,
    NoPixelDataError,
    UnsupportedTransferSyntaxError,
)
from annotators.dicom.reading import Source, frame_count, read_dataset, transfer_syntax

#: CT window presets as (center, width) in Hounsfield units (values from Radiopaedia, "Windowing (CT)").
PRESETS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
    "abdomen": (50.0, 400.0),
    "liver": (30.0, 150.0),
    "soft_tissue": (40.0, 400.0),
    "stroke": (40.0, 40.0),
    "subdural": (75.0, 215.0),
}

_Window = tuple[float, float, str]  # center, width, VOI LUT function


@lru_cache(maxsize=128)
def can_decode(transfer_syntax_uid: str) -> bool:
    """True when the installed pixel-data handlers can decode ``transfer_syntax_uid``.

    Native (uncompressed, big-endian, deflated) and RLE always; JPEG baseline/extended/lossless, JPEG-LS,
    JPEG 2000 and HTJ2K through pylibjpeg (libjpeg, openjpeg) and Pillow; never MPEG/H.264/HEVC video,
    JPEG 2000 Part 2 or JPIP references.
    """
    try:
        return bool(get_decoder(UID(transfer_syntax_uid)).is_available)
    except Exception:  # NotImplementedError for syntaxes pydicom has no decoder for at all
        return False


def render_frame(
    source: Source | Dataset,
    frame: int = 0,
    *,
    center: float | None = None,
    width: float | None = None,
    preset: str | None = None,
) -> Image.Image:
    """Render frame ``frame`` (0-based) of a DICOM instance as an 8-bit image: "L" for grey, "RGB" for colour.

    Grey frames get the Modality LUT (RescaleSlope/Intercept, Modality LUT Sequence or the functional
    groups' Pixel Value Transformation), then a VOI window chosen in this order: explicit ``center`` and
    ``width`` (each overrides on its own), ``preset`` (a key of `PRESETS`), the file's first
    WindowCenter/WindowWidth (per-frame Frame VOI LUT first), the VOI LUT Sequence, the frame's min/max.
    MONOCHROME1 is inverted. Colour frames (RGB, YBR_*, PALETTE COLOR) are converted to RGB and not windowed.

    Pass the parsed Dataset (from `read_dataset`) to skip parsing; it is never modified. Raises ValueError
    for an unknown preset or a non-positive width, `NoPixelDataError`, `FrameOutOfRangeError`,
    `UnsupportedTransferSyntaxError`, and `MalformedDicomError` when the codec fails on the data.
    """
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"Unknown window preset {preset!r}; valid presets: {', '.join(sorted(PRESETS))}.")
    for name, value in (("center", center), ("width", width)):
        if value is not None and not math.isfinite(value):
            raise ValueError(f"Window {name} must be a finite number.")
    if width is not None and width <= 0:
        raise ValueError("Window width must be positive.")
    ds = read_dataset(source)
    count = frame_count(ds)
    if count == 0:
        raise NoPixelDataError("The instance has no pixel data.")
    if not 0 <= frame < count:
        raise FrameOutOfRangeError(f"Frame {frame} is out of range; the instance has {count} frame(s).")
    pixels, photometric = _decode(ds, frame)
    if photometric == "PALETTE COLOR":
        return _rgb_image(apply_color_lut(pixels, ds), 16 if _lut_is_16_bit(ds) else 8)
    if pixels.ndim == 3:
        return _rgb_image(pixels, int(ds.get("BitsStored") or pixels.dtype.itemsize * 8))
    values = _modality(pixels, ds, frame)
    out = _voi(values, ds, frame, center, width, preset)
    if photometric == "MONOCHROME1":
        np.subtract(255, out, out=out)
    return Image.fromarray(np.ascontiguousarray(out))


def _decode(ds: Dataset, frame: int) -> tuple[np.ndarray, str]:
    """Decode one frame; returns the array and its photometric interpretation after YBR→RGB conversion."""
    syntax = transfer_syntax(ds)
    if syntax is None:
        raise MalformedDicomError("The dataset has no transfer syntax; its pixel data cannot be decoded.")
    if not can_decode(str(syntax)):
        raise UnsupportedTransferSyntaxError(
            f"Pixel data in transfer syntax {syntax} ({syntax.name}) cannot be decoded by this server."
        )
    try:
        pixels, info = get_decoder(syntax).as_array(ds, index=frame)  # YBR → RGB by default
    except Exception as exc:
        raise MalformedDicomError("The pixel data could not be decoded.") from exc
    photometric = str(info.get("photometric_interpretation") or ds.get("PhotometricInterpretation") or "")
    return pixels, photometric.strip().upper()


def _rgb_image(pixels: np.ndarray, bits: int) -> Image.Image:
    """Scale an RGB array of ``bits`` significant bits down to 8 bits per channel."""
    if bits > 8 or pixels.dtype != np.uint8:
        shift = max(bits - 8, 0)
        pixels = np.clip(np.right_shift(pixels.astype(np.uint64), shift), 0, 255)
        pixels = pixels.astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels)).convert("RGB")


def _lut_is_16_bit(ds: Dataset) -> bool:
    descriptor = ds.get("RedPaletteColorLookupTableDescriptor")
    return bool(descriptor) and int(descriptor[2]) > 8


def _functional_item(ds: Dataset, frame: int, sequence: str) -> Any:
    """The first item of ``sequence`` in the frame's per-frame group, else the shared group, else None."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    groups = [per_frame[frame]] if per_frame and frame < len(per_frame) else []
    groups += list(ds.get("SharedFunctionalGroupsSequence") or [])[:1]
    for group in groups:
        items = group.get(sequence)
        if items:
            return items[0]
    return None


def _modality(pixels: np.ndarray, ds: Dataset, frame: int) -> np.ndarray:
    """Stored values → modality values (e.g. HU) as float32."""
    if "ModalityLUTSequence" in ds:
        return np.asarray(apply_modality_lut(pixels, ds), dtype=np.float32)
    source: Any = ds if "RescaleSlope" in ds or "RescaleIntercept" in ds else None
    source = source or _functional_item(ds, frame, "PixelValueTransformationSequence")
    values = pixels.astype(np.float32)
    if source is not None:
        slope = float(source.get("RescaleSlope", 1) or 1)
        intercept = float(source.get("RescaleIntercept", 0) or 0)
        if slope != 1:
            values *= slope
        if intercept:
            values += intercept
    return values


def _voi(
    values: np.ndarray, ds: Dataset, frame: int, center: float | None, width: float | None, preset: str | None
) -> np.ndarray:
    """Modality values → uint8 through the chosen window (or the VOI LUT Sequence)."""
    window: _Window | None = (*PRESETS[preset], "LINEAR") if preset else _file_window(ds, frame)
    if window is None and center is None and width is None and ds.get("VOILUTSequence"):
        return _voi_lut(values, ds)
    if window is None:
        low, high = float(values.min()), float(values.max())
        window = ((low + high) / 2, max(high - low, 1.0), "LINEAR")
    c = window[0] if center is None else float(center)
    w = window[1] if width is None else float(width)
    return _apply_window(values, c, w, window[2] if center is None and width is None else "LINEAR")


def usable_window(center: float, width: float) -> bool:
    """Whether a stored window can be applied: both values finite, the width positive."""
    return math.isfinite(center) and math.isfinite(width) and width > 0


def _file_window(ds: Dataset, frame: int) -> _Window | None:
    """The first WindowCenter/WindowWidth of the frame's Frame VOI LUT, else of the dataset."""
    for source in (_functional_item(ds, frame, "FrameVOILUTSequence"), ds):
        if source is None:
            continue
        try:
            c, w = (_first(source.get(k)) for k in ("WindowCenter", "WindowWidth"))
        except (TypeError, ValueError):
            continue
        if c is not None and w is not None and usable_window(c, w):
            return (c, w, str(source.get("VOILUTFunction") or "LINEAR").strip().upper())
    return None


def _first(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | bytes) and hasattr(value, "__iter__"):
        value = next(iter(value), None)
    return None if value is None or value == "" else float(value)


def _apply_window(values: np.ndarray, center: float, width: float, function: str) -> np.ndarray:
    """PS3.3 C.11.2.1.2 windowing to 0..255, in place on the float32 ``values``."""
    if function == "SIGMOID":
        out = 255.0 / (1.0 + np.exp(-4.0 * (values - center) / width))
        return out.astype(np.uint8)
    if function == "LINEAR_EXACT":
        lower, scale = center - width / 2, 255.0 / width
    elif width <= 1:
        return np.where(values > center - 0.5, 255, 0).astype(np.uint8)
    else:
        lower, scale = center - 0.5 - (width - 1) / 2, 255.0 / (width - 1)
    values -= lower
    values *= scale
    values += 0.5
    np.clip(values, 0, 255, out=values)
    return values.astype(np.uint8)


def _voi_lut(values: np.ndarray, ds: Dataset) -> np.ndarray:
    """Apply the first VOI LUT Sequence item and scale its output range to 0..255."""
    item = ds.VOILUTSequence[0]
    lut = np.asarray(item.LUTData, dtype=np.float64).ravel()
    mapped = np.asarray(apply_voi(values.astype(np.int64), ds, index=0), dtype=np.float32)
    low, high = float(lut.min()), float(lut.max())
    mapped -= low
    mapped *= 255.0 / max(high - low, 1.0)
    np.clip(mapped, 0, 255, out=mapped)
    return mapped.astype(np.uint8)
