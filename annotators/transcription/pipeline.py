"""File (or samples) → `Transcript`: decode, chunk, run an engine, shift timings, correct vocabulary.

Long recordings are decoded as a stream and cut into pieces of at most `chunk_seconds` at quiet moments
(see `decoding.chunks`), so memory stays bounded and no word is split; silent pieces are skipped (whisper
invents words on silence). The pieces that are left, of one recording or of several (`transcribe_many`), go
to the engine `batch_size` at a time (`TranscriptionEngine.transcribe_batch`); each recording's transcript is
assembled from its own pieces, the same as alone. With a vocabulary prompt, a piece is decoded a second time
prompted with the terms its first pass heard or nearly heard (`focus`). `seconds` counts decoding, recognition
and correction (a batch's time shared by audio length), not loading the model.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO

import numpy as np

from annotators.transcription import decoding
from annotators.transcription.correction import correct
from annotators.transcription.engine import DecodeOptions, EngineOutput, TranscriptionEngine
from annotators.transcription.focus import focused_prompt
from annotators.transcription.result import Correction, Refocused, Segment, Transcript, Word, join_words
from annotators.transcription.vocabulary import Vocabulary, from_ontology

Progress = Callable[[float, float | None], None]  # (seconds done, total seconds if known)
CHUNK_SECONDS = 30.0  # one whisper window: each piece decodes once, cut at a pause, prompted anew
BATCH_SIZE = 8  # pieces decoded together (see `transcribe_many`)


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
    batch_size: int = BATCH_SIZE,
    focus: bool = True,
) -> Transcript:
    """Transcribe an audio file with `engine` (a long one's pieces decoded `batch_size` at a time).
    `vocabulary` True uses the radiology lexicon, a `Vocabulary` uses that one, False/None none; `prompt`
    says whether it also becomes the initial prompt (corrections always apply when there is a vocabulary),
    `focus` whether a prompted piece is decoded again with the terms its first pass heard or nearly heard.
    Raises `annotators.audio.AudioError` for undecodable input."""
    total = decoding.estimated_duration(source) if isinstance(source, str | os.PathLike) else None
    return transcribe_chunks(decoding.chunks(decoding.stream(source), chunk_seconds), engine,
                             vocabulary=vocabulary, prompt=prompt, options=options, progress=progress, total=total,
                             batch_size=batch_size, focus=focus)


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
    batch_size: int = BATCH_SIZE,
    focus: bool = True,
) -> Transcript:
    """Transcribe (offset seconds, samples) pieces, `batch_size` at a time, and assemble one transcript."""
    batches = _Batches(engine, vocabulary, prompt, options, batch_size, progress, total, focus)
    result = next(batches.run([lambda: pieces]))
    if isinstance(result, Exception):
        raise result
    return result


def transcribe_many(
    sources: Iterable[str | os.PathLike[str] | IO[bytes]],
    engine: TranscriptionEngine,
    *,
    vocabulary: Vocabulary | bool | None = True,
    prompt: bool = True,
    options: DecodeOptions | None = None,
    chunk_seconds: float = CHUNK_SECONDS,
    batch_size: int = BATCH_SIZE,
    focus: bool = True,
) -> Iterator[Transcript | Exception]:
    """Transcribe several audio files, pieces of consecutive files decoded together in batches of
    `batch_size`, and yield one result per source in input order: its `Transcript` (the same as `transcribe`
    gives; `seconds` is its share of the batches' time, by audio length), or the exception reading or
    decoding it raised (`AudioError`, `OSError`...), so that one bad file does not stop the others."""
    def reader(source: str | os.PathLike[str] | IO[bytes]) -> Callable[[], Iterable[tuple[float, np.ndarray]]]:
        return lambda: decoding.chunks(decoding.stream(source), chunk_seconds)

    batches = _Batches(engine, vocabulary, prompt, options, batch_size, focus=focus)
    yield from batches.run(reader(source) for source in sources)


@dataclass
class _Source:
    """One recording on its way through the batches: decoded segments per piece, what is still pending."""

    pieces: list[tuple[float, list[Segment]]] = field(default_factory=list)
    refocused: list[Refocused] = field(default_factory=list)
    pending: int = 0
    read: bool = False
    duration: float = 0.0
    seconds: float = 0.0
    language: str = ""
    error: Exception | None = None


class _Batches:
    """Pieces of one or more recordings queued and decoded `batch_size` at a time; each recording's
    transcript is assembled once all its pieces are back, and yielded in the order the recordings came."""

    def __init__(self, engine: TranscriptionEngine, vocabulary: Vocabulary | bool | None, prompt: bool,
                 options: DecodeOptions | None, batch_size: int, progress: Progress | None = None,
                 total: float | None = None, focus: bool = True) -> None:
        engine.load()
        self.engine, self.vocab = engine, _vocabulary(vocabulary)
        self.options = options or DecodeOptions()
        self.focus = False  # only a vocabulary's own prompt is refocused, never one the caller gave
        if self.vocab is not None and prompt and self.options.initial_prompt is None:
            self.options = replace(self.options, initial_prompt=self.vocab.prompt() or None)
            self.focus = focus
        # focused prompts as long as the first pass's, so that a batch's second passes decode together
        self.tokens = engine.prompt_counter()
        self.batch_size = max(1, batch_size)
        self.progress, self.total = progress, total
        self.queue: list[tuple[_Source, int, np.ndarray]] = []

    def run(self, readers: Iterable[Callable[[], Iterable[tuple[float, np.ndarray]]]]
            ) -> Iterator[Transcript | Exception]:
        """One result per reader, in order (see `transcribe_many`)."""
        waiting: deque[_Source] = deque()
        for read in readers:
            source = _Source()
            waiting.append(source)
            started = time.perf_counter()
            try:
                for offset, samples in read():
                    source.duration = offset + samples.size / decoding.SAMPLE_RATE
                    source.pieces.append((offset, []))
                    if not decoding.is_silent(samples):
                        self.queue.append((source, len(source.pieces) - 1, samples))
                        source.pending += 1
                    if len(self.queue) >= self.batch_size:
                        source.seconds += time.perf_counter() - started
                        self._decode()
                        started = time.perf_counter()
            except Exception as exc:  # noqa: BLE001 - reported in this source's place (see `transcribe_many`)
                source.error = exc
            source.read = True
            source.seconds += time.perf_counter() - started
            while waiting and waiting[0].read and (waiting[0].pending == 0 or waiting[0].error):
                yield self._finish(waiting.popleft())
        self._decode()
        while waiting:
            yield self._finish(waiting.popleft())

    def _decode(self) -> None:
        """Decode the queued pieces as one batch (time shared by audio length). When the batch fails, each
        piece is tried alone, and a piece that fails still fails its own recording only."""
        batch = [(source, k, samples) for source, k, samples in self.queue if source.error is None]
        self.queue = []
        if not batch:
            return
        started = time.perf_counter()
        try:
            outputs: list[EngineOutput | Exception] = list(self.engine.transcribe_batch(
                [samples for _, _, samples in batch], self.options, self._refocus if self.focus else None))
        except Exception as exc:  # noqa: BLE001 - narrowed down to the piece(s) at fault
            outputs = [self._alone(samples) for _, _, samples in batch] if len(batch) > 1 else [exc]
        audio = sum(samples.size for _, _, samples in batch)
        elapsed = time.perf_counter() - started
        for (source, k, samples), out in zip(batch, outputs, strict=True):
            source.pending -= 1
            source.seconds += elapsed * samples.size / audio
            if isinstance(out, Exception):
                source.error = source.error or out
                continue
            offset = source.pieces[k][0]
            source.pieces[k] = (offset, [s.shifted(offset) for s in out.segments])
            if out.first_pass is not None and out.focus_prompt is not None:
                end = offset + samples.size / decoding.SAMPLE_RATE
                source.refocused.append(Refocused(offset, end, out.first_pass, out.focus_prompt))
            source.language = source.language or out.language
        if self.progress is not None:
            done = max(source.pieces[k][0] + samples.size / decoding.SAMPLE_RATE for source, k, samples in batch)
            self.progress(done, self.total)

    def _refocus(self, words: tuple[Word, ...]) -> str | None:
        """The prompt to decode a piece again with: the terms its (corrected) first-pass words name or sound like."""
        assert self.vocab is not None
        return focused_prompt(correct(words, self.vocab)[0], self.vocab, tokens=self.tokens,
                              first=self.options.initial_prompt)

    def _alone(self, samples: np.ndarray) -> EngineOutput | Exception:
        try:
            return self.engine.transcribe_batch([samples], self.options, self._refocus if self.focus else None)[0]
        except Exception as exc:  # noqa: BLE001 - reported in its recording's place
            return exc

    def _finish(self, source: _Source) -> Transcript | Exception:
        if source.error is not None:
            return source.error
        started = time.perf_counter()
        segments = [s for _, found in source.pieces for s in found]
        words: list[Word] = [w for s in segments for w in s.words]
        corrections: list[Correction] = []
        if self.vocab is not None and words:
            words, corrections = correct(words, self.vocab)
        text = join_words(words) if words else "".join(s.text for s in segments).strip()
        language = self.options.language or source.language or ("en" if self.engine.model.endswith(".en") else "")
        return Transcript(
            text=text,
            segments=segments,
            words=words,
            language=language,
            engine=self.engine.name,
            model=self.engine.model_label,
            duration=source.duration,
            seconds=source.seconds + time.perf_counter() - started,
            corrections=corrections,
            prompt=self.options.initial_prompt,
            refocused=sorted(source.refocused, key=lambda r: r.start),
        )
