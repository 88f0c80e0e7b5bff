"""Which burned-in words are PHI: the pixel policy, and the boxes it decides to black out or keep.

Only images that `report.burned_in` flags are read (BurnedInAnnotation YES, or absent on a modality that burns
text in); BurnedInAnnotation NO is respected. Under policy ``ocr`` a word is blacked out when

1. ``header``: it matches an identifier of the instance's own header (a part of a person name, a patient or
   accession ID, an institution name word; a header word of four or more characters inside the OCR word, or
   a display truncated to a prefix of four or more letters, counts);
2. ``engine``: the text de-identification engine (`annotators.deid.analyze`) finds PHI in the word's OCR line;
3. ``pattern``: it is date-shaped (``08/29/1951``) or holds a run of six or more digits (an MRN, an accession);
4. ``banner``: it lies in a banner zone (by default the top tenth of the frame, where scanners write the
   patient's demographics) and is not a technical label: ultrasound and other modalities print depth, gain,
   frequency, acoustic indices and probe names (``4.0cm``, ``H4.00 MHz``, ``TIS0.5``, ``L12-5``), which are kept.

Policy ``all-text`` blacks out every word found; ``flag`` reads nothing and only flags the image for review.
A box records where a word was (frame pixels, padded as blacked out), its label, why, how many characters it
had and whether it was blacked out, never the text itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from itertools import groupby
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from annotators.deid.dicom.ocr import MIN_CONFIDENCE, OcrWord
from annotators.dicom.errors import DicomError

MODES = ("ocr", "all-text", "flag")
_DATE = re.compile(r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}")
_LONG_NUMBER = re.compile(r"\d{6,}")
# Units and display labels that ultrasound, fluoroscopy and nuclear medicine overlays print next to numbers.
_TECHNICAL = frozenset({
    "MHZ", "KHZ", "HZ", "CM", "MM", "DB", "FPS", "BPM", "MS", "SEC", "KV", "KVP", "MA", "MAS", "TIS", "TIB", "TIC",
    "MI", "THI", "PRF", "WF", "CW", "PW", "DR", "GN", "GAIN", "DEPTH", "FRQ", "FREQ", "PWR", "POWER", "ZOOM",
})  # fmt: skip
_NAME_SPLIT = re.compile(r"[\^,\s]+")
_GENERIC_PLACE_WORDS = frozenset({
    "THE", "OF", "AND", "FOR", "AT", "HOSPITAL", "HOSPITALS", "CLINIC", "CLINICS", "MEDICAL", "CENTER", "CENTRE",
    "HEALTH", "GENERAL", "UNIVERSITY", "INSTITUTE", "IMAGING", "RADIOLOGY", "SAINT", "DEPARTMENT", "DEPT",
})  # fmt: skip
_ID_KEYWORDS = ("PatientID", "OtherPatientIDs", "AccessionNumber", "StudyID", "IssuerOfPatientID",
                "AdmissionID", "MedicalRecordLocator")  # fmt: skip
_PLACE_KEYWORDS = ("InstitutionName", "InstitutionAddress", "PatientAddress", "InstitutionalDepartmentName",
                   "StationName")  # fmt: skip
_LINE_SEPARATORS = str.maketrans({"^": " ", ",": " ", "_": " ", "|": " "})

Analyzer = Callable[[str], Sequence[Any]]  # text -> spans with .start, .end, .label


class UnknownPixelPolicyError(DicomError, ValueError):
    """A pixel policy other than ``ocr``, ``all-text`` or ``flag``, or a setting out of range."""

    code = "unknown_pixel_policy"


@dataclass(frozen=True)
class PixelPolicy:
    """How burned-in text is handled: ``mode`` (``ocr``, ``all-text``, ``flag``), the banner zones as fractions
    of the frame height (top and bottom), tesseract's minimum word confidence, how many frames of a multi-frame
    image are read (evenly spaced; a box found on one is blacked out on every frame) and the padding in pixels
    around each blacked-out word."""

    mode: str = "ocr"
    banner_top: float = 0.10
    banner_bottom: float = 0.0
    min_confidence: float = MIN_CONFIDENCE
    max_frames: int = 8
    pad: int = 2

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UnknownPixelPolicyError(f"Unknown pixel policy {self.mode!r}; valid: {', '.join(MODES)}.")
        if not (0 <= self.banner_top <= 0.5 and 0 <= self.banner_bottom <= 0.5):
            raise UnknownPixelPolicyError("Banner zones must be fractions of the frame height between 0 and 0.5.")
        if self.max_frames < 1 or self.pad < 0 or not 0 <= self.min_confidence <= 100:
            raise UnknownPixelPolicyError("max_frames must be >= 1, pad >= 0 and min_confidence 0..100.")


@dataclass(frozen=True)
class PixelBox:
    """One word found in the pixels: frame (0-based) and box in pixels, a PHI label (``TEXT`` when none),
    ``reason`` (``header``, ``engine``, ``pattern``, ``banner``, ``all-text`` or ``kept``), ``chars`` (the
    word's length, never its text), whether it was blacked out, and ``source`` (``tesseract@5.3.0``)."""

    frame: int
    x: int
    y: int
    width: int
    height: int
    label: str
    reason: str
    chars: int
    redacted: bool
    source: str

    def geometry(self) -> dict[str, Any]:
        """The box as the server stores an image region: ``{"type": "box", "points": [[x0, y0], [x1, y1]]}``."""
        return {"type": "box", "points": [[self.x, self.y], [self.x + self.width, self.y + self.height]]}

    def as_dict(self) -> dict[str, Any]:
        """JSON form for reports (no text)."""
        return asdict(self)


def header_terms(ds: Dataset) -> dict[str, str]:
    """Upper-case identifier words of the instance's own header, mapped to a label (NAME, ID, INSTITUTION)."""
    terms: dict[str, str] = {}
    for elem in ds:
        if elem.VR == "PN" and elem.value:
            for value in elem.value if elem.VM > 1 else [elem.value]:
                for part in _NAME_SPLIT.split(str(value).upper()):
                    if len(part) >= 2 and any(ch.isalpha() for ch in part):
                        terms.setdefault(part.strip(".'"), "NAME")
    for keywords, label, shortest in ((_ID_KEYWORDS, "ID", 3), (_PLACE_KEYWORDS, "INSTITUTION", 4)):
        for keyword in keywords:
            value = ds.get(keyword)
            if not value:
                continue
            for item in list(value) if isinstance(value, MultiValue | list | tuple) else [value]:
                for part in re.split(r"[^0-9A-Za-z]+", str(item).upper()):
                    if len(part) >= shortest and part not in _GENERIC_PLACE_WORDS:
                        terms.setdefault(part, label)
    return terms


def _header_label(word: str, terms: dict[str, str]) -> str | None:
    for part in re.split(r"[^0-9A-Za-z]+", word.upper()):
        if len(part) < 2:
            continue
        if part in terms:
            return terms[part]
        # OCR often reads a separator as a letter ("DOE^JANE" -> "DOEAJANE"): a longer header word inside counts
        inside = next((label for term, label in terms.items() if len(term) >= 4 and term in part), None)
        if inside:
            return inside
        if len(part) >= 4 and part.isalpha() and word.rstrip().endswith((".", "…")):  # truncated on screen
            match = next((label for term, label in terms.items() if term.startswith(part)), None)
            if match:
                return match
    return None


def _pattern_label(word: str) -> str | None:
    if _DATE.search(word):
        return "DATE"
    if _LONG_NUMBER.search(word):
        return "ID"
    return None


def phi_shaped(word: str, terms: dict[str, str]) -> bool:
    """True when ``word`` matches a header identifier (see `header_terms`) or is date-shaped / a long number."""
    return _header_label(word, terms) is not None or _pattern_label(word) is not None


def is_technical(word: str) -> bool:
    """A display label rather than an identifier: a short number with optional unit or prefix (``60%``,
    ``L12-5``, ``TIS0.5``, ``20dB/DR60``), or a known unit / acoustic index (``MHz``, ``TIB``)."""
    core = word.strip(".:;,*'\"()[]-_")
    letters = re.sub(r"[^A-Za-z]", "", core).upper()
    digits = sum(ch.isdigit() for ch in core)
    if digits:
        return digits <= 5 and _pattern_label(core) is None and len(letters) <= 6
    return bool(letters) and letters in _TECHNICAL


def _engine_labels(words: list[OcrWord], analyze: Analyzer) -> dict[int, str]:
    """PHI labels by word index, from running each OCR line through the text engine."""
    labels: dict[int, str] = {}
    indexed = sorted(enumerate(words), key=lambda item: item[1].line)
    for _line, group in groupby(indexed, key=lambda item: item[1].line):
        members = list(group)
        text, offsets = "", []
        for index, word in members:
            if text:
                text += " "
            offsets.append((index, len(text), len(text) + len(word.text)))
            text += word.text
        for span in analyze(text.translate(_LINE_SEPARATORS)):
            for index, start, end in offsets:
                if start < span.end and span.start < end:
                    labels.setdefault(index, str(span.label))
    return labels


def _in_banner(word: OcrWord, height: int, policy: PixelPolicy) -> bool:
    top, bottom = height * policy.banner_top, height * (1 - policy.banner_bottom)
    return word.y + word.height / 2 < top or (policy.banner_bottom > 0 and word.y + word.height / 2 > bottom)


def classify(
    words: list[OcrWord],
    *,
    frame: int,
    size: tuple[int, int],
    policy: PixelPolicy,
    terms: dict[str, str],
    source: str,
    analyze: Analyzer | None = None,
) -> list[PixelBox]:
    """One `PixelBox` per word of ``frame`` (``size`` is its width, height): PHI or not, under ``policy``.
    ``analyze`` is the text engine (default `annotators.deid.analyze`, loaded only when there are words)."""
    if not words:
        return []
    engine: dict[int, str] = {}
    if policy.mode == "ocr":
        if analyze is None:
            from annotators.deid import analyze as default_analyze

            analyze = default_analyze
        engine = _engine_labels(words, analyze)
    boxes = []
    for index, word in enumerate(words):
        label, reason = "TEXT", "kept"
        if policy.mode == "all-text":
            reason = "all-text"
        elif found := _header_label(word.text, terms):
            label, reason = found, "header"
        elif index in engine:
            label, reason = engine[index], "engine"
        elif found := _pattern_label(word.text):
            label, reason = found, "pattern"
        elif _in_banner(word, size[1], policy) and not is_technical(word.text):
            reason = "banner"
        boxes.append(_box(word, frame, size, policy.pad if reason != "kept" else 0, label, reason, source))
    return boxes


def _box(word: OcrWord, frame: int, size: tuple[int, int], pad: int, label: str, reason: str, source: str) -> PixelBox:
    x0, y0 = max(word.x - pad, 0), max(word.y - pad, 0)
    x1, y1 = min(word.x + word.width + pad, size[0]), min(word.y + word.height + pad, size[1])
    return PixelBox(frame, x0, y0, x1 - x0, y1 - y0, label, reason, len(word.text), reason != "kept", source)
