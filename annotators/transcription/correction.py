"""Snap near-miss words to vocabulary terms, keeping timings and recording every change so it can be undone.

Rules tried at each position (merge, term, plural, whole, pair, spelling, doubt), each needing its own
evidence (``whole`` and ``doubt`` live in `soundalike`):

- ``term``: the words around it spell a multi-word term except for one word that sounds or reads like the
  term's word ("plural effusion" → "pleural effusion", "pulmonary module" → "pulmonary nodule"), or for two
  words that together do ("media still silhouettes" → "mediastinal silhouettes"); a plural context word
  counts as its singular ("media still contours", from "mediastinal contour"). A word that is itself a
  vocabulary word (or its plural) is never replaced ("right upper lobe" stays, though "right lower lobe"
  exists), and the word's probability is the audio's evidence: a common English word the engine was sure of
  stays, whatever term it would complete ("the lungs are expanded" at 0.97).
- ``pair``: one or two doubtful words next to a word they form a pair of term words with, when the pair
  sounds alike by its consonant skeleton ("heart eyes" → "heart size" from "borderline heart size", "thoracic
  order" → "thoracic aorta", "granular mattress disease" → "granulomatous disease"). The context is one word,
  so the evidence is the sound of the whole pair and the engine's doubt: no word it was fairly sure of
  (`PAIR_DOUBT`), no function word, no vocabulary word is replaced.
- ``merge``: two or three words that together read like one vocabulary word the engine split ("cardio
  megaly" → "cardiomegaly"); one of them must be rare in English and the joined form must not be common,
  unless the join is exactly a rare vocabulary word ("hyper expanded"). Common words may join too when the
  engine doubted them together (joint probability under `MERGE_DOUBT` per word: "media" at 0.5 and "still"
  at 0.8 are doubtful, both at 0.8 are not; no function word), then also by their consonant
  skeleton: the audio's evidence that they were not what was said ("media still" → "mediastinal"), but
  not into a longer form of a vocabulary word they start with ("bilateral rib" is not "bilaterally"). An
  article joins only as the start of the word ("a telectasis" → "atelectasis", not "a peri hilar" →
  "perihilar").
- ``spelling``: one word unknown to general English, and no inflection of a vocabulary word, that reads like
  a vocabulary word itself rare in general English ("atelectasus"; never "assias" → "assist"); a long one may
  also match by its consonant skeleton ("leevoskoleeosis" → "levoscoliosis").
- ``whole``: one to three non-vocabulary words that together sound like a whole multi-word term
  ("bye basillar telectasis" → "bibasilar atelectasis"); it beats ``spelling`` only when it matches better.
- ``doubt``: a common word the engine barely believed that reads almost like a rare vocabulary word.
- ``plural``: a doubtful singular vocabulary noun, alone as the subject of "are"/"were"/"have", becomes its
  plural ("The cardiac contour are normal"); a fix by another rule in that place gets the plural too
  (recorded as e.g. ``spelling+plural``); an English plural of a classical noun becomes the lexicon's
  ("pneumothoraxes" → "pneumothoraces").
- ``noun``: a doubtful "-al" adjective as the subject of "is"/"are"/"remains" becomes its "-um" noun when
  that is a vocabulary word ("The mediastinal is unremarkable" → "mediastinum"); also after another rule.

The result keeps the word's timing (a merge spans from the first word's start to the last word's end, with the
lowest probability), its capitalisation and surrounding punctuation. Each `Correction` holds the words it
replaced; `revert` puts them back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from annotators.transcription.phonetics import similarity, skeleton, sound_score
from annotators.transcription.result import Correction, Word
from annotators.transcription.soundalike import classical_plural, doubt_rule, form_rule, noun_of, plural_of, whole_rule
from annotators.transcription.vocabulary import FUNCTION_ZIPF, Vocabulary, tokens, zipf

TERM_SCORE = 0.72
SPLIT_TERM_SCORE = 0.8  # two heard words joined into one term word: the context and a closer match
# (a piece glued to the word before it, "grade" "-loma", is one heard word: `TERM_SCORE` holds)
CONFIDENT = 0.95  # a common word heard with this probability or more is what was said
TARGET_ZIPF = 4.0  # spelling/merge targets are words a general model may not know, not "assist" or "order"
SPELLING_SCORE = 0.82
MERGE_SCORE = 0.86
MERGE_MARGIN = 0.05  # a merge must read better than its rare part corrected alone
MERGE_DOUBT = 0.7  # common words heard with a joint probability under this per word may be a split rare word
COMMON_ZIPF = 3.0  # at or above: a word of general English, not a misspelling
PAIR_SCORE = 0.85  # consonant skeletons of the heard and the term word, with the anchor's edge
PAIR_EDGE = 3  # letters of the anchor word compared with the pair: a sound may run across the two words
SOUND_LETTERS = 8  # a misspelt word this long may also match by its consonant skeleton
PAIR_DOUBT = 0.9  # a pair correction replaces only words heard with less probability than this
_EDGES = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)


def norm(word: Word) -> str:
    """A heard word as the vocabulary writes words (lowercase, no punctuation); "" when it is not one word."""
    found = tokens(word.word)
    return found[0] if len(found) == 1 else ""


def _restyle(original: Sequence[Word], corrected: str) -> str:
    """`corrected` with the original's leading/trailing punctuation and initial capital."""
    first = _EDGES.match(original[0].word)
    last = _EDGES.match(original[-1].word)
    lead = first.group(1) if first else ""
    trail = last.group(3) if last else ""
    core = first.group(2) if first else ""
    if core[:1].isupper():
        corrected = corrected[:1].upper() + corrected[1:]
    return f"{lead}{corrected}{trail}"


