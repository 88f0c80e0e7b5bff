"""Abbreviation definitions that scispaCy's AbbreviationDetector misses, and where a defined short form recurs.

scispaCy (Schwartz & Hearst) reads `long form (SF)` only when the parentheses hold one or two tokens of two to
nine characters, and only when the letters of the short form occur in the long form in order. Papers also write:

- a short form followed by a dose or a count: `phenobarbital (PB, 15 mg/kg)`, `(AML; n = 7)`, `(DEN: 10 mg)`;
- a short form of several tokens or one letter: `13-cis-retinoic acid (cis-RA)`, `triamcinolone (T)`;
- a short form from another language's word order: `myotonic dystrophy (DM)` (dystrophia myotonica).

`find_definitions` finds those (letters in order as Schwartz & Hearst, or the initials of the last words in any
order); `occurrences` finds every place a defined short form recurs, its plural or singular included
(`ventricular septal defects (VSDs)` … `VSD`), as (first token, end token) pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from spacy.tokens import Doc, Span

SEPARATORS = {",", ";", ":", "="}
MAX_INSIDE = 12  # tokens looked at inside a parenthesis
MAX_SHORT_TOKENS = 5
MAX_SHORT_CHARS = 10
STOPS = {".", ";", "(", ")", ":", ","}  # a long form does not run back over these


def _short_form(doc: Doc, open_index: int) -> Span | None:
    """The short form opening the parenthesis at `open_index`, up to `)` or a separator; None if it is none."""
    end = open_index + 1
    limit = min(len(doc), open_index + 1 + MAX_INSIDE)
    while end < limit and doc[end].text != ")" and not (doc[end].text in SEPARATORS and doc[end].whitespace_):
        if doc[end].text == "(":
            return None
        end += 1
    if end >= limit or end == open_index + 1 or end - open_index - 1 > MAX_SHORT_TOKENS:
        return None
    span = doc[open_index + 1 : end]
    text = span.text
    if len(text) > MAX_SHORT_CHARS or " " in text or not text[0].isalnum() or text.isdigit():
        return None
    letters = [c for c in text if c.isalpha()]
    if not letters or not any(c.isupper() for c in letters) or sum(c.isalnum() for c in text) * 2 < len(text):
        return None
    return span


def _letters_in_order(long_form: list[str], short: str) -> int | None:
    """Schwartz & Hearst: the index of the first word of `long_form` such that the short form's letters and
    digits occur in order, its first one starting a word; None when they do not."""
    text = " ".join(long_form)
    position = len(text) - 1
    chars = [c.lower() for c in short if c.isalnum()]
    for number, char in enumerate(reversed(chars)):
        first = number == len(chars) - 1
        while position >= 0 and (
            text[position].lower() != char or (first and position > 0 and text[position - 1].isalnum())
        ):
            position -= 1
        if position < 0:
            return None
        position -= 1
    return text[: position + 1].count(" ")


def _initials(words: list[str], short: str) -> int | None:
    """The start of the last words whose initials are the short form's letters in any order (two or more)."""
    letters = Counter(c.lower() for c in short if c.isalpha())
    count = sum(letters.values())
    if count < 2 or len(words) < count or not all(w[:1].isalpha() for w in words[-count:]):
        return None
    return len(words) - count if Counter(w[0].lower() for w in words[-count:]) == letters else None


def _long_form(doc: Doc, short: Span) -> str | None:
    """The long form written just before `(` of `short`, or None."""
    letters = sum(c.isalnum() for c in short.text)
    window = min(letters + 5, letters * 2)
    start = short.start - 1  # the "("
    first = start
    while first > 0 and start - first < window and not doc[first].is_sent_start and doc[first - 1].text not in STOPS:
        first -= 1
    tokens = [t for t in doc[first:start] if not t.is_space]
    if not tokens:
        return None
    words = [t.text for t in tokens]
    if letters == 1:  # one letter: the word right before, starting with it
        return words[-1] if len(words[-1]) > 2 and words[-1][0].lower() == short.text[0].lower() else None
    found = _letters_in_order(words, short.text)
    if found is None or found == len(words):
        found = _initials(words, short.text)
    if found is None:
        return None
    long_form = doc[tokens[found].i : start].text.strip()
    return long_form if len(long_form) > len(short.text) else None


def find_definitions(doc: Doc, known: set[str]) -> dict[str, str]:
    """Short form → long form for the definitions of `doc` whose short form is not in `known`."""
    found: dict[str, str] = {}
    for token in doc:
        if token.text != "(" or token.i == 0:
            continue
        short = _short_form(doc, token.i)
        if short is None or short.text in known or short.text in found:
            continue
        long_form = _long_form(doc, short)
        if long_form is not None:
            found[short.text] = long_form
    return found


def variants(short: str) -> set[str]:
    """The short form and its plural or singular (`VSDs` ↔ `VSD`)."""
    if short.endswith("s") and len(short) > 2 and short[:-1].isupper():
        return {short, short[:-1]}
    if short[-1:].isupper() and len(short) > 1:
        return {short, short + "s"}
    return {short}


def occurrences(doc: Doc, short: str) -> Iterator[tuple[int, int]]:
    """(first token, end token) of every place the text `short` is written as whole tokens."""
    text = doc.text
    starts = {t.idx: t.i for t in doc}
    ends = {t.idx + len(t.text): t.i + 1 for t in doc}
    at = text.find(short)
    while at >= 0:
        first, end = starts.get(at), ends.get(at + len(short))
        if first is not None and end is not None:
            yield first, end
        at = text.find(short, at + 1)
