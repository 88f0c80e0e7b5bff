"""De-identification of dictation audio: silence the samples under every PHI word of its transcript.

The transcript's words carry start/end times; PHI spans carry character offsets into the transcript text. Words
are aligned to the text (their own ``char_start``/``char_end`` when present, else found in order), each PHI span
becomes the time interval of the words it covers (padded a little), and those samples are set to zero. The
mapping from every silenced interval to its text span is returned so a reviewer can check it."""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SilencedInterval:
    """Seconds [start, end) of audio silenced for the transcript characters [span_start, span_end)."""

    start: float
    end: float
    label: str
    span_start: int
    span_end: int


def align_words(text: str, words: Sequence[dict[str, Any]]) -> list[tuple[int, int] | None]:
    """Character offsets of each timed word in `text` (None when a word cannot be found after the previous)."""
    out: list[tuple[int, int] | None] = []
    cursor = 0
    lowered = text.lower()
    for w in words:
        if isinstance(w.get("char_start"), int) and isinstance(w.get("char_end"), int):
            out.append((w["char_start"], w["char_end"]))
            cursor = w["char_end"]
            continue
        token = str(w.get("word", "")).strip().lower()
        pos = lowered.find(token, cursor) if token else -1
        if pos < 0:
            out.append(None)
            continue
        out.append((pos, pos + len(token)))
        cursor = pos + len(token)
    return out


def phi_intervals(text: str, words: Sequence[dict[str, Any]], spans: Sequence[Any], *,
                  pad: float = 0.05) -> list[SilencedInterval]:
    """The audio interval of every PHI span (objects with start, end, label), from the words it overlaps."""
    offsets = align_words(text, words)
    intervals = []
    for span in spans:
        times = [
            (float(w["start"]), float(w["end"]))
            for w, off in zip(words, offsets, strict=True)
            if off is not None and off[0] < span.end and span.start < off[1]
        ]
        if times:
            intervals.append(SilencedInterval(max(0.0, min(t[0] for t in times) - pad),
                                              max(t[1] for t in times) + pad, span.label, span.start, span.end))
    return intervals


def silence(samples: np.ndarray, rate: int, intervals: Sequence[SilencedInterval]) -> np.ndarray:
    """A copy of `samples` with every interval set to zero (the original array is left unchanged)."""
    out = samples.copy()
    for iv in intervals:
        out[int(iv.start * rate): int(np.ceil(iv.end * rate))] = 0
    return out


def to_wav(samples: np.ndarray, rate: int) -> bytes:
    """16-bit mono PCM WAV bytes of float samples in [-1, 1]."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def deidentify_recording(source: Any, text: str, words: Sequence[dict[str, Any]],
                         spans: Sequence[Any]) -> tuple[bytes, list[SilencedInterval]]:
    """Decode `source` (path or file object), silence the PHI words, return WAV bytes and the intervals."""
    from annotators.transcription.decoding import SAMPLE_RATE, load

    intervals = phi_intervals(text, words, spans)
    return to_wav(silence(load(source), SAMPLE_RATE, intervals), SAMPLE_RATE), intervals
