"""The beam policy: the beam everywhere ("always", the default), or greedy first and the beam only on pieces
whose greedy words look doubtful ("adaptive"). A scripted engine stands in for the libraries, so no model is
loaded here (test_transcription_engines checks that both engines agree under the adaptive policy)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from annotators.transcription.doubt import MEAN_LOGPROB, is_doubtful, mean_logprob
from annotators.transcription.engine import DecodeOptions, EngineOutput, TranscriptionEngine
from annotators.transcription.result import Segment, TranscriptionError, Word


def piece(*probs: float) -> list[Segment]:
    words = tuple(Word(float(i), i + 0.5, f"w{i}", p) for i, p in enumerate(probs))
    return [Segment(0.0, float(len(probs)), " ".join(w.word for w in words), words)] if probs else []


class Scripted(TranscriptionEngine):
    """Answers greedy calls with `greedy` and beam calls with a fixed confident piece; records beam sizes."""

    name = "scripted"

    def __init__(self, greedy: list[Segment]) -> None:
        super().__init__("tiny.en")
        self.greedy = greedy
        self.calls: list[int] = []

    @staticmethod
    def cuda_available() -> bool:
        return False

    def _load(self) -> Any:
        return object()

    def _transcribe(self, samples: np.ndarray, options: DecodeOptions) -> EngineOutput:
        self.calls.append(options.beam_size)
        return EngineOutput(self.greedy if options.beam_size == 1 else piece(0.99, 0.99), "en")


SAMPLES = np.zeros(16000, dtype=np.float32)


@pytest.mark.parametrize("probs, doubtful", [
    ((0.95, 0.9, 0.97), False),  # a confident piece
    ((0.99,) * 30 + (0.001,) * 3, True),  # a few words it does not believe at all weigh in the mean
    ((0.99,) * 30 + (0.2,) * 3, False),  # a few unsure words among many confident ones
    ((0.6,) * 4, bool(MEAN_LOGPROB > np.log(0.6))),  # unsure throughout: doubtful only under the threshold
    ((0.5,) * 4, bool(MEAN_LOGPROB > np.log(0.5))),
    ((0.75,) * 4, bool(MEAN_LOGPROB > np.log(0.75))),
    ((), False),  # nothing heard: the beam would hear nothing either
])
def test_doubt_follows_the_word_probabilities(probs: tuple[float, ...], doubtful: bool) -> None:
    assert is_doubtful(piece(*probs)) is doubtful


def test_mean_logprob() -> None:
    assert mean_logprob(piece(0.5, 0.5)) == pytest.approx(np.log(0.5))
    assert mean_logprob(piece(1.0, 0.0)) == pytest.approx(np.log(1e-6) / 2)  # a zero is floored, not -inf
    assert mean_logprob([]) is None


def test_adaptive_keeps_a_confident_greedy_pass() -> None:
    engine = Scripted(piece(0.95, 0.9))
    out = engine.transcribe(SAMPLES, DecodeOptions(beam_policy="adaptive"))
    assert engine.calls == [1]
    assert [w.prob for w in out.segments[0].words] == [0.95, 0.9]


def test_adaptive_decodes_a_doubtful_piece_again_with_the_beam() -> None:
    engine = Scripted(piece(0.95, 0.01, 0.01, 0.01, 0.01))
    out = engine.transcribe(SAMPLES, DecodeOptions(beam_size=4, beam_policy="adaptive"))
    assert engine.calls == [1, 4]
    assert [w.prob for w in out.segments[0].words] == [0.99, 0.99]


@pytest.mark.parametrize("options, calls", [
    (DecodeOptions(), [5]),  # the default: the beam everywhere
    (DecodeOptions(beam_size=1), [1]),  # greedy under either policy
    (DecodeOptions(beam_size=1, beam_policy="adaptive"), [1]),
])
def test_fixed_policies_decode_once(options: DecodeOptions, calls: list[int]) -> None:
    engine = Scripted(piece(0.95, 0.01, 0.01, 0.01, 0.01))
    engine.transcribe(SAMPLES, options)
    assert engine.calls == calls


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(TranscriptionError, match="always, adaptive"):
        DecodeOptions(beam_policy="sometimes")