def _term_rule(
    words: Sequence[Word], norms: list[str], i: int, vocab: Vocabulary
) -> tuple[int, str, float, str] | None:
    """(heard words replaced, term word, score, term): the words around position `i` spell a multi-word term
    except for the one term word that the one or two words heard from `i` read or sound like."""
    best: tuple[int, str, float, str] | None = None
    for m in (1, 2):  # a split is tried only when the single word matches no term
        if best is not None:
            break
        heard = norms[i: i + m]
        if len(heard) != m or not all(heard) or any(h.isdigit() for h in heard):
            continue
        if heard[0] in vocab.words or vocab.inflects(heard[0]):
            continue  # a vocabulary word is never replaced, nor joined with the word after it
        if m == 2 and (re.search(r"[.,;:?!]$", words[i].word) or zipf(heard[0]) >= FUNCTION_ZIPF):
            continue  # "or plural effusions" keeps its "or"
        joined, threshold = "".join(heard), TERM_SCORE if m == 1 or not words[i + 1].sep else SPLIT_TERM_SCORE
        for n in vocab.term_lengths:
            for j in range(n):  # the heard word(s) stand for the term's j-th word
                before, after = norms[max(0, i - j): i], norms[i + m: i + m + n - j - 1]
                if len(before) != j or len(after) != n - j - 1:
                    continue
                for target, term in vocab.terms_around(j, before + after):
                    if target in heard or (m == 1 and _heard_as_said(words[i], heard[0], target)):
                        continue
                    score = similarity(joined, target, threshold)
                    if score >= threshold and (best is None or score > best[2]):
                        best = (m, target, score, term)
    return best


