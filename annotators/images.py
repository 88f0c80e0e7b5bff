"""Probe and render non-DICOM images (PNG, JPEG) for ingest and for the viewer's ``frames/0.png``.

The format is recognised from the magic bytes and the file is opened with that one Pillow plugin, so no
other decoder is ever reached. Images larger than `MAX_PIXELS` are refused from their header alone,
before any pixel is decoded. EXIF orientation is applied: sizes and renders are as the image is displayed.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, JpegImagePlugin, PngImagePlugin

from annotators.errors import EngineError

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg"})
MAX_PIXELS = 100_000_000

MEDIA_TYPES: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_EXIF_ORIENTATION = 0x0112


class ImageError(EngineError):
    """The bytes are not a usable image; ``code`` is ``not_image`` or ``image_too_large``."""

    code = "not_image"


@dataclass(frozen=True)
class ImageInfo:
    """What ingest stores about a PNG/JPEG: format, media type, displayed size and Pillow mode."""

    format: str
    media_type: str
    width: int
    height: int
    mode: str


Source = bytes | str | os.PathLike[str]


def probe_image(source: Source) -> ImageInfo:
    """Identify and check a PNG or JPEG without keeping its pixels.

    PNG chunk CRCs are verified; JPEG is decoded at 1/8 scale so a truncated or corrupt scan is caught
    cheaply. ``width``/``height`` are after EXIF orientation. Raises `ImageError` with code
    ``image_too_large`` (more than `MAX_PIXELS`, refused from the header) or ``not_image``.
    """
    with _opened(source) as fp:
        image, kind = _open(fp)
        try:
            if kind == "png":
                image.verify()  # chunk CRCs through IEND; the image must be reopened afterwards
                fp.seek(0)
                image, _ = _open(fp)
            width, height = _oriented_size(image)
            mode = image.mode
            if kind == "jpeg":
                image.draft(image.mode, (max(width // 8, 1), max(height // 8, 1)))
                image.load()
        except ImageError:
            raise
        except Exception as exc:
            raise ImageError("The image data is truncated or corrupt.") from exc
    return ImageInfo(format=kind, media_type=MEDIA_TYPES[kind], width=width, height=height, mode=mode)


def render_image(source: Source, *, max_side: int | None = None) -> Image.Image:
    """Decode a PNG/JPEG for display: EXIF-oriented, shrunk to fit ``max_side`` if given.

    Returns mode "L" for grey (16-bit grey scaled to 8 bits), "RGBA" when the image has transparency,
    else "RGB". Raises `ImageError` like `probe_image`, and ValueError for a ``max_side`` below 1.
    """
    if max_side is not None and max_side < 1:
        raise ValueError("max_side must be at least 1.")
    with _opened(source) as fp:
        image, _ = _open(fp)
        try:
            if max_side is not None and image.format == "JPEG":
                image.draft(image.mode, (max_side, max_side))  # DCT scaling: decode less
            image.load()
            shown = ImageOps.exif_transpose(image)
        except Exception as exc:
            raise ImageError("The image data is truncated or corrupt.") from exc
    shown = _display_mode(shown)
    if max_side is not None and max(shown.size) > max_side:
        shown.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return shown


def _opened(source: Source) -> BinaryIO:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(source)
    return Path(source).open("rb")


def _open(fp: BinaryIO) -> tuple[ImageFile.ImageFile, str]:
    """Open with the plugin the magic bytes name and refuse oversize images before decoding."""
    head = fp.read(8)
    fp.seek(0)
    plugin: type[ImageFile.ImageFile]
    if head.startswith(_PNG_SIGNATURE):
        plugin, kind = PngImagePlugin.PngImageFile, "png"
    elif head.startswith(_JPEG_SIGNATURE):
        plugin, kind = JpegImagePlugin.JpegImageFile, "jpeg"
    else:
        raise ImageError("The file is not a PNG or JPEG image.")
    try:
        image = plugin(fp)
    except Exception as exc:
        raise ImageError(f"The file is not a readable {kind.upper()} image.") from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageError("The image has no pixels.")
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"The image is {width}x{height}, more than {MAX_PIXELS // 1_000_000} megapixels.",
            code="image_too_large",
        )
    return image, kind


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    try:
        orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # unreadable EXIF: show the image as stored
        orientation = 1
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _display_mode(image: Image.Image) -> Image.Image:
    """Convert to "L", "RGB" or "RGBA" (the modes browsers and PNG encoders handle everywhere)."""
    if image.mode in ("L", "RGB", "RGBA"):
        return image
    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image, dtype=np.int64)
        return Image.fromarray((np.clip(values, 0, 65535) >> 8).astype(np.uint8))
    if image.mode == "F":
        return image.convert("L")
    if image.mode == "1":
        return image.convert("L")
    has_alpha = image.mode in ("LA", "PA", "RGBa", "La") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")
