"""Find words in a rendered frame with Debian's ``tesseract`` program (tesseract-ocr 5, English model).

    words = read_words(image)        # [OcrWord(text, x, y, width, height, confidence, line)], image pixels
    tesseract_version()              # "5.3.0", or None when the program is not installed

Tesseract runs as a subprocess (TSV output, page segmentation mode 11 "sparse text": overlay labels are scattered
words, not paragraphs; Sauvola local thresholding, ``thresholding_method=2``: its default global Otsu threshold
turns a coloured banner on a black frame into one solid block and loses the text on it) with
``OMP_THREAD_LIMIT=1`` (its OpenMP threads make it several times slower on a busy machine). The frame is turned
grey, inverted when it is mostly dark (overlay text is usually light on black; tesseract reads dark on light
best) and upscaled so that small overlay fonts reach the x-height tesseract reads well; coordinates come back in
the frame's own pixels. Nothing is written to disk: the image goes through stdin.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageOps

from annotators.dicom.errors import DicomError

#: The program's usual place on Debian; ``$PATH`` is searched when it is not there.
TESSERACT = "/usr/bin/tesseract"
MIN_CONFIDENCE = 25.0  # tesseract's word confidence (0-100); below this, mostly noise read from image texture
_TIMEOUT_S = 120


class OcrUnavailableError(DicomError):
    """The ``tesseract`` program is not installed (``apt-get install tesseract-ocr``) or failed to run."""

    code = "ocr_unavailable"


@dataclass(frozen=True)
class OcrWord:
    """One word tesseract read: its box in frame pixels, confidence 0-100 and the line it belongs to.

    ``line`` is tesseract's (block, paragraph, line) number: words of one line are read as one text."""

    text: str
    x: int
    y: int
    width: int
    height: int
    confidence: float
    line: tuple[int, int, int]


def tesseract_path() -> str | None:
    """The tesseract executable, or None when it is not installed."""
    if os.access(TESSERACT, os.X_OK):
        return TESSERACT
    return shutil.which("tesseract")


@lru_cache(maxsize=1)
def tesseract_version() -> str | None:
    """The installed tesseract version (``5.3.0``), or None when the program is missing or does not run."""
    path = tesseract_path()
    if path is None:
        return None
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    first = (done.stdout or done.stderr).strip().splitlines()
    if done.returncode != 0 or not first:
        return None
    return first[0].split()[-1]


def upscale_factor(width: int, height: int) -> int:
    """How much to enlarge a frame before OCR: overlay fonts are ~10-16 px, tesseract likes ~30 px capitals."""
    longest = max(width, height)
    if longest < 512:
        return 3
    return 2 if longest < 1600 else 1


def prepare(image: Image.Image, scale: int) -> Image.Image:
    """Grey, dark-on-light and enlarged by ``scale``: the image tesseract reads."""
    grey = image.convert("L")
    histogram = grey.histogram()
    dark = sum(histogram[:128]) > sum(histogram[128:])
    if dark:
        grey = ImageOps.invert(grey)
    if scale > 1:
        grey = grey.resize((grey.width * scale, grey.height * scale), Image.Resampling.LANCZOS)
    return grey


def read_words(image: Image.Image, *, min_confidence: float = MIN_CONFIDENCE, language: str = "eng") -> list[OcrWord]:
    """The words tesseract finds in ``image`` (any PIL mode) with at least ``min_confidence`` and one letter
    or digit, in frame coordinates. Raises `OcrUnavailableError` when tesseract is missing or fails."""
    path = tesseract_path()
    if path is None:
        raise OcrUnavailableError("The tesseract program is not installed (Debian package tesseract-ocr).")
    scale = upscale_factor(image.width, image.height)
    buffer = io.BytesIO()
    prepare(image, scale).save(buffer, format="PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            [path, "stdin", "stdout", "-l", language, "--psm", "11", "-c", "thresholding_method=2", "tsv"],
            input=buffer.getvalue(), capture_output=True, timeout=_TIMEOUT_S, env=env, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise OcrUnavailableError(f"tesseract could not run ({type(exc).__name__}).") from exc
    if done.returncode != 0:
        raise OcrUnavailableError(f"tesseract failed (exit status {done.returncode}).")
    return parse_tsv(done.stdout.decode("utf-8", "replace"), scale=scale, min_confidence=min_confidence)


def parse_tsv(tsv: str, *, scale: int = 1, min_confidence: float = MIN_CONFIDENCE) -> list[OcrWord]:
    """Words of tesseract's TSV output (level 5 rows), boxes divided by ``scale`` (rounded outwards)."""
    words = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":
            continue
        text = cells[11].strip()
        try:
            left, top, width, height = (int(v) for v in cells[6:10])
            confidence = float(cells[10])
        except ValueError:
            continue
        if confidence < min_confidence or not any(ch.isalnum() for ch in text):
            continue
        x0, y0 = left // scale, top // scale
        x1, y1 = -(-(left + width) // scale), -(-(top + height) // scale)
        line = (int(cells[2]), int(cells[3]), int(cells[4]))
        words.append(OcrWord(text, x0, y0, x1 - x0, y1 - y0, confidence, line))
    return words