def _pair_rule(
    words: Sequence[Word], norms: list[str], i: int, vocab: Vocabulary
) -> tuple[int, str, float, str] | None:
    """(heard words replaced, term word, score, pair): the one or two doubtful words heard from `i`, with the
    word before or after them, sound like a pair of adjacent term words (see the module's ``pair`` rule)."""
    best: tuple[int, str, float, str] | None = None
    for m in (1, 2):
        heard = norms[i: i + m]
        if len(heard) != m or any(not h or h.isdigit() or h in vocab.words or zipf(h) >= FUNCTION_ZIPF
                                  or w.prob >= PAIR_DOUBT for h, w in zip(heard, words[i: i + m], strict=True)):
            break
        if _sentence_end(words[i: i + m - 1]):
            break
        joined = "".join(heard)
        sides = []
        if i > 0 and norms[i - 1] and not _sentence_end(words[i - 1: i]):
            sides.append((1, norms[i - 1]))
        if i + m < len(norms) and norms[i + m] and not _sentence_end(words[i + m - 1: i + m]):
            sides.append((0, norms[i + m]))
        for side, anchor in sides:
            for target, pair in vocab.pairs.get((side, anchor), ()):
                if target in heard:
                    continue
                edge = anchor[-PAIR_EDGE:] if side else anchor[:PAIR_EDGE]  # where the two words' sounds meet
                said, wanted = (edge + joined, edge + target) if side else (joined + edge, target + edge)
                score = SequenceMatcher(None, skeleton(said), skeleton(wanted)).ratio()
                if score >= PAIR_SCORE and (best is None or score > best[2]):
                    best = (m, target, score, pair)
    return best


def _sentence_end(words: Sequence[Word]) -> bool:
    return any(re.search(r"[.;:?!]$", w.word) for w in words)


def _heard_as_said(word: Word, norm: str, target: str) -> bool:
    """A word of general English the engine was sure of (or fairly sure of, when the term word merely adds
    letters to it, "expanded" → "hyperexpanded"): the audio says it, whatever the context."""
    if zipf(norm) < COMMON_ZIPF:
        return False
    return word.prob >= CONFIDENT or (word.prob >= 0.5 and norm in target)


def _single_rule(word: str, vocab: Vocabulary, threshold: float, sound: bool = False) -> tuple[str, float] | None:
    """(vocabulary word, score) for the rare vocabulary word `word` reads like best; `sound` also lets the
    consonant skeleton count (`phonetics.sound_score`), for a long word the engine spelled by ear."""
    best: tuple[str, float] | None = None
    for candidate in vocab.word_list:
        if len(candidate) < 5 or abs(len(candidate) - len(word)) > 3 or zipf(candidate) >= TARGET_ZIPF:
            continue
        score = similarity(word, candidate, threshold)
        if sound and score < threshold:
            score = max(score, sound_score(word, candidate, threshold))
        if score >= threshold and (best is None or score > best[1]):
            best = (candidate, score)
    return best


def _merge_rule(words: Sequence[Word], norms: list[str], i: int, vocab: Vocabulary) -> tuple[int, str, float] | None:
    """(how many words, vocabulary word, score) when 2-3 words from `i` join into a vocabulary word that
    matches better than any of their rare parts does alone."""
    for n in (3, 2):
        parts = norms[i: i + n]
        if len(parts) != n or not all(parts) or any(re.search(r"[.,;:?!]$", w.word) for w in words[i: i + n - 1]):
            continue
        joined = "".join(parts)
        if joined in vocab.words and joined not in parts and len(joined) >= 8 and zipf(joined) < TARGET_ZIPF:
            return n, joined, 1.0  # a vocabulary word written apart ("hyper expanded")
        rare = [p for p in parts if zipf(p) < COMMON_ZIPF and p not in vocab.words]
        joint = math.prod(w.prob for w in words[i: i + n])  # one barely believed word is doubt enough
        doubted = joint < MERGE_DOUBT ** n and max(map(zipf, parts)) < FUNCTION_ZIPF
        if not (rare or doubted) or zipf(joined) >= COMMON_ZIPF:
            continue
        found = _single_rule(joined, vocab, MERGE_SCORE, sound=doubted and len(joined) >= SOUND_LETTERS)
        if found is None or found[0] in parts:
            continue
        if not rare and parts[0] in vocab.words and found[0].startswith(parts[0]):
            continue  # "bilateral rib" is not "bilaterally"
        if parts[0] in ("a", "an", "the") and not found[0].startswith(parts[0]):
            continue  # "a peri hilar" is "a perihilar"; but "a telectasis" may be "atelectasis"
        alone = max((s[1] for p in rare if (s := _single_rule(p, vocab, SPELLING_SCORE))), default=0.0)
        if found[1] >= alone + MERGE_MARGIN:
            return n, found[0], found[1]
    return None


