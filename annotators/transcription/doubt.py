"""When a greedy decoding is doubtful enough to pay for beam search (the ``adaptive`` beam policy).

Greedy decoding gives the same words as a beam-5 pass on most dictated pieces; where it goes wrong it is
mostly unsure of itself throughout, which shows as a low mean log-probability of its words (whisper's
probability of each word's tokens). Only such pieces are decoded again with the beam. The signal is the
words both engines report, so the two engines take the same decision from the same first pass.

`MEAN_LOGPROB` was chosen on synthetic dictations of 24 reports other than the ones the benchmark measures
(`bench/transcribe.py --skip 8/16/24`, base int8): it re-decoded 5 of 24 pieces (16% of the audio) and took
the WER from 0.137 (greedy) to 0.113 (the beam everywhere: 0.096). Counting words under 0.3 probability as
well caught a few more beam gains but re-decoded about 30% of the audio, as slow as the beam everywhere.
"""

from __future__ import annotations

import math

from annotators.transcription.result import Segment

MEAN_LOGPROB = -0.40  # mean log word probability of a piece under this: unsure enough to decode it again
_FLOOR = 1e-6


def mean_logprob(segments: list[Segment]) -> float | None:
    """The mean natural-log probability of the words of `segments` (None without words)."""
    probs = [w.prob for s in segments for w in s.words]
    if not probs:
        return None
    return sum(math.log(max(p, _FLOOR)) for p in probs) / len(probs)


def is_doubtful(segments: list[Segment]) -> bool:
    """Whether a greedy pass over one piece looks wrong enough to decode it again with the beam. A piece
    with no words (silence, or nothing the model believed) is not: the beam would hear the same nothing."""
    mean = mean_logprob(segments)
    return mean is not None and mean < MEAN_LOGPROB
