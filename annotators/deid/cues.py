"""Names found by the words around them in nursing notes, whatever their case.

Nurses write the people they dealt with in a few set phrases: `spoke with renata from case management`,
`talked w/ Dr. X`, `per Ivo`, `the Quisenberry family`, and sign a note with their name on the last line
(`Renata Ellsworth`, `ODALYS`). After such a cue a known first name (Faker) in lower case is a name, and so is an
unknown word that is neither frequent English nor clinical vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from annotators.deid.base import HilumRecognizer, Hit
from annotators.deid.lexicon import Lexicon
from annotators.deid.namewords import CREDENTIALS, PATIENT_WORDS, RELATIONS, TITLES, tokens

# A conversation with someone: the name follows (`spoke at length w/ renata`, `consulted with ivo x`).
_WITH = re.compile(
    r"\b(?:spoke|spoken|speaking|talked|talking|met|meeting|consulted|consult|conferred|discussed|made|"
    r"conversation|contacted|contact|updated|visit|visited)(?:\s+(?:at\s+length|again|briefly))?\s+"
    r"(?:with\s+|w/\s*|w\s+)(?:(?:case\s+manager|social\s+worker|sw|cm)\s+)?\Z",
    re.I,
)
_PER = re.compile(r"\bper\s+\Z", re.I)
# A visitor named by the service they come from (`renata ilse from speech and swallow`, `Ivo from PT`).
_FROM_SERVICE = re.compile(
    r"\A[ \t]+from[ \t]+(?:the[ \t]+)?(?:speech|swallow|case[ \t]+management|social[ \t]+work|nutrition|pt|ot|"
    r"physical[ \t]+therapy|occupational|pharmacy|hospice|pastoral|chaplaincy|ethics|respiratory|palliative|"
    r"vna|home[ \t]+care|admitting|billing|dietary|interpreter)\b",
    re.I,
)
_FAMILY = re.compile(r"\s+(?:family|family's|families)\b", re.I)
# What an ordinary word after `per`/`spoke with` can be (a team, a role, a unit), never a name.
_ROLES = frozenset(
    "team staff nurse nurses nursing nsg rn md np pa resident residents intern fellow attending house ho "
    "family team's unit service services surgeon surgery cards renal neuro pharmacy pharm social work worker "
    "case manager management protocol orders order sliding scale guidelines icu ccu micu sicu csru er ed ew "
    "them him her us me you pt pts patient patient's wife husband per via mds".split()
)
_TRAILING = re.compile(r"\A[\s|.,;:\-]*\Z")
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|')*\Z")


class ContextNameRecognizer(HilumRecognizer):
    """Relatives' and clinicians' names after conversation cues (`spoke with`, `per`), before `family`, and in
    the signature at the end of a note."""

    NAME = "hilum_name_context"
    LABEL = "NAME"

    def find(self, text: str) -> Iterable[Hit]:
        """Name hits from conversation cues, `X family` and signatures."""
        toks = tokens(text)
        for i, (start, _end, _word) in enumerate(toks):
            before = text[max(0, start - 40) : start]
            if _WITH.search(before):
                yield from self._name_at(text, toks, i, lower_unknown=True)
            elif _PER.search(before):
                yield from self._name_at(text, toks, i, lower_unknown=False)
            elif _FAMILY.match(text, toks[i][1]) and self._family_name(toks[i][2]):
                yield start, toks[i][1], 0.6
        yield from self._signature(text, toks)
        yield from self._from_service(text, toks)

    def _from_service(self, text: str, toks: list[tuple[int, int, str]]) -> Iterator[Hit]:
        """A first name and up to two more name words right before `from <service>`."""
        lex = self.lexicon
        for i, (_start, end, _word) in enumerate(toks):
            if not _FROM_SERVICE.match(text[end : end + 40]):
                continue
            j = i
            while j > i - 3 and j >= 0 and self._name_word(toks[j][2]):
                if j < i and not re.fullmatch(r"[ \t]{1,2}", text[toks[j][1] : toks[j + 1][0]]):
                    break
                j -= 1
            first = next((k for k in range(j + 1, i + 1) if toks[k][2].lower() in lex.first_names), None)
            if first is not None and lex.is_plain_name(toks[first][2]):
                yield toks[first][0], end, 0.6

    def _name_word(self, word: str) -> bool:
        """A known name or an unknown word that is no role, title or clinical word."""
        low = word.lower()
        lex = self.lexicon
        if low in _ROLES or low in TITLES or low in RELATIONS or low in PATIENT_WORDS or low in CREDENTIALS:
            return False
        if low in lex.stop_words or lex.is_medical(low):
            return False
        return lex.is_plain_name(low) or not lex.is_common(low)

    def _first(self, word: str, lower_unknown: bool) -> bool:
        """The first word after a cue: a known name (any case) or, after a conversation cue, an unknown word
        (`per` also precedes documents and teams: `per Carevue`, `per Csurg`)."""
        low = word.lower().removesuffix("'s")
        lex = self.lexicon
        if len(low) < 3 or low in _ROLES or low in TITLES or low in RELATIONS or low in PATIENT_WORDS:
            return False
        if low in CREDENTIALS or low in lex.stop_words or lex.is_medical(low):
            return False
        if lex.is_plain_name(low):
            return True
        return lower_unknown and not lex.is_common(low) and not word.isupper()

    def _name_at(self, text: str, toks: list[tuple[int, int, str]], i: int, lower_unknown: bool) -> Iterator[Hit]:
        """A name starting at token `i`: a first word, then at most one surname of the same case."""
        start, end, word = toks[i]
        if not self._first(word, lower_unknown) or re.match(r"\s?\d", text[end : end + 2]):
            return  # `per Wexford 3 RN` is a ward
        if i + 1 < len(toks) and re.fullmatch(r"[ \t]{1,2}", text[end : toks[i + 1][0]]):
            nxt = toks[i + 1][2]
            low = nxt.lower()
            lex = self.lexicon
            same_case = nxt.islower() == word.islower() and nxt.isupper() == word.isupper()
            if (
                same_case
                and len(low) > 2
                and low not in _ROLES
                and low not in CREDENTIALS
                and not lex.is_medical(low)
                and (lex.is_plain_name(low) or (not lex.is_common(low) and word.lower() in lex.first_names))
            ):
                end = toks[i + 1][1]
        yield start, end, 0.6

    def _family_name(self, word: str) -> bool:
        """A surname before `family` (`the Quisenberry family`, `KEEP HALVORSEN FAMILY AWARE`)."""
        low = word.lower()
        lex = self.lexicon
        if len(low) < 3 or low in _ROLES or low in PATIENT_WORDS or low in RELATIONS or low in lex.stop_words:
            return False
        if lex.is_medical(low) or word.islower():
            return False
        return lex.is_plain_name(low) or (low in lex.last_names and not lex.is_common(low))

    def _signature(self, text: str, toks: list[tuple[int, int, str]]) -> Iterator[Hit]:
        """The writer's name closing the note, or a line that is only a name: a known first name (not lower
        case), then up to two surname words or initials of the same case."""
        lex = self.lexicon
        for i, (start, _end, word) in enumerate(toks):
            if word.islower() or not lex.is_plain_name(word) or word.lower() not in lex.first_names:
                continue
            line_start = text.rfind("\n", 0, start) + 1
            if text[line_start:start].strip() and not re.search(r"[.!]\s+\Z", text[line_start:start]):
                continue
            j = i
            while j + 1 < len(toks) and j - i < 2 and re.fullmatch(r"[ \t.]{1,3}", text[toks[j][1] : toks[j + 1][0]]):
                nxt = toks[j + 1][2]
                if nxt.lower() in CREDENTIALS or not _WORD.match(nxt) or nxt.islower() != word.islower():
                    break
                if lex.is_common(nxt) and not lex.is_plain_name(nxt) and len(nxt) > 1:
                    break
                j += 1
            rest = text[toks[j][1] :]
            tail = rest.split("\n", 1)[0]
            own_line = bool(_TRAILING.match(tail)) and not text[line_start:start].strip()
            last = bool(_TRAILING.match(rest.replace("\n", " ")))
            if own_line or last:
                yield start, toks[j][1], 0.6


_PROPAGATED = frozenset({"NAME", "INSTITUTION", "LOCATION"})


def repeated_mentions(
    text: str, found: Iterable[tuple[int, int, str, bool]], lexicon: Lexicon
) -> list[tuple[int, int, str]]:
    """Other mentions in `text` of the name and place words `found` as `(start, end, label, by_context)`: a
    note that says `per Odalys` once writes `ODALYS IS SPEAKING` later without a cue. Only words found by
    their context (a title, a cue; not by the lexicon or the NER alone) are repeated, when they are a known
    name, or an unknown word in Title Case (ALL CAPS unknown words are mostly abbreviations), and not clinical
    vocabulary."""
    words: dict[str, str] = {}
    covered = bytearray(len(text) + 1)
    for start, end, label, by_context in found:
        covered[start:end] = b"\x01" * (end - start)
        if label not in _PROPAGATED or not by_context:
            continue
        for match in _ANY_WORD.finditer(text, start, end):
            word = match.group()
            low = word.lower().removesuffix("'s")
            if len(low) < 4 or low in lexicon.stop_words or lexicon.is_medical(low) or low in _ROLES:
                continue
            if low in PATIENT_WORDS or low in RELATIONS or low in TITLES or low in CREDENTIALS:
                continue
            if lexicon.is_plain_name(low) or (word.istitle() and not lexicon.is_common(low)):
                words.setdefault(low, label)
    if not words:
        return []
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b", re.I)
    return [
        (m.start(), m.end(), words[m.group().lower()])
        for m in pattern.finditer(text)
        if not covered[m.start()] and not (m.group().islower() and lexicon.is_common(m.group()))
    ]


_ANY_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|')*")
