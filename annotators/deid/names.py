"""Name, place and institution recognizers for clinical notes (lower case, Title Case and ALL CAPS alike).

A token is a name when a title (`Dr`, `Mr`, `NP`), a relation (`son`, `wife`, `proxy`) or a credential
(`RN`, `RRT`, `MD`) says so, or when it is a known person name (Faker) that is not a common English word
(wordfreq). Places come from GeoNames; institutions from how they are named (`X Hospital`, `St. X`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from annotators.deid.base import HilumRecognizer, Hit

_TOKEN = re.compile(r"[A-Za-z][A-Za-z']*(?:-[A-Za-z][A-Za-z']*)*")
TITLES = frozenset({"dr", "drs", "dr's", "doctor", "mr", "mrs", "ms", "miss", "mister", "np", "md", "dear"})
# Words after which the preceding name-like tokens are names (`NP JEN AWARE`, `mary souza aware`).
TRAILERS = frozenset({"aware", "notified", "paged", "informed"})
RELATIONS = frozenset(
    "son sons daughter daughters wife husband hsb sister sisters brother brothers niece nephew aunt uncle "
    "mother father mom dad grandson granddaughter grandaughter grandchild cousin friend neighbor fiance "
    "fiancee partner spouse proxy hcp guardian spokesperson boyfriend girlfriend sibling stepson "
    "stepdaughter godson goddaughter".split()
)
CREDENTIALS = frozenset(
    "rn rrt md np pa-c sn cna lpn pharmd msw licsw lcsw do crna phd resident intern".split()
)
# Clinical words that follow a title or precede a credential without being a name.
_NOT_NAMES = frozenset(
    "aware notified called paged informed updated made here in at to and or of with on for by team "
    "office note pt patient service consult fellow attending resident covering".split()
)
_SEP = re.compile(r"\A[\s,.:;()\-/]*\Z")
_INITIAL = re.compile(r"\A[A-Za-z]\Z")


def _tokens(text: str) -> list[tuple[int, int, str]]:
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
        return self.lexicon.is_name(low) or not self.lexicon.is_common(low)

    def _lexical(self, word: str) -> bool:
        low = word.lower()
        return (
            len(low) > 2
            and not word.islower()
            and self.lexicon.is_name(low)
            and not self.lexicon.is_common(low)
            and low not in CREDENTIALS
        )

    def _gap_ok(self, text: str, end: int, start: int, max_gap: int = 4) -> bool:
        return start - end <= max_gap and bool(_SEP.match(text[end:start])) and "\n" not in text[end:start]

    def find(self, text: str) -> Iterable[Hit]:
        """Name hits from titles, relations, credentials and the lexicon."""
        toks = _tokens(text)
        marked: dict[int, float] = {}
        for i, (start, _end, word) in enumerate(toks):
            low = word.lower()
            if low in TITLES:
                self._after(text, toks, i, marked, 0.85, first_any=low not in ("ms", "md"))
            if low in RELATIONS:
                self._after(text, toks, i, marked, 0.7, first_any=False)
            elif low in CREDENTIALS or low in TRAILERS or _dotted_credential(text, start) > 0:
                if low in TRAILERS and word.islower() and not text[: toks[i - 1][1]].islower():
                    continue
                if low in ("do", "resident", "intern") and not word.isupper():
                    continue
                self._before(text, toks, i, marked)
            if i not in marked and self._lexical(word):
                marked[i] = 0.55
        self._extend(text, toks, marked)
        group: list[int] = []
        for i in sorted(marked):  # one span per run of adjacent name tokens (`J. Okafor`, `Mary Hulse`)
            if group and (i != group[-1] + 1 or not self._gap_ok(text, toks[group[-1]][1], toks[i][0], 2)):
                yield toks[group[0]][0], toks[group[-1]][1], max(marked[g] for g in group)
                group = []
            group.append(i)
        if group:
            yield toks[group[0]][0], toks[group[-1]][1], max(marked[g] for g in group)

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
                and not self.lexicon.is_common(word)
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
                if word.lower() in _NOT_NAMES or word.lower() in CREDENTIALS:
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
                    self.lexicon.is_name(low) and (not self.lexicon.is_common(low) or word[0].isupper())
                ):
                    marked[j] = marked[i] * 0.9


_INSTITUTION_WORDS = (
    r"(?:hospital|hosp|medical\s+center|med\s+ctr|memorial|clinic|health\s+center|healthcare|house|campus|"
    r"nursing\s+home|rehab(?:ilitation)?\s+(?:center|hospital)|infirmary|hospice|institute|university)"
)
_INSTITUTION = re.compile(rf"\b{_INSTITUTION_WORDS}\b", re.I)
_SAINT = re.compile(r"\b(?:st\.?|saint|holy|sacred|mount|mt\.)\s+(?P<phi>[A-Za-z][A-Za-z']+)", re.I)
_TRANSFER = re.compile(
    r"\b(?:transferred|transfered|transfer|trans|admitted|admit|adm|sent|went|go|discharged|returned|arrived|"
    r"arrival|came|seen|taken|brought|referred|medflight|enroute|screened|followed)\s+"
    r"(?:in)?(?:to|from|at|by|into)\s+(?:the\s+)?(?P<phi>[A-Za-z]{2,5})\b",
    re.I,
)
# A ward is a building name and a floor: `transfer to Quartermain 2`, `on Ellison 4`.
_WARD = re.compile(r"\b(?:to|from|on|at)\s+(?P<phi>[A-Z][a-z]{3,}|[A-Z]{4,})\s\d\b")
_UNITS = frozenset(
    "icu ccu micu sicu csru ctsicu nicu picu ed er ew or pacu ct mri ir osh nh cath floor home rehab lab "
    "ms pcu step tsicu vicu nsicu cvicu cvu burn unit bed chair room dept clinic".split()
)


class InstitutionRecognizer(HilumRecognizer):
    """Hospitals and other institutions: `X Hospital`, `X Memorial`, `St. X`, `transferred from X`."""

    NAME = "hilum_institution"
    LABEL = "INSTITUTION"

    def find(self, text: str) -> Iterable[Hit]:
        """Institution hits."""
        for match in _INSTITUTION.finditer(text):
            start = self._walk_back(text, match.start())
            stop = match.start()
            while stop > start and text[stop - 1].isspace():
                stop -= 1
            if start < stop:
                yield start, stop, 0.7
        for match in _SAINT.finditer(text):
            word = match.group("phi")
            if self.lexicon.is_name(word) or not self.lexicon.is_common(word) or word[0].isupper():
                if not (word.isupper() and word.lower() in ("with", "to", "and", "at", "in", "on", "rate")):
                    yield match.start("phi"), match.end("phi"), 0.6
        for match in _WARD.finditer(text):
            word = match.group("phi").lower()
            if word not in _UNITS and not self.lexicon.is_common(word):
                yield match.start("phi"), match.end("phi"), 0.5
        for match in _TRANSFER.finditer(text):
            word = match.group("phi").lower()
            if (
                word not in _UNITS
                and word not in self.lexicon.stop_words
                and not self.lexicon.is_common(word)
            ):
                yield match.start("phi"), match.end("phi"), 0.5

    def _walk_back(self, text: str, end: int) -> int:
        start = end
        for _ in range(3):
            match = re.search(r"([A-Za-z][A-Za-z'\-.]*)[ \t]+\Z", text[max(0, start - 40) : start])
            if not match:
                break
            word = match.group(1).rstrip(".").lower()
            if word in self.lexicon.stop_words or word in _UNITS:
                break
            start = start - len(match.group(0))
        while start < end and text[start].isspace():
            start += 1
        return start


_PLACE_BEFORE = re.compile(r"\b(?:in|to|from|at|near|of)\s+\Z", re.I)


class LocationRecognizer(HilumRecognizer):
    """Cities (GeoNames: US and large world cities). States alone are not Safe Harbor PHI; they serve as
    context for ZIP codes."""

    NAME = "hilum_location"
    LABEL = "LOCATION"

    def find(self, text: str) -> Iterator[Hit]:
        """Location hits."""
        toks = _tokens(text)
        lex = self.lexicon
        i = 0
        while i < len(toks):
            word = toks[i][2].lower()
            hit = 0
            if word in lex.city_first_words:
                for n in (3, 2, 1):
                    if i + n > len(toks):
                        continue
                    phrase = " ".join(t[2].lower() for t in toks[i : i + n])
                    first = toks[i][2]
                    place_before = _PLACE_BEFORE.search(text[max(0, toks[i][0] - 8) : toks[i][0]])
                    if phrase in lex.cities and (
                        (n > 1 and not first.islower())
                        or (first.istitle() and (not lex.is_common(phrase) or place_before))
                        or (first.isupper() and place_before)
                    ):
                        hit = n
                        break
            if hit:
                yield toks[i][0], toks[i + hit - 1][1], 0.6
                i += hit
            else:
                i += 1
