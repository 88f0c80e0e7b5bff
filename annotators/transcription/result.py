"""What a transcription produces: words with timings, segments, corrections, and the transcript around them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from annotators.errors import EngineError


class TranscriptionError(EngineError):
    """Base of the transcription engine's own errors (bad model name, missing weights, no GPU)."""

    code = "transcription_error"


@dataclass(frozen=True)
class Word:
    """One recognised word: seconds from the start of the audio, the text without surrounding spaces,
    whisper's probability, and the whitespace that preceded it (so the text can be rebuilt exactly)."""

    start: float
    end: float
    word: str
    prob: float
    sep: str = " "

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the CLI and the stored document: start, end, word, prob."""
        return {"start": round(self.start, 3), "end": round(self.end, 3), "word": self.word,
                "prob": round(self.prob, 4)}

    def shifted(self, seconds: float) -> Word:
        """The same word `seconds` later (chunk offsets)."""
        return replace(self, start=self.start + seconds, end=self.end + seconds)


@dataclass(frozen=True)
class Segment:
    """A stretch of speech as the engine decoded it, with its words."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    def shifted(self, seconds: float) -> Segment:
        """The same segment `seconds` later."""
        words = tuple(w.shifted(seconds) for w in self.words)
        return Segment(self.start + seconds, self.end + seconds, self.text, words)


@dataclass(frozen=True)
class Correction:
    """A vocabulary correction: transcript words `index` .. `index + len(original) - 1` (in the words as the
    engine gave them) became the one word `corrected`. `rule` names why, `score` is the similarity (0..1).
    Undo by putting `original` back (see `correction.revert`)."""

    index: int
    original: tuple[Word, ...]
    corrected: str
    rule: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: index, original (text), corrected, rule, score, start, end, original_words."""
        return {
            "index": self.index,
            "original": " ".join(w.word for w in self.original),
            "corrected": self.corrected,
            "rule": self.rule,
            "score": round(self.score, 3),
            "start": round(self.original[0].start, 3),
            "end": round(self.original[-1].end, 3),
            "original_words": [w.to_dict() for w in self.original],
        }


@dataclass(frozen=True)
class Refocused:
    """A piece decoded a second time (`annotators.transcription.focus`): its span of the recording, what the
    first pass heard there, and the prompt of the second pass, whose words the transcript holds."""

    start: float
    end: float
    first_pass: str
    prompt: str

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: start, end, first_pass, prompt."""
        return {"start": round(self.start, 3), "end": round(self.end, 3), "first_pass": self.first_pass,
                "prompt": self.prompt}


def join_words(words: list[Word] | tuple[Word, ...]) -> str:
    """The text the words spell, with the spacing the engine produced."""
    return "".join(w.sep + w.word for w in words).strip()


@dataclass
class Transcript:
    """A finished transcription: the text (after corrections), its segments and words, what made it
    (`engine`, `model`, `language`), audio `duration` and processing `seconds`, every correction, and every
    piece decoded a second time with a focused prompt (`refocused`: what the first pass heard there)."""

    text: str
    segments: list[Segment]
    words: list[Word]
    language: str
    engine: str
    model: str
    duration: float
    seconds: float
    corrections: list[Correction] = field(default_factory=list)
    prompt: str | None = None
    refocused: list[Refocused] = field(default_factory=list)

    @property
    def source(self) -> str:
        """Provenance in the project's `name@version` form: `engine@model`."""
        return f"{self.engine}@{self.model}"

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSONL record (less `file`): text, duration, engine, model, seconds, words, and extras."""
        return {
            "text": self.text,
            "duration": round(self.duration, 3),
            "engine": self.engine,
            "model": self.model,
            "seconds": round(self.seconds, 3),
            "words": [w.to_dict() for w in self.words],
            "language": self.language,
            "segments": [{"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text.strip()}
                         for s in self.segments],
            "corrections": [c.to_dict() for c in self.corrections],
            "refocused": [r.to_dict() for r in self.refocused],
        }
