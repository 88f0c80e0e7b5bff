"""How alike two words sound: a crude English sound key, a consonant skeleton, and a similarity ratio.

Shared by the correction rules (`correction`, `soundalike`); nothing here knows about vocabulary.
"""

from __future__ import annotations

import functools
import re
import threading
from difflib import SequenceMatcher

_PHONETIC = [
    (r"ph", "f"),
    (r"ck", "k"),
    (r"qu", "kw"),
    (r"x", "ks"),
    (r"c(?=[eiy])", "s"),
    (r"c", "k"),
    (r"y", "i"),
    (r"z", "s"),
    (r"ae", "e"),
    (r"oe", "e"),
    (r"^pn", "n"),
    (r"^ps", "s"),
    (r"eu|ew|oo", "u"),
    (r"(.)\1+", r"\1"),
]
_VOICED = str.maketrans("dbgvaeiouy", "tpkfaaaaaa")
_MATCHERS = threading.local()  # per thread: a matcher is mutable
MATCHER_CACHE = 20_000


def _matcher(a: str, b: str) -> SequenceMatcher[str]:
    """A SequenceMatcher of `a` against `b`. One word is compared with every vocabulary word and a vocabulary
    word with many heard words, so the matcher of each `b` is kept: difflib indexes the second sequence once
    (`set_seq1` keeps that index), which is most of the cost of a short comparison. Same ratios as a new one."""
    cache: dict[str, SequenceMatcher[str]] = _MATCHERS.__dict__.setdefault("by_b", {})
    matcher = cache.get(b)
    if matcher is None:
        if len(cache) >= MATCHER_CACHE:
            cache.clear()
        matcher = cache[b] = SequenceMatcher(None, "", b)
    matcher.set_seq1(a)
    return matcher


@functools.lru_cache(maxsize=65536)
def phonetic(word: str) -> str:
    """A crude English sound key: spellings of the same sound become the same letters."""
    key = word.lower()
    for pattern, repl in _PHONETIC:
        key = re.sub(pattern, repl, key)
    return key


@functools.lru_cache(maxsize=65536)
def skeleton(text: str) -> str:
    """The consonants of `text` as they sound, voicing ignored (d/t, b/p, g/k, v/f), repeats collapsed, a
    leading vowel kept as "a": what survives when a word is misheard as another ("order" ~ "aorta")."""
    key = phonetic(text.replace(" ", "")).translate(_VOICED)
    return re.sub(r"(.)\1+", r"\1", key[:1] + key[1:].replace("a", ""))


def similarity(a: str, b: str, floor: float = 0.0) -> float:
    """0..1: how alike two lowercase words read or sound (the better of spelling and sound-key ratios).
    Below `floor` the answer may be any value under it (cheap bounds skip the full comparison)."""
    if a == b:
        return 1.0
    best = 0.0
    for x, y in ((a, b), (phonetic(a), phonetic(b))):
        matcher = _matcher(x, y)
        if matcher.real_quick_ratio() >= floor and matcher.quick_ratio() >= floor:
            best = max(best, matcher.ratio())
    return best


def skeleton_ratio(a: str, b: str, floor: float = 0.0) -> float:
    """0..1: how alike the consonant skeletons of two texts are (spaces ignored); below `floor`, any lower
    value (cheap bounds skip the full comparison)."""
    matcher = _matcher(skeleton(a), skeleton(b))
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


def sound_score(a: str, b: str, floor: float = 0.0) -> float:
    """The mean of `similarity` and `skeleton_ratio`: long stretches misheard as other words keep their
    consonants better than their letters ("bye basillar telectasis" ~ "bibasilar atelectasis"). Below `floor`, any lower
    value (cheap bounds skip the full comparisons)."""
    x, y = a.replace(" ", ""), b.replace(" ", "")
    if 2 * min(len(x), len(y)) / (len(x) + len(y)) < floor:
        return 0.0
    letters = similarity(x, y, 2 * floor - 1)  # the skeleton ratio adds at most 1
    if letters < 2 * floor - 1:
        return letters / 2
    return (letters + skeleton_ratio(x, y, 2 * floor - letters)) / 2
