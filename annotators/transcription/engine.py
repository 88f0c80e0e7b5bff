"""The one contract every transcription engine keeps, and the options they share.

An engine is built with a model (a packaged name such as ``tiny.en`` or a path) and a device, loads its
weights lazily on first use, and turns 16 kHz mono float32 samples into segments with word timings (seconds
from the start of the samples) and the language. Engines never decode files and never touch vocabulary:
`annotators.transcription.pipeline` does both around them; the one hook is `Refocus`, a function the pipeline
passes in that turns a piece's first-pass words into a prompt to decode that piece again with.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from annotators.transcription.result import Segment, TranscriptionError, Word

DEVICES = ("cpu", "cuda", "auto")
# Whisper's own thresholds: a window it judges as probably silent (no-speech probability) and a word it
# barely believes (probability under 0.15 counts as anomalous in its hallucination check).
WINDOW_SAMPLES = 30 * 16000  # whisper hears 30 seconds at a time
NO_SPEECH_PROB = 0.6
IMPROBABLE_WORD = 0.15
# Temperature fallback and its thresholds as both libraries default them; beam search at temperature 0.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
# A window that fails those thresholds is decoded again by sampling at a higher temperature. The engines seed
# their library's random generator with this: openai-whisper's (torch) before each piece, so a piece samples
# the same way alone or in a batch; faster-whisper's (CTranslate2 seeds a thread's generator once, at its
# first use), so the same command on the same files gives the same transcripts in every process.
SAMPLING_SEED = 0
Refocus = Callable[[tuple[Word, ...]], str | None]  # a piece's first-pass words -> a prompt to decode it again


@dataclass(frozen=True)
class DecodeOptions:
    """Decoding settings both engines honour identically (same settings + same weights = same transcript).

    ``condition_on_previous_text`` is off by default: on long dictations it lets one misheard window derail
    the next ones. ``language`` None lets a multilingual model detect it; English-only models force "en".
    ``without_timestamps`` (on by default) decodes a 30-second window in one go with no timestamp tokens:
    fewer tokens to generate and no early window end that re-decodes the remainder (where whisper loops on
    the silence after the last word and falls back through every temperature). Word timings come from the
    cross-attention alignment either way, so they are kept. With it, audio that fits one window is decoded
    once: both libraries would otherwise decode again from the last word's end (their word-timestamp seek),
    an encoder pass that hears only the silence after the last word and invents "Thank you." or a repeat.

    ``beam_size`` is 3, not the libraries' 5: with the vocabulary prompt each beam attends to the prompt at every
    step, so beams cost in proportion, and on 72 held-out dictations (faster-whisper base, int8, 2 cores,
    `bench/transcribe.py`) beam 3 found as many medical terms (305 of 343) with less WER in 12 % less time.
    """

    language: str | None = None
    beam_size: int = 3
    best_of: int = 5
    initial_prompt: str | None = None
    condition_on_previous_text: bool = False
    without_timestamps: bool = True
    temperatures: tuple[float, ...] = TEMPERATURES


@dataclass(frozen=True)
class EngineOutput:
    """Segments (times relative to the samples given) and the language decoded; for a piece decoded again
    (`Refocus`), what its first pass heard (`first_pass`) and the prompt of the second (`focus_prompt`)."""

    segments: list[Segment]
    language: str
    first_pass: str | None = None
    focus_prompt: str | None = None


class TranscriptionEngine(ABC):
    """Base class of the engines: `name`, `model`, `device`; `load()` once, `transcribe(samples, options)`."""

    name: ClassVar[str]

    def __init__(self, model: str = "tiny.en", *, device: str = "cpu", compute_type: str | None = None) -> None:
        if device not in DEVICES:
            raise TranscriptionError(f"unknown device {device!r}; valid: {', '.join(DEVICES)}", code="bad_device")
        self.model = model
        self.device = self._resolve_device(device)
        self.compute_type = compute_type
        self._loaded: Any = None
        self._lock = threading.Lock()

    @staticmethod
    @abstractmethod
    def cuda_available() -> bool:
        """Whether this engine's library sees a CUDA device."""

    @classmethod
    def cuda_unusable(cls) -> str | None:
        """Why this engine cannot run on a GPU here ("no GPU is visible", a missing library), or None."""
        return None if cls.cuda_available() else "no GPU is visible"

    def _resolve_device(self, device: str) -> str:
        if device == "cpu":
            return device
        reason = self.cuda_unusable()
        if device == "auto":
            return "cuda" if reason is None else "cpu"
        if reason is not None:
            raise TranscriptionError(f"{self.name}: device 'cuda' asked for but {reason}", code="no_gpu")
        return device

    @property
    def model_label(self) -> str:
        """The model as provenance shows it: a packaged name, or a path's last component."""
        return self.model.rstrip("/").rsplit("/", 1)[-1]

    def load(self) -> None:
        """Load the weights now (once); later calls return at once."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()

    def transcribe(self, samples: np.ndarray, options: DecodeOptions | None = None) -> EngineOutput:
        """Segments with words for 16 kHz mono float32 `samples`; one call at a time per engine."""
        self.load()
        with self._lock:
            return self._transcribe(np.ascontiguousarray(samples, dtype=np.float32), options or DecodeOptions())

    def transcribe_batch(self, pieces: list[np.ndarray], options: DecodeOptions | None = None,
                         refocus: Refocus | None = None) -> list[EngineOutput]:
        """`transcribe` for several pieces (each its own audio, times from its own start), one output each in
        order: the same result as one at a time; an engine whose library decodes a batch at once is faster.
        With `refocus`, a piece it gives a prompt for (from its first-pass words) is decoded again with it."""
        self.load()
        with self._lock:
            return self._transcribe_batch([np.ascontiguousarray(p, dtype=np.float32) for p in pieces],
                                          options or DecodeOptions(), refocus)

    def _transcribe_batch(self, pieces: list[np.ndarray], options: DecodeOptions,
                          refocus: Refocus | None = None) -> list[EngineOutput]:
        """One piece at a time unless the engine overrides it."""
        return [self._refocused(p, self._transcribe(p, options), options, refocus) for p in pieces]

    def _refocused(self, samples: np.ndarray, first: EngineOutput, options: DecodeOptions,
                   refocus: Refocus | None) -> EngineOutput:
        """`first`, or the piece decoded again with the prompt `refocus` gives for its words (kept only when
        that second pass heard something)."""
        prompt = second_prompt(refocus, first.segments, options)
        if prompt is None:
            return first
        again = self._transcribe(samples, replace(options, initial_prompt=prompt))
        if not any(s.words for s in again.segments):
            return first
        return replace(again, first_pass=said(first.segments), focus_prompt=prompt)

    def prompt_counter(self) -> Callable[[str], int] | None:
        """A function giving how many tokens whisper makes of a text as an initial prompt (the loaded
        weights' tokenizer), or None when this engine cannot tell."""
        return None

    @abstractmethod
    def _load(self) -> Any:
        """Build the library's model object."""

    @abstractmethod
    def _transcribe(self, samples: np.ndarray, options: DecodeOptions) -> EngineOutput:
        """Run the library on the samples."""


def second_prompt(refocus: Refocus | None, segments: list[Segment], options: DecodeOptions) -> str | None:
    """The prompt `refocus` gives a piece whose first pass heard `segments`; None when there is nothing to
    decode again (no refocus, no words, no prompt, or the prompt the first pass had)."""
    heard = tuple(w for s in segments for w in s.words)
    prompt = refocus(heard) if refocus is not None and heard else None
    return prompt if prompt and prompt != options.initial_prompt else None


def said(segments: list[Segment]) -> str:
    """The text of `segments`, as a refocused piece records what its first pass heard."""
    return " ".join(s.text.strip() for s in segments)


def make_word(text: str, start: float, end: float, prob: float) -> Word:
    """A `Word` from whisper's raw word (which carries its leading space)."""
    stripped = text.strip()
    sep = text[: len(text) - len(text.lstrip())]
    return Word(start=float(start), end=float(end), word=stripped, prob=float(prob), sep=sep)


TAIL_SECONDS = 1.0  # audio left after the first pass's last word that is not worth a second decoding pass


def one_window(samples: np.ndarray, options: DecodeOptions) -> bool:
    """Whether only the first window's decoding is wanted (see `DecodeOptions.without_timestamps`)."""
    return options.without_timestamps and samples.size <= WINDOW_SAMPLES


def reached_the_end(samples: np.ndarray, words: tuple[Word, ...]) -> bool:
    """Whether a window's first pass heard words up to (nearly) the end of the audio, so that what is left is
    the trailing pause, on which whisper only loops or invents. When the model stopped early, with more than
    `TAIL_SECONDS` left, the remainder is decoded as usual: it may hold real words."""
    duration = samples.size / WINDOW_SAMPLES * 30.0
    return bool(words) and words[-1].end >= duration - TAIL_SECONDS


def is_hallucination(no_speech_prob: float, words: tuple[Word, ...]) -> bool:
    """A segment decoded from what the model itself judges as silence (no-speech probability above
    `NO_SPEECH_PROB`) whose words are mostly improbable: whisper's invention on the remainder of a window
    (e.g. a repeat of earlier words, all at one instant, or "Thank you."), dropped by both engines."""
    if no_speech_prob <= NO_SPEECH_PROB or not words:
        return False
    return sum(w.prob < IMPROBABLE_WORD for w in words) * 2 >= len(words)
