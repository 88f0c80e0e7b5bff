"""The name recognizer for clinical notes (lower case, Title Case and ALL CAPS alike).

A token is a name when a title (`Dr`, `Mr`, `NP`), a relation (`son`, `wife`, `proxy`) or a credential
(`RN`, `RRT`, `MD`) says so, or when it is a known person name (Faker) that is not a common English word
(wordfreq) or a frequent word whose word vector says "name" (`Renata`, `SMITH`), and is not clinical vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from annotators.deid.base import HilumRecognizer, Hit
from annotators.deid.namewords import (
    CREDENTIALS,
    DOCTOR,
    INITIAL,
    NOT_NAME_ENDING,
    NOT_NAMES,
    PATIENT_WORDS,
    RELATIONS,
    SENTENCE_START,
    SEP,
    SUBJECT_VERBS,
    TITLES,
    TRAILERS,
    VERBS,
    WEAK_TRAILERS,
    dotted_credential,
    same_case,
    tokens,
)

__all__ = ["NameRecognizer"]

class NameRecognizer(HilumRecognizer):
    """Patient, relative and clinician names, including initials, `Dr. X`, `MR. SMITH` and ALL CAPS."""

    NAME = "hilum_name"
    LABEL = "NAME"

    def _namelike(self, word: str) -> bool:
        low = word.lower()
        if low in NOT_NAMES or low in TITLES or low in RELATIONS or low in self.lexicon.stop_words:
            return False
        if self.lexicon.is_medical(low) and not self.lexicon.is_plain_name(low):
            return False
        return self.lexicon.is_name(low) or not (self.lexicon.is_common(low) or NOT_NAME_ENDING.search(low))

    def _lexical(self, word: str) -> float:
        """Score of a name found by the lexicon alone: 0.55 for an unambiguous name (`Okonkwo`), 0.5 for a
        frequent word that is mostly a name (`Renata`, `SMITH`: kept only next to another name or in Title Case
        inside a sentence), 0 otherwise."""
        low = word.lower()
        if len(low) < 3 or word.islower() or low in CREDENTIALS or not self.lexicon.is_plain_name(low):
            return 0.0
        if low in TITLES or low in RELATIONS or low in NOT_NAMES or low in PATIENT_WORDS:
            return 0.0
        return 0.5 if self.lexicon.is_common(low) else 0.55

    def _weak_alone(self, text: str, toks: list[tuple[int, int, str]], group: list[int]) -> bool:
        """A lone frequent-word name with no context: ALL CAPS, or Title Case at the start of a sentence."""
        if len(group) > 1:
            return False
        start, _end, word = toks[group[0]]
        return word.isupper() or bool(SENTENCE_START.search(text[max(0, start - 3) : start]))

    def _gap_ok(self, text: str, end: int, start: int, max_gap: int = 4) -> bool:
        return start - end <= max_gap and bool(SEP.match(text[end:start])) and "\n" not in text[end:start]

    def find(self, text: str) -> Iterable[Hit]:
        """Name hits from titles, relations, credentials and the lexicon."""
        toks = tokens(text)
        marked: dict[int, float] = {}
        for i, (start, _end, word) in enumerate(toks):
            low = word.lower()
            if low in TITLES and self._title_ok(text, toks, i):
                self._after(text, toks, i, marked, 0.85, first_any=low not in ("ms", "md", "np"))
            if low in RELATIONS or (low.endswith("s") and low[:-1] in RELATIONS):
                self._after(text, toks, i, marked, 0.7, first_any=False)
            elif low in PATIENT_WORDS:
                self._after_patient(text, toks, i, marked)
            elif low in CREDENTIALS or low in TRAILERS or dotted_credential(text, start) > 0:
                if low in TRAILERS and word.islower() and not text[: toks[i - 1][1]].islower():
                    continue
                if low in ("do", "resident", "intern") and not word.isupper():
                    continue
                self._before(text, toks, i, marked)
            elif low in WEAK_TRAILERS and i and self._gap_ok(text, toks[i - 1][1], start, 2):
                prev = toks[i - 1][2]
                if prev.lower() in RELATIONS or prev.lower() in PATIENT_WORDS:
                    pass
                elif self.lexicon.is_plain_name(prev) and (
                    not prev.islower() or (prev in self.lexicon.first_names and low in ("called", "visited"))
                ):
                    marked[i - 1] = max(marked.get(i - 1, 0.0), 0.6)
            self._initial(text, toks, i, marked)
            if i not in marked:
                score = self._lexical(word)
                if score == 0.5 and self._subject(text, toks, i):
                    score = 0.6
                if score:
                    marked[i] = score
        self._extend(text, toks, marked)
        groups: list[list[int]] = []
        for i in sorted(marked):  # one span per run of adjacent name tokens (`J. Okafor`, `Renata Ellsworth`)
            if groups and i == groups[-1][-1] + 1 and self._gap_ok(text, toks[i - 1][1], toks[i][0], 2):
                groups[-1].append(i)
            else:
                groups.append([i])
        for group in groups:
            if all(marked[g] <= 0.5 for g in group) and self._weak_alone(text, toks, group):
                continue
            yield toks[group[0]][0], toks[group[-1]][1], max(marked[g] for g in group)

    def _subject(self, text: str, toks: list[tuple[int, int, str]], i: int) -> bool:
        """A frequent first name as the subject of a verb (`RENATA IS ON VACATION`, `Ivo says`)."""
        return (
            i + 1 < len(toks)
            and toks[i][2].lower() in self.lexicon.first_names
            and toks[i + 1][2].lower() in SUBJECT_VERBS
            and same_case(toks[i + 1][2], toks[i][2].lower() if toks[i][2].istitle() else toks[i][2])
            and self._gap_ok(text, toks[i][1], toks[i + 1][0], 1)
        )

    def _surname_after(self, first: str, word: str) -> bool:
        """An unknown word in the same case right after a first name is its surname (`RENATA VANTONGEREN`)."""
        lex = self.lexicon
        low = word.lower()
        return (
            len(low) > 2
            and first.lower() in lex.first_names
            and (word.isupper() if first.isupper() else word.istitle() and first.istitle())
            and not lex.is_common(low)
            and not lex.is_medical(low)
            and (word.istitle() or not NOT_NAME_ENDING.search(low))
            and low not in CREDENTIALS
        )

    @staticmethod
    def _doctor(title: str) -> bool:
        """`Dr`/`Drs`/`Doctor`: whatever word follows is a name (`dr long`, `Dr. Ivo Gray`)."""
        return title.lower() in ("dr", "drs", "doctor")

    def _title_ok(self, text: str, toks: list[tuple[int, int, str]], i: int) -> bool:
        """A title is followed by a name after a space or a dot (`Dr. X`, `MS SMITH`; not `MS: sedated`);
        `MS`, `MD` and `NP` (also mental status, nasal prongs) need a known name or an unknown Title Case word."""
        if i + 1 >= len(toks) or not re.fullmatch(r"\.\s{0,3}|\s{1,3}", text[toks[i][1] : toks[i + 1][0]]):
            return False
        low, nxt = toks[i][2].lower(), toks[i + 1][2]
        if low not in ("ms", "md", "np") or self._sandwiched(text, toks, i + 1):
            return True
        if low == "ms" and INITIAL.match(nxt) and nxt.isupper() and text[toks[i + 1][1] : toks[i + 1][1] + 1] == ".":
            return True  # `MS Q. CARE`
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
        """`J. Chang`, `W. HALVORSEN`, `d. brannigan`: an initial with a dot, then a name or an unknown word."""
        start, end, word = toks[i]
        if not INITIAL.match(word) or i + 1 >= len(toks) or text[end : end + 1] != ".":
            return
        if start and text[start - 1] not in " \t(":
            return
        nstart, _nend, nxt = toks[i + 1]
        if not re.fullmatch(r"\.[ \t]{1,2}", text[end:nstart]) or len(nxt) < 2 or word.islower() != nxt.islower():
            return
        low = nxt.lower()
        if self.lexicon.is_medical(low) or low in self.lexicon.stop_words or low in NOT_NAMES:
            return
        unknown = not (self.lexicon.is_common(low) or self.lexicon.is_common(low.removesuffix("s")))
        unknown = unknown and not NOT_NAME_ENDING.search(low)
        same_case = nxt.istitle() or (nxt.isupper() and len(nxt) > 3) or (nxt.islower() and len(nxt) > 3)
        if self.lexicon.is_plain_name(low) or (unknown and same_case):
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
        """Up to three name words after a title or a relation (`Dr. Ivo Gray`, `Drs X and Y`, `son ivo`)."""
        j, taken = i + 1, 0
        while j < len(toks) and taken < 3 and self._gap_ok(text, toks[j - 1][1], toks[j][0]):
            word = toks[j][2]
            if INITIAL.match(word) and text[toks[j][1] : toks[j][1] + 1] == ".":
                marked[j] = score
            elif word.lower() in ("and", "&") and taken:
                pass
            elif self._namelike(word) or (first_any and taken == 0 and self._any_first(word, toks[i][2])):
                marked[j] = score
                taken += 1
            elif self._title_name(text, toks, i, j, taken):
                marked[j] = score * 0.9
                taken += 1
            else:
                break
            j += 1

    def _any_first(self, word: str, title: str) -> bool:
        """After `Dr`/`Mr`/`Mrs` the first word is a name unless it is a frequent or clinical-looking word
        (`Dr` also takes frequent words: `dr long`)."""
        low = word.lower()
        return (
            low not in NOT_NAMES
            and (not self.lexicon.is_common(low) or self._doctor(title))
            and low not in self.lexicon.stop_words
            and not NOT_NAME_ENDING.search(word)
        )

    def _title_name(self, text: str, toks: list[tuple[int, int, str]], i: int, j: int, taken: int) -> bool:
        """Weaker evidence for a name word after a title: a known name (`dr long`, `Dr. Ivo Gray`), a proper
        word after a doctor's title whatever its ending (`md Quisenberry`), a word between a title and a trailer
        (`NP ODALYS AWARE`), a bare capital after `Mr`/`Mrs` (`mr Q remained`)."""
        word = toks[j][2]
        low = word.lower()
        lex = self.lexicon
        doctor = toks[i][2].lower() in DOCTOR
        if taken == 0 and len(word) == 1 and word.isupper() and toks[i][2].lower() in ("mr", "mrs"):
            return text[toks[j][1] : toks[j][1] + 1] == " "
        if low in NOT_NAMES or low in VERBS or low in CREDENTIALS:
            return False
        if taken == 0 and lex.is_name(low) and (low not in lex.stop_words or doctor):
            return True
        if taken and lex.is_name(low) and same_case(word, toks[j - 1][2]):
            return True
        if doctor and not word.islower() and not (lex.is_common(low) or lex.is_medical(low)):
            return True
        return taken == 0 and self._sandwiched(text, toks, j)

    def _sandwiched(self, text: str, toks: list[tuple[int, int, str]], j: int) -> bool:
        """The word at `j` stands alone between a title and a trailer (`NP ODALYS AWARE`, `Dr X notified`)."""
        if j + 1 >= len(toks) or toks[j + 1][2].lower() not in TRAILERS | WEAK_TRAILERS:
            return False
        low = toks[j][2].lower()
        lex = self.lexicon
        return (
            len(low) > 1
            and self._gap_ok(text, toks[j][1], toks[j + 1][0], 2)
            and low not in lex.stop_words
            and low not in NOT_NAMES
            and low not in CREDENTIALS
            and low not in RELATIONS
            and low not in TITLES
            and not lex.is_medical(low)
        )

    def _before(self, text: str, toks: list[tuple[int, int, str]], i: int, marked: dict[int, float]) -> None:
        """Up to three name words before a credential or a trailer (`J. Ng, MD`, `Ivo Gray-Long RN`)."""
        j = i - 1
        while j >= 0 and i - j <= 3 and self._gap_ok(text, toks[j][1], toks[j + 1][0], 3):
            word = toks[j][2]
            initialled = word.istitle() and self._initial_before(text, toks, j) and not self.lexicon.is_medical(word)
            if (
                len(word) > 2
                and word.lower() not in self.lexicon.stop_words
                and (self._namelike(word) or self.lexicon.is_name(word))
            ) or initialled or self._double_barrelled(text, toks, j) or (
                INITIAL.match(word) and text[toks[j][1] : toks[j][1] + 1] == "."
            ):
                low = word.lower()
                if low in NOT_NAMES or low in CREDENTIALS or low in TITLES or low in RELATIONS:
                    break
                marked[j] = 0.7
            else:
                break
            j -= 1

    @staticmethod
    def _initial_before(text: str, toks: list[tuple[int, int, str]], j: int) -> bool:
        """Token `j` follows an initial with a dot (`J. Ng`)."""
        return j > 0 and bool(INITIAL.match(toks[j - 1][2])) and text[toks[j - 1][1] : toks[j][0]].startswith(".")

    def _double_barrelled(self, text: str, toks: list[tuple[int, int, str]], j: int) -> bool:
        """The second half of a hyphenated Title Case surname (`Gray-Long`), whatever the word."""
        word = toks[j][2]
        return (
            j > 0
            and word.istitle()
            and toks[j - 1][2].istitle()
            and text[toks[j - 1][1] : toks[j][0]] == "-"
            and not self.lexicon.is_medical(word)
            and not self.lexicon.is_medical(toks[j - 1][2])
        )

    def _extend(self, text: str, toks: list[tuple[int, int, str]], marked: dict[int, float]) -> None:
        """Grow marked names over adjacent initials and name-like neighbours (`L. KOWALCZYK`, `Renata Ellsworth`)."""
        for i in sorted(marked):
            for j in (i - 1, i + 1):
                if j < 0 or j >= len(toks) or j in marked:
                    continue
                a, b = (j, i) if j < i else (i, j)
                if not self._gap_ok(text, toks[a][1], toks[b][0], 3):
                    continue
                word = toks[j][2]
                low = word.lower()
                if low in TITLES or low in RELATIONS or low in CREDENTIALS or low in NOT_NAMES:
                    continue
                if (INITIAL.match(word) and j < i and text[toks[j][1] : toks[j][1] + 1] == ".") or (
                    self.lexicon.is_plain_name(low) and not word.islower()
                ):
                    marked[j] = marked[i] * 0.9
                elif j > i and self._surname_after(toks[i][2], word):
                    marked[j] = marked[i]
