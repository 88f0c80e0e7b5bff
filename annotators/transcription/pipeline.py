"""File (or samples) → `Transcript`: decode, chunk, run an engine, shift timings, correct vocabulary.

Long recordings are decoded as a stream and cut into pieces of at most `chunk_seconds` at quiet moments
(see `decoding.chunks`), so memory stays bounded and no word is split; silent pieces are skipped (whisper
invents words on silence). `seconds` counts decoding, recognition and correction, not loading the model.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO

import numpy as np

from annotators.transcription import decoding
from annotators.transcription.correction import correct
from annotators.transcription.engine import DecodeOptions, TranscriptionEngine
from annotators.transcription.result import Correction, Segment, Transcript, Word, join_words
from annotators.transcription.vocabulary import Vocabulary, from_ontology

Progress = Callable[[float, float | None], None]  # (seconds done, total seconds if known)
CHUNK_SECONDS = 30.0  # one whisper window: each piece decodes once, cut at a pause, prompted anew


def _vocabulary(vocabulary: Vocabulary | bool | None) -> Vocabulary | None:
    if vocabulary is True:
        return from_ontology()
    return vocabulary or None


def transcribe(
    source: str | os.PathLike[str] | IO[bytes],
    engine: TranscriptionEngine,
    *,
    vocabulary: Vocabulary | bool | None = True,
    prompt: bool = True,
    options: DecodeOptions | None = None,
    chunk_seconds: float = CHUNK_SECONDS,
    progress: Progress | None = None,
) -> Transcript:
    """Transcribe an audio file with `engine`. `vocabulary` True uses the radiology lexicon, a `Vocabulary`
    uses that one, False/None none; `prompt` says whether it also becomes the initial prompt (corrections
    always apply when there is a vocabulary). Raises `annotators.audio.AudioError` for undecodable input."""
    total = decoding.estimated_duration(source) if isinstance(source, str | os.PathLike) else None
    return transcribe_chunks(decoding.chunks(decoding.stream(source), chunk_seconds), engine,
                             vocabulary=vocabulary, prompt=prompt, options=options, progress=progress, total=total)


def transcribe_samples(samples: np.ndarray, engine: TranscriptionEngine, **kwargs: object) -> Transcript:
    """Transcribe 16 kHz mono float32 samples already in memory (same keywords as `transcribe`)."""
    chunk_seconds = float(kwargs.pop("chunk_seconds", CHUNK_SECONDS))  # type: ignore[arg-type]
    blocks: Iterator[np.ndarray] = iter([samples]) if samples.size else iter([])
    return transcribe_chunks(decoding.chunks(blocks, chunk_seconds), engine, **kwargs)  # type: ignore[arg-type]


def transcribe_chunks(
    pieces: Iterable[tuple[float, np.ndarray]],
    engine: TranscriptionEngine,
    *,
    vocabulary: Vocabulary | bool | None = True,
    prompt: bool = True,
    options: DecodeOptions | None = None,
    progress: Progress | None = None,
    total: float | None = None,
) -> Transcript:
    """Transcribe (offset seconds, samples) pieces in order and assemble one transcript."""
    engine.load()
    vocab = _vocabulary(vocabulary)
    options = options or DecodeOptions()
    if vocab is not None and prompt and options.initial_prompt is None:
        options = DecodeOptions(**{**options.__dict__, "initial_prompt": vocab.prompt() or None})
    started = time.perf_counter()
    segments: list[Segment] = []
    language = options.language or ""
    duration = 0.0
    for offset, samples in pieces:
        duration = offset + samples.size / decoding.SAMPLE_RATE
        if not decoding.is_silent(samples):
            out = engine.transcribe(samples, options)
            segments.extend(s.shifted(offset) for s in out.segments)
            language = language or out.language
        if progress is not None:
            progress(duration, total)
    words: list[Word] = [w for s in segments for w in s.words]
    corrections: list[Correction] = []
    if vocab is not None and words:
        words, corrections = correct(words, vocab)
    text = join_words(words) if words else "".join(s.text for s in segments).strip()
    return Transcript(
        text=text,
        segments=segments,
        words=words,
        language=language or ("en" if engine.model.endswith(".en") else ""),
        engine=engine.name,
        model=engine.model_label,
        duration=duration,
        seconds=time.perf_counter() - started,
        corrections=corrections,
        prompt=options.initial_prompt,
    )
