"""Silencing PHI words in dictation audio."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from annotators.deid.audio import align_words, phi_intervals, silence

TEXT = "Patient John Smith has a nodule."
WORDS = [{"word": w, "start": i * 0.5, "end": i * 0.5 + 0.4} for i, w in
         enumerate(["Patient", "John", "Smith", "has", "a", "nodule."])]


def test_words_align_to_the_text_in_order():
    assert align_words(TEXT, WORDS)[1:3] == [(8, 12), (13, 18)]
    assert align_words("no match here", [{"word": "zebra", "start": 0, "end": 1}]) == [None]


@pytest.mark.parametrize("span, expected", [
    ((8, 18), (0.45, 1.45)),   # "John Smith" → words 1..2
    ((13, 18), (0.95, 1.45)),  # "Smith"
    ((0, 3), (0.0, 0.45)),     # part of a word silences the whole word
])
def test_phi_span_becomes_the_interval_of_its_words(span, expected):
    (iv,) = phi_intervals(TEXT, WORDS, [SimpleNamespace(start=span[0], end=span[1], label="NAME")])
    assert (round(iv.start, 3), round(iv.end, 3)) == expected
    assert (iv.span_start, iv.span_end) == span


def test_silence_zeroes_only_the_interval_and_keeps_the_original():
    rate = 100
    samples = np.ones(300, dtype=np.float32)
    (iv,) = phi_intervals(TEXT, WORDS, [SimpleNamespace(start=8, end=18, label="NAME")])
    out = silence(samples, rate, [iv])
    assert out[50:140].max() == 0 and out[:40].min() == 1 and out[150:].min() == 1
    assert samples.min() == 1
