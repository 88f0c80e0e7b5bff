"""The name recognizer for clinical notes (lower case, Title Case and ALL CAPS alike).

A token is a name when a title (`Dr`, `Mr`, `NP`), a relation (`son`, `wife`, `proxy`) or a credential
(`RN`, `RRT`, `MD`) says so, or when it is a known person name (Faker) that is not a common English word
(wordfreq) or a frequent word whose word vector says "name" (`Karen`, `SMITH`), and is not clinical vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from annotators.deid.base import HilumRecognizer, Hit

_TOKEN = re.compile(r"[^\W\d_](?:[^\W\d_]|')*")
TITLES = frozenset({"dr", "drs", "dr's", "doctor", "mr", "mrs", "ms", "miss", "mister", "np", "md", "dear"})
# Words after which the preceding name-like tokens are names (`NP JEN AWARE`, `mary souza aware`).
TRAILERS = frozenset({"aware", "notified", "paged", "informed"})
# Weaker trailers: the preceding token must be a plain name (`Emily called`, `DAVID VISITED`).
WEAK_TRAILERS = frozenset({"called", "visited", "phoned", "spoke", "reports", "states", "stated"})
# The patient is named after these (`Patient John Smith`, `Pt Mary Jones`); the name must be a known name.
PATIENT_WORDS = frozenset({"pt", "patient", "pts", "pt's"})
RELATIONS = frozenset(
    "dtr dtrs dau neice neices husb sis bro gf bf gd gs stepmother stepfather "
    "son sons daughter daughters wife husband hsb sister sisters brother brothers niece nephew aunt uncle "
    "mother father mom dad grandson granddaughter grandaughter grandchild cousin friend neighbor fiance "
    "fiancee partner spouse proxy hcp guardian spokesperson boyfriend girlfriend sibling stepson "
    "stepdaughter godson goddaughter".split()
)
CREDENTIALS = frozenset(
    "rn rrt md np pa-c sn cna lpn pharmd msw licsw lcsw do crna phd resident intern crt rnc licws".split()
)
# Clinical words that follow a title or precede a credential without being a name.
_NOT_NAMES = frozenset(
    "aware notified called paged informed updated made here in at to and or of with on for by team "
    "office note pt patient service consult fellow attending resident covering per hosp micu team".split()
)
# Word endings of clinical verbs and nouns, never of a name found only by context (`sedated`, `waxing`).
_NOT_NAME_ENDING = re.compile(r"(?:ed|ing|tion|sion|ment|ness|ity|ly|'d)\Z", re.I)
_SEP = re.compile(r"\A[\s,.:;()\-/]*\Z")
_SENTENCE_START = re.compile(r"(?:\A|[.!?:;|\n]|\s-)\s*\Z")
_INITIAL = re.compile(r"\A[^\W\d_]\Z")


def tokens(text: str) -> list[tuple[int, int, str]]:
    """Word tokens of `text` as `(start, end, word)`; hyphens and punctuation separate tokens."""
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def _dotted_credential(text: str, start: int) -> int:
    """End of an `R.N.` / `M.D.` style credential starting at `start`, or -1."""
    match = re.compile(r"(?:R\.\s?N|M\.\s?D|N\.\s?P|R\.\s?R\.\s?T)\.?", re.I).match(text, start)
    return match.end() if match else -1


class NameRecognizer(HilumRecognizer):
    """Patient, relative and clinician names, including initials, `Dr. X`, `MR. SMITH` and ALL CAPS."""

    NAME = "hilum_name"
    LABEL = "NAME"

    def _namelike(self, word: str) -> bool:
        low = word.lower()
        if low in _NOT_NAMES or low in TITLES or low in RELATIONS or low in self.lexicon.stop_words:
            return False
        if self.lexicon.is_medical(low) and not self.lexicon.is_plain_name(low):
            return False
        return self.lexicon.is_name(low) or not (self.lexicon.is_common(low) or _NOT_NAME_ENDING.search(low))

    def _lexical(self, word: str) -> float:
        """Score of a name found by the lexicon alone: 0.55 for an unambiguous name (`Okonkwo`), 0.5 for a
        frequent word that is mostly a name (`Karen`, `SMITH`: kept only next to another name or in Title Case
        inside a sentence), 0 otherwise."""
        low = word.lower()
        if len(low) < 3 or word.islower() or low in CREDENTIALS or not self.lexicon.is_plain_name(low):
            return 0.0
        if low in TITLES or low in RELATIONS or low in _NOT_NAMES or low in PATIENT_WORDS:
            return 0.0
        return 0.5 if self.lexicon.is_common(low) else 0.55

    def _weak_alone(self, text: str, toks: list[tuple[int, int, str]], group: list[int]) -> bool:
        """A lone frequent-word name with no context: ALL CAPS, or Title Case at the start of a sentence."""
        if len(group) > 1:
            return False
        start, _end, word = toks[group[0]]
        return word.isupper() or bool(_SENTENCE_START.search(text[max(0, start - 3) : start]))

    def _gap_ok(self, text: str, end: int, start: int, max_gap: int = 4) -> bool:
        return start - end <= max_gap and bool(_SEP.match(text[end:start])) and "\n" not in text[end:start]

    def find(self, text: str) -> Iterable[Hit]:
        """Name hits from titles, relations, credentials and the lexicon."""
        toks = tokens(text)
        marked: dict[int, float] = {}
        for i, (start, _end, word) in enumerate(toks):
            low = word.lower()
            if low in TITLES and self._title_ok(text, toks, i):
                self._after(text, toks, i, marked, 0.85, first_any=low not in ("ms", "md", "np"))
            if low in RELATIONS:
                self._after(text, toks, i, marked, 0.7, first_any=False)
            elif low in PATIENT_WORDS:
                self._after_patient(text, toks, i, marked)
            elif low in CREDENTIALS or low in TRAILERS or _dotted_credential(text, start) > 0:
                if low in TRAILERS and word.islower() and not text[: toks[i - 1][1]].islower():
                    continue
                if low in ("do", "resident", "intern") and not word.isupper():
                    continue
                self._before(text, toks, i, marked)
            elif low in WEAK_TRAILERS and i and self._gap_ok(text, toks[i - 1][1], start, 2):
                if self.lexicon.is_plain_name(toks[i - 1][2]) and not toks[i - 1][2].islower():
                    marked[i - 1] = max(marked.get(i - 1, 0.0), 0.6)
            self._initial(text, toks, i, marked)
            if i not in marked:
                score = self._lexical(word)
                if score:
                    marked[i] = score
        self._extend(text, toks, marked)
        groups: list[list[int]] = []
        for i in sorted(marked):  # one span per run of adjacent name tokens (`J. Okafor`, `Mary Hulse`)
            if groups and i == groups[-1][-1] + 1 and self._gap_ok(text, toks[i - 1][1], toks[i][0], 2):
                groups[-1].append(i)
            else:
                groups.append([i])
        for group in groups:
            if all(marked[g] <= 0.5 for g in group) and self._weak_alone(text, toks, group):
                continue
            yield toks[group[0]][0], toks[group[-1]][1], max(marked[g] for g in group)

    def _surname_after(self, first: str, word: str) -> bool:
        """An unknown word in the same case right after a first name is its surname (`KAREN YANULIS`)."""
        lex = self.lexicon
        low = word.lower()
        return (
            len(low) > 2
            and first.lower() in lex.first_names
            and (word.isupper() if first.isupper() else word.istitle() and first.istitle())
            and not lex.is_common(low)
            and not lex.is_medical(low)
            and not _NOT_NAME_ENDING.search(low)
            and low not in CREDENTIALS
        )

    @staticmethod
    def _doctor(text: str, tok: tuple[int, int, str]) -> bool:
        """`Dr`/`Drs`/`Doctor`: whatever word follows is a name (`dr small`, `Dr. Art White`)."""
        return tok[2].lower() in ("dr", "drs", "doctor")

    def _title_ok(self, text: str, toks: list[tuple[int, int, str]], i: int) -> bool:
        """A title is followed by a name after a space or a dot (`Dr. X`, `MS SMITH`; not `MS: sedated`);
        `MS`, `MD` and `NP` (also mental status, nasal prongs) need a known name or an unknown Title Case word."""
        if i + 1 >= len(toks) or not re.fullmatch(r"\.\s{0,3}|\s{1,3}", text[toks[i][1] : toks[i + 1][0]]):
            return False
        low, nxt = toks[i][2].lower(), toks[i + 1][2]
        if low not in ("ms", "md", "np"):
            return True
        if nxt.isupper() and not text[toks[i][1] : toks[i + 1][0]].strip():
            return self._namelike(nxt) and len(nxt) > 2
        if low == "np" and re.search(r"\d\s?l\s*\Z", text[max(0, toks[i][0] - 5) : toks[i][0]], re.I):
            return False
        lex = self.lexicon
        return lex.is_plain_name(nxt) or (nxt.istitle() and not lex.is_common(nxt) and not lex.is_medical(nxt))

    def _after_patient(
        self, text: str, toks: list[tuple[int, int, str]], i: int, marked: dict[int, float]
    ) -> None:
        """`Patient John Smith`, `Pt Mary Jones`: up to three following known names (not lower case)."""
        j = i + 1
        while j < len(toks) and j - i <= 3 and self._gap_ok(text, toks[j - 1][1], toks[j][0], 2):
            word = toks[j][2]
            if word.islower() or not self.lexicon.is_plain_name(word) or word.lower() in CREDENTIALS:
                break
            marked[j] = 0.7
            j += 1

    def _initial(self, text: str, toks: list[tuple[int, int, str]], i: int, marked: dict[int, float]) -> None:
        """`J. Chang`, `W. MAROTTA`, `d. renna`: an initial with a dot, then a name or an unknown word."""
        start, end, word = toks[i]
        if not _INITIAL.match(word) or i + 1 >= len(toks) or text[end : end + 1] != ".":
            return
        if start and text[start - 1] not in " \t(":
            return
        nstart, _nend, nxt = toks[i + 1]
        if not re.fullmatch(r"\.[ \t]{1,2}", text[end:nstart]) or len(nxt) < 2 or word.islower() != nxt.islower():
            return
        low = nxt.lower()
        if self.lexicon.is_medical(low) or low in self.lexicon.stop_words or low in _NOT_NAMES:
            return
        unknown_title = nxt.istitle() and not self.lexicon.is_common(low) and not _NOT_NAME_ENDING.search(low)
        if self.lexicon.is_plain_name(low) or unknown_title:
            marked.setdefault(i, 0.6)
            marked.setdefault(i + 1, 0.6)

    def _after(
        self,
        text: str,
        toks: list[tuple[int, int, str]],
        i: int,
        marked: dict[int, float],
        score: float,
        first_any: bool,
    ) -> None:
        j, taken = i + 1, 0
        while j < len(toks) and taken < 3 and self._gap_ok(text, toks[j - 1][1], toks[j][0]):
            word = toks[j][2]
            if _INITIAL.match(word) and text[toks[j][1] : toks[j][1] + 1] == ".":
                marked[j] = score
            elif word.lower() in ("and", "&") and taken:
                pass
            elif self._namelike(word) or (
                first_any
                and taken == 0
                and word.lower() not in _NOT_NAMES
                and (not self.lexicon.is_common(word) or self._doctor(text, toks[i]))
                and word.lower() not in self.lexicon.stop_words
                and not _NOT_NAME_ENDING.search(word)
            ):
                marked[j] = score
                taken += 1
            elif (
                taken == 0
                and self.lexicon.is_name(word)
                and word.lower() not in _NOT_NAMES
                and word.lower() not in self.lexicon.stop_words
            ):
                marked[j] = score * 0.9
                taken += 1
            else:
                break
            j += 1

    def _before(self, text: str, toks: list[tuple[int, int, str]], i: int, marked: dict[int, float]) -> None:
        j = i - 1
        while j >= 0 and i - j <= 3 and self._gap_ok(text, toks[j][1], toks[j + 1][0], 3):
            word = toks[j][2]
            if (
                len(word) > 2
                and word.lower() not in self.lexicon.stop_words
                and (self._namelike(word) or self.lexicon.is_name(word))
            ) or (_INITIAL.match(word) and text[toks[j][1] : toks[j][1] + 1] == "."):
                low = word.lower()
                if low in _NOT_NAMES or low in CREDENTIALS or low in TITLES or low in RELATIONS:
                    break
                marked[j] = 0.7
            else:
                break
            j -= 1

    def _extend(self, text: str, toks: list[tuple[int, int, str]], marked: dict[int, float]) -> None:
        """Grow marked names over adjacent initials and name-like neighbours (`L. RUUSKA`, `Mary Hulse`)."""
        for i in sorted(marked):
            for j in (i - 1, i + 1):
                if j < 0 or j >= len(toks) or j in marked:
                    continue
                a, b = (j, i) if j < i else (i, j)
                if not self._gap_ok(text, toks[a][1], toks[b][0], 3):
                    continue
                word = toks[j][2]
                low = word.lower()
                if low in TITLES or low in RELATIONS or low in CREDENTIALS or low in _NOT_NAMES:
                    continue
                if (_INITIAL.match(word) and j < i and text[toks[j][1] : toks[j][1] + 1] == ".") or (
                    self.lexicon.is_plain_name(low) and not word.islower()
                ):
                    marked[j] = marked[i] * 0.9
                elif j > i and self._surname_after(toks[i][2], word):
                    marked[j] = marked[i]
