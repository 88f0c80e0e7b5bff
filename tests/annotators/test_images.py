"""Tests for annotators.images: PNG/JPEG probing, decompression-bomb refusal and rendering."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from annotators.images import IMAGE_EXTENSIONS, MAX_PIXELS, ImageError, ImageInfo, probe_image, render_image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noise(width: int, height: int, mode: str = "RGB") -> Image.Image:
    shape = (height, width, 3) if mode == "RGB" else (height, width)
    return Image.fromarray(np.random.default_rng(3).integers(0, 255, shape, dtype=np.uint8))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but holds no pixel data at all."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    return encode(noise(40, 30), "JPEG", exif=exif.tobytes())


@pytest.mark.parametrize(
    "blob, expected",
    [
        (encode(noise(40, 30), "PNG"), ImageInfo("png", "image/png", 40, 30, "RGB")),
        (encode(noise(40, 30, "L"), "PNG"), ImageInfo("png", "image/png", 40, 30, "L")),
        (encode(Image.new("RGBA", (5, 7)), "PNG"), ImageInfo("png", "image/png", 5, 7, "RGBA")),
        (encode(Image.new("I;16", (9, 4)), "PNG"), ImageInfo("png", "image/png", 9, 4, "I;16")),
        (encode(noise(40, 30), "JPEG"), ImageInfo("jpeg", "image/jpeg", 40, 30, "RGB")),
        (encode(noise(40, 30, "L"), "JPEG"), ImageInfo("jpeg", "image/jpeg", 40, 30, "L")),
        (rotated_jpeg(), ImageInfo("jpeg", "image/jpeg", 30, 40, "RGB")),
    ],
    ids=["png-rgb", "png-grey", "png-rgba", "png-16bit", "jpeg-rgb", "jpeg-grey", "jpeg-exif-rotated"],
)
def test_probe_image(blob: bytes, expected: ImageInfo) -> None:
    assert probe_image(blob) == expected


def test_probe_from_path(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpeg"
    path.write_bytes(encode(noise(8, 8), "JPEG"))
    assert probe_image(path).format == probe_image(str(path)).format == "jpeg"


@pytest.mark.parametrize(
    "blob, code",
    [
        (b"", "not_image"),
        (b"Impression: normal study.\n" * 10, "not_image"),
        (encode(noise(4, 4), "GIF"), "not_image"),
        (encode(noise(4, 4), "BMP"), "not_image"),
        (encode(noise(200, 200), "PNG")[:-1000], "not_image"),
        (encode(noise(200, 200), "JPEG")[:-1000], "not_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "not_image"),
        (png_header_only(10_001, 10_000), "image_too_large"),
        (png_header_only(60_000, 60_000), "image_too_large"),
    ],
    ids=[
        "empty",
        "text",
        "gif",
        "bmp",
        "png-truncated",
        "jpeg-truncated",
        "png-junk",
        "bomb-100mp",
        "bomb-3.6gp",
    ],
)
def test_bad_images_are_refused(blob: bytes, code: str) -> None:
    for call in (probe_image, render_image):
        with pytest.raises(ImageError) as caught:
            call(blob)
        assert caught.value.code == code


def test_limits_and_extensions() -> None:
    assert MAX_PIXELS == 100_000_000
    with pytest.raises(ImageError) as caught:
        probe_image(png_header_only(10_000, 10_000))
    assert (
        caught.value.code == "not_image"
    )  # exactly at the limit: allowed in, then refused for no pixel data
    assert {".png", ".jpg", ".jpeg"} == IMAGE_EXTENSIONS


def test_png_named_jpg_is_probed_by_content(tmp_path: Path) -> None:
    path = tmp_path / "scan.jpg"
    path.write_bytes(encode(noise(6, 6), "PNG"))
    assert probe_image(path).format == "png"


@pytest.mark.parametrize(
    "image, fmt, mode",
    [
        (noise(40, 30), "PNG", "RGB"),
        (noise(40, 30, "L"), "PNG", "L"),
        (Image.new("RGBA", (40, 30)), "PNG", "RGBA"),
        (Image.new("P", (40, 30)), "PNG", "RGB"),
        (Image.new("1", (40, 30)), "PNG", "L"),
        (noise(40, 30), "JPEG", "RGB"),
    ],
)
def test_render_modes(image: Image.Image, fmt: str, mode: str) -> None:
    out = render_image(encode(image, fmt))
    assert (out.mode, out.size) == (mode, (40, 30))


def test_render_16_bit_grey_scales_to_8_bits() -> None:
    values = np.array([[0, 256, 65535]], dtype=np.uint16)
    out = render_image(encode(Image.fromarray(values), "PNG"))
    assert out.mode == "L"
    assert np.asarray(out).tolist() == [[0, 1, 255]]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_render_max_side_keeps_the_aspect(fmt: str) -> None:
    out = render_image(encode(noise(400, 100), fmt), max_side=128)
    assert out.size == (128, 32)
    assert render_image(encode(noise(40, 10), fmt), max_side=128).size == (40, 10)  # never enlarged
    with pytest.raises(ValueError):
        render_image(encode(noise(4, 4), fmt), max_side=0)


def test_render_applies_exif_orientation() -> None:
    assert render_image(rotated_jpeg()).size == (30, 40)