def correct(words: Sequence[Word], vocab: Vocabulary) -> tuple[list[Word], list[Correction]]:
    """The corrected words and the corrections made (indices refer to the input `words`)."""
    norms = [norm(w) for w in words]
    out: list[Word] = []
    fixes: list[Correction] = []
    i = 0
    while i < len(words):
        found = _fix_at(words, norms, i, vocab)
        if found is None:
            out.append(words[i])
            i += 1
            continue
        n, target, score, rule = found
        span = tuple(words[i: i + n])
        out.append(Word(span[0].start, span[-1].end, _restyle(span, target), min(w.prob for w in span), span[0].sep))
        fixes.append(Correction(i, span, out[-1].word, rule, score))
        i += n
    return out, fixes


def _fix_at(words: Sequence[Word], norms: list[str], i: int, vocab: Vocabulary) -> tuple[int, str, float, str] | None:
    """The first rule that fixes the words from `i`, its plural when a plural verb follows (see `plural_of`)."""
    found = _rule_at(words, norms, i, vocab)
    if found is None:
        return None
    n, target, score, rule = found
    agreed = _agreement(words, norms, i, n, target, vocab)
    return (n, agreed[0], score, f"{rule}+{agreed[1]}") if agreed else found


def _agreement(words: Sequence[Word], norms: list[str], i: int, n: int, target: str,
               vocab: Vocabulary) -> tuple[str, str] | None:
    """(form, rule) when `target` at words i..i+n must agree with its verb: its plural, or its "-um" noun."""
    plural = plural_of(words, norms, i, n, target, vocab)
    if plural:
        return plural, "plural"
    noun = noun_of(words, norms, i, n, target, vocab)
    return (noun, "noun") if noun else None


def _rule_at(words: Sequence[Word], norms: list[str], i: int, vocab: Vocabulary) -> tuple[int, str, float, str] | None:
    word = norms[i]
    if not word or word.isdigit():
        return None
    merged = _merge_rule(words, norms, i, vocab)
    if merged:
        return merged[0], merged[1], merged[2], "merge"
    term = _term_rule(words, norms, i, vocab)
    if term:
        return term[0], term[1], term[2], f"term:{term[3]}"
    if word in vocab.words:
        form = form_rule(words, norms, i, vocab)
        if form:
            return *form, "form"
        agreed = _agreement(words, norms, i, 1, word, vocab)
        return (1, agreed[0], 1.0, agreed[1]) if agreed else None
    classical = classical_plural(word, vocab)
    if classical:
        return 1, classical, 1.0, "plural"
    single = None
    if zipf(word) < COMMON_ZIPF and len(word) >= 5 and not vocab.inflects(word):
        single = _single_rule(word, vocab, SPELLING_SCORE, sound=len(word) >= SOUND_LETTERS)
    whole = whole_rule(words, norms, i, vocab)
    if whole and (single is None or whole[2] > single[1]):
        return whole[0], whole[1], whole[2], "whole"
    pair = _pair_rule(words, norms, i, vocab)
    if pair:
        return pair[0], pair[1], pair[2], f"pair:{pair[3]}"
    if single:
        return 1, single[0], single[1], "spelling"
    doubt = doubt_rule(words[i], word, vocab) if zipf(word) >= COMMON_ZIPF else None
    return (*doubt, "doubt") if doubt else None


def revert(words: Sequence[Word], corrections: Sequence[Correction], undo: Sequence[int] | None = None) -> list[Word]:
    """The words with corrections undone: all of them, or those at positions `undo` of `corrections`."""
    chosen = set(range(len(corrections)) if undo is None else undo)
    by_output: dict[int, Correction] = {}
    shift = 0  # output index = input index - words merged away before it
    for c in corrections:
        by_output[c.index - shift] = c
        shift += len(c.original) - 1
    out: list[Word] = []
    numbered = {id(c): k for k, c in enumerate(corrections)}
    for j, word in enumerate(words):
        fix = by_output.get(j)
        out.extend(fix.original if fix is not None and numbered[id(fix)] in chosen else (word,))
    return out
