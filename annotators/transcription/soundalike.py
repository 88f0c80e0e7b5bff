"""Correction rules for what the context rules of `correction` cannot see: two by sound alone, two by grammar.

- ``whole``: one to three heard words that together sound like a whole multi-word term, none of them a
  vocabulary word: "subsegmentalatelectasis" → "subsegmental atelectasis", "bye basillar telectasis" →
  "bibasilar atelectasis" (every word of the term misheard, so no word of it is left as context). The evidence is the
  sound of a long stretch (`WHOLE_LETTERS` letters at least) and the engine's doubt: at least one heard word
  is unknown to general English and no common one was heard with confidence.
- ``doubt``: a common English word the engine barely believed (probability under `DOUBT`) that reads almost
  like a vocabulary word rare in general English ("linear starring" → "scarring").
- ``plural`` (`plural_of`): a doubtful singular vocabulary noun that is alone the subject of a plural verb.
- ``form``: a vocabulary noun where only another form of the same word (its adjective) makes a term with the
  word after it: "mediastinum silhouette" → "mediastinal silhouette". The prompt names nouns, and the engine
  sometimes writes the prompted noun for the adjective it heard; a noun before a noun that the lexicon never
  joins is the evidence. A word and its plural are no two forms ("lung bases" stays).

Each rule answers what replaces the heard words; `correction.correct` records the change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from annotators.transcription.phonetics import similarity, sound_score
from annotators.transcription.result import Word
from annotators.transcription.vocabulary import FUNCTION_ZIPF, Vocabulary, zipf

WHOLE_SCORE = 0.78  # sound_score of the heard stretch and the term, spaces ignored
WHOLE_LETTERS = 10  # shorter stretches sound like too many things
WHOLE_CONFIDENT = 0.9  # a common heard word above this probability is taken as said
RARE_HEARD_ZIPF = 3.0  # a heard word below this is no word of general English: the engine guessed
DOUBT = 0.3  # a common word below this probability may be replaced by a near-identical term word
DOUBT_SCORE = 0.86
DOUBT_LETTERS = 7  # shorter common words are a letter away from too many terms ("media" ~ "medial")
DOUBT_TARGET_ZIPF = 3.5
_INNER_STOP = re.compile(r"[.,;:?!]$")


def _heard_ok(word: Word, norm: str, vocab: Vocabulary) -> bool:
    """A heard word the whole rule may replace: no number, vocabulary word (or its inflection), function
    word, or common word the engine was confident of."""
    if not norm or norm.isdigit() or norm in vocab.words or vocab.inflects(norm):
        return False
    common = zipf(norm)
    return common < FUNCTION_ZIPF and (common < RARE_HEARD_ZIPF or word.prob < WHOLE_CONFIDENT)


def whole_rule(words: Sequence[Word], norms: list[str], i: int, vocab: Vocabulary) -> tuple[int, str, float] | None:
    """(heard words replaced, term, score) when the one to three words from `i` sound like a whole
    multi-word term (see the module's ``whole`` rule)."""
    best: tuple[int, str, float] | None = None
    for k in (1, 2, 3):
        span, heard = words[i : i + k], norms[i : i + k]
        if len(heard) != k or not _heard_ok(span[-1], heard[-1], vocab):
            break
        if k > 1 and _INNER_STOP.search(span[-2].word):
            break
        joined = "".join(heard)
        if len(joined) < WHOLE_LETTERS or all(zipf(h) >= RARE_HEARD_ZIPF for h in heard):
            continue
        for size in range(int(len(joined) * 0.7), int(len(joined) * 1.4) + 1):
            for term in vocab.spoken_terms.get(size, ()):
                score = sound_score(joined, term, WHOLE_SCORE)
                if score >= WHOLE_SCORE and (best is None or score > best[2]):
                    best = (k, term, score)
    return best


def doubt_rule(word: Word, norm: str, vocab: Vocabulary) -> tuple[int, str, float] | None:
    """(1, vocabulary word, score) for a barely believed common word that reads almost like a vocabulary
    word rare in general English (see the module's ``doubt`` rule)."""
    if word.prob >= DOUBT or len(norm) < DOUBT_LETTERS or zipf(norm) >= FUNCTION_ZIPF or norm in vocab.words:
        return None
    if vocab.inflects(norm):
        return None
    best: tuple[int, str, float] | None = None
    for candidate in vocab.word_list:
        if len(candidate) < 5 or abs(len(candidate) - len(norm)) > 2 or zipf(candidate) >= DOUBT_TARGET_ZIPF:
            continue
        score = similarity(norm, candidate, DOUBT_SCORE)
        if score >= DOUBT_SCORE and (best is None or score > best[2]):
            best = (1, candidate, score)
    return best


FORM_STEM = 4  # letters a noun and its adjective share at least ("bulla" / "bullous")
FORM_ENDING = 3  # and at most this many letters of the shorter one differ ("mediastinum" / "mediastinal")


def form_rule(words: Sequence[Word], norms: list[str], i: int, vocab: Vocabulary) -> tuple[int, str, float] | None:
    """(1, other form, 1.0) for a vocabulary word that is no term with the word after it, where another form
    of it is ("mediastinum silhouette" → "mediastinal silhouette", "bulla emphysema" → "bullous emphysema"): a
    prompted noun the engine wrote for its adjective (see the module's ``form`` rule)."""
    word = norms[i]
    if i + 1 >= len(norms) or not norms[i + 1] or _INNER_STOP.search(words[i].word) or not words[i + 1].sep:
        return None
    terms = vocab.terms_around(0, [norms[i + 1]])  # "contours": "contour" too
    if any(target == word for target, _ in terms):
        return None
    for target, _term in terms:
        if _forms_of_one_word(word, target, vocab):
            return 1, target, 1.0
    return None


def _forms_of_one_word(a: str, b: str, vocab: Vocabulary) -> bool:
    """Whether `a` and `b` are two forms of one word (a noun and its adjective), not a word and its plural."""
    if vocab.singular(a) == b or vocab.singular(b) == a:
        return False
    shared = len(os.path.commonprefix([a, b]))
    return shared >= FORM_STEM and shared >= min(len(a), len(b)) - FORM_ENDING


PLURAL_VERBS = frozenset({"are", "were", "have"})
_SUBJECT_BREAKS = frozenset({"and", "or", "nor", "of", "in", "at", "with", "from", "to", "on", "for", "by"})
PLURAL_DOUBT = 0.9  # a singular the engine was surer of than this is what was said


def plural_of(words: Sequence[Word], norms: list[str], i: int, n: int, singular: str, vocab: Vocabulary) -> str | None:
    """The plural of the vocabulary noun `singular` that the doubtful words `i` .. `i + n - 1` stand for, when
    it is the whole subject of the plural verb after them ("The cardiac contour are normal" → "contours"): a
    faint final "s" the engine dropped. Only when the words before it in its clause (from the sentence start or
    the last comma) are at most three, with no conjunction or preposition, so that no other noun can be the
    verb's subject ("heart size and mediastinal contour are" stays); "and" may join two adjectives
    ("cardiac and mediastinal silhouette are": two silhouettes)."""
    span = words[i : i + n]
    if min(w.prob for w in span) >= PLURAL_DOUBT or i + n >= len(norms) or norms[i + n] not in PLURAL_VERBS:
        return None
    if " " in singular or _INNER_STOP.search(span[-1].word):
        return None
    start = i
    while start > 0 and not _INNER_STOP.search(words[start - 1].word):
        start -= 1
    before = norms[start:i]
    if len(before) > 3 or any(
        norm in _SUBJECT_BREAKS and not _joins_adjectives(before, k) for k, norm in enumerate(before)
    ):
        return None
    for plural in (singular + "s", singular + "es", singular[:-1] + "ies" if singular.endswith("y") else ""):
        if plural and plural in vocab.words:
            return plural
    return None


_ADJECTIVE_ENDINGS = ("al", "ac", "ar", "ic", "ous")


def _joins_adjectives(words: list[str], k: int) -> bool:
    """Whether `words[k]` is an "and" between two adjectives ("cardiac and mediastinal")."""
    if words[k] != "and" or k == 0 or k + 1 >= len(words):
        return False
    return all(w.endswith(_ADJECTIVE_ENDINGS) for w in (words[k - 1], words[k + 1]))


def classical_plural(norm: str, vocab: Vocabulary) -> str | None:
    """The lexicon's classical plural for an English plural the engine wrote: "pneumothoraxes" →
    "pneumothoraces", "apexes" → "apices" (a word ending -xes whose -ces/-ices form is a vocabulary word)."""
    if not norm.endswith("xes") or norm in vocab.words:
        return None
    for plural in (norm[:-3] + "ces", norm[:-4] + "ices"):
        if plural in vocab.words:
            return plural
    return None


NOUN_DOUBT = 0.7  # the adjective was heard (or pieced together) with less probability than this
_BEING = frozenset({"is", "are", "was", "were", "remains", "remain", "appears", "appear"})


def noun_of(words: Sequence[Word], norms: list[str], i: int, n: int, adjective: str, vocab: Vocabulary) -> str | None:
    """The vocabulary noun of a doubtful "-al" adjective standing as the subject of "is"/"are"/... ("The
    mediastinal is unremarkable" → "mediastinum"): an adjective cannot be one, its "-um" noun can."""
    following = i + n
    if not adjective.endswith("al") or following >= len(norms) or norms[following] not in _BEING:
        return None
    if re.search(r"[.,;:?!]$", words[following - 1].word) or min(w.prob for w in words[i:following]) >= NOUN_DOUBT:
        return None
    noun = adjective[:-2] + "um"
    return noun if noun in vocab.words else None
