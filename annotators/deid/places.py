"""Place and institution recognizers: cities from GeoNames; hospitals, wards and universities from how clinical
notes name them (`X Hospital`, `St. X`, `transferred to RMC`, `Baxter 3`, `U Nevada`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from annotators.deid.base import HilumRecognizer, Hit
from annotators.deid.lexicon import Lexicon
from annotators.deid.namewords import tokens

_INSTITUTION_WORDS = (
    r"(?:hospital|hosp|hospiatal|medical\s+center|med\s+ctr|memorial|clinic|health\s+center|healthcare|campus|"
    r"nursing\s+home|rehab(?:ilitation)?(?:\s+(?:center|hospital|facility))?|infirmary|hospice|institute|"
    r"university|regional|general|adventist|baptist|methodist|presbyterian|lutheran|episcopal)"
)
_INSTITUTION = re.compile(rf"\b{_INSTITUTION_WORDS}\b", re.I)
_SAINT = re.compile(
    r"\b(?:St\.?|ST\.|Saint|SAINT|Holy|HOLY|Sacred|SACRED|Mount|MOUNT|Mt\.|MT\.)\s?(?P<phi>[A-Z][A-Za-z']+)"
    r"(?:\s+(?P<more>[A-Z][A-Za-z']+))?",
)
# A saint's hospital by its initial after a preposition (`a bed @ St B.`, `to ST. J.`).
_SAINT_INITIAL = re.compile(r"(?:@|\b(?i:at|to|from))[ \t]*(?P<phi>(?:St|ST)\.?[ \t]+[A-Z]\.)")
_TRANSFER = re.compile(
    r"\b(?:transferred|transfered|transfer|trans|tx|admitted|admit|adm|sent|went|go|discharged|returned|"
    r"arrived|arrival|came|seen|taken|brought|referred|medflight|enroute|screened|followed|team|ed|ew)\s+"
    r"(?:in)?(?:to|from|at|by|into)\s+(?:the\s+)?(?P<phi>[A-Za-z]{2,5})\b",
    re.I,
)
# Hospital initialisms (`RMC`, `NWMC`) before an emergency ward or after `at`/`to`/`from`.
_HOSPITAL_ACRONYM = re.compile(
    r"\b(?P<phi>[A-Z]{1,3}(?:H|MC|HC))(?=\s+(?:EW|ER|ED)\b)|(?<=\b[Aa][Tt]\s)(?P<at>[A-Z]{1,3}(?:H|MC|HC))\b"
)
# A ward is a building name and a floor: `transfer to Wexford 2`, `per Wexford 3 RN`, `plan: WEXFORD 2`, `wexford2`.
_WARD = re.compile(
    r"(?:\b(?:to|from|on|at|transfer|trans|per|or|and)\s+|\b(?:plan|dispo):\s*)"
    r"(?P<phi>[A-Za-z]{3,}[A-PR-WYZa-pr-wyz](?P<glued>\d)?)(?(glued)|\s?\d)\b"
    r"(?![.:\-]?\d|/\d\d|\s*(?:mg|mcg|ml|cc|units?|beats?|hrs?|%))",
    re.I,
)
# A list of units joined by slashes (`F-MICU/WEXFORD/CCU`): the unknown member is a ward.
_UNIT_LIST = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)?(?:/[A-Za-z]+(?:-[A-Za-z]+)?)+")
# A hospital initialism (`RMC`, `nwmc`) or any unknown word before an emergency ward, after `at`/`to`/`from`/`by`.
_AT_ACRONYM = re.compile(
    r"(?:\b(?i:at|to|from|by)\s+|@\s*)(?P<phi>[A-Z]{1,3}(?:H|MC|HC)|[a-z]{1,2}(?:h|mc))\b(?![/\-]\w)"
)
# Hospital units that a ward is listed with (not `chair/commode`).
_WARD_UNITS = frozenset("icu ccu micu sicu csru ctsicu nicu picu pacu tsicu vicu nsicu cvicu cvu pmicu mcicu".split())
_BEFORE_EW = re.compile(r"\b(?i:from|to|at)\s+(?P<phi>[A-Za-z]{3,})(?=\s+(?i:ew|er|ed)\b)")
# Going to or coming from a named place: a Title Case word in a sentence (`went to Kesselbrook on 3/6`,
# `Surgeon from Kesselbrook`).
_GONE_TO = re.compile(
    r"\b(?i:go|goes|going|went|gone|sent|transfer(?:red)?|transported|return(?:ed|ing)?|admitted|surgeon|"
    r"doctor|team|cardiologist|physician|seen|arrived|came)s?\s+(?i:back\s+)?(?i:to|from|at)\s+"
    r"(?P<phi>[A-Z][a-z]{3,})\b(?!\s+[A-Z][a-z])"
)
# A region named by a compass point and a landform (`the Southern Coast`, `WESTERN VALLEY`).
_REGION = re.compile(
    r"\b(?:eastern|western|northern|southern|north|south|east|west)\s+"
    r"(?:shore|coast|county|valley|hills|mountains|islands?|end|side|plains)\b",
    re.I,
)
_NOT_ACRONYMS = frozenset({"oh", "ah", "uh", "ph", "eh", "nh", "hh", "ch"})
# `U Nevada`, `Univ. of Utah`: a university named by its state or city.
_UNIVERSITY = re.compile(r"\b(?:U|Univ)\.?\s+(?:of\s+)?(?P<phi>[A-Z][A-Za-z]+)")
_UNITS = frozenset(
    "icu ccu micu sicu csru ctsicu nicu picu ed er ew or pacu ct mri ir osh nh cath floor home rehab lab "
    "ms pcu step tsicu vicu nsicu cvicu cvu burn unit bed chair room dept clinic osh ew pmicu mcicu "
    "neuro ortho surg cath angio derm icu's micu's fick ward".split()
)


class InstitutionRecognizer(HilumRecognizer):
    """Hospitals and other institutions: `X Hospital`, `X Memorial`, `St. X`, `transferred from X`."""

    NAME = "hilum_institution"
    LABEL = "INSTITUTION"

    def find(self, text: str) -> Iterable[Hit]:
        """Institution hits."""
        lex = self.lexicon
        for match in _INSTITUTION.finditer(text):
            start = self._walk_back(text, match.start())
            if start < match.start():
                yield start, match.end(), 0.7
        for match in _SAINT.finditer(text):
            word = match.group("phi")
            if word.lower() in lex.stop_words or word.lower() in _UNITS or (word.isupper() and lex.is_medical(word)):
                continue
            if match.group().startswith("ST") and self._not_saint(word):
                continue  # `ST. BP 130/50`, `ST. Stable`: sinus tachycardia, then a new sentence
            more = match.group("more")
            # `Holy`/`Sacred` always take a second word (`Holy Redeemer Hospital`); `St X Y` only an unknown one
            religious = match.group().lower().startswith(("holy", "sacred"))
            end = match.end("more") if more and (religious or not lex.is_common(more)) else None
            yield match.start(), end or match.end("phi"), 0.6
        for match in _SAINT_INITIAL.finditer(text):
            yield match.start("phi"), match.end("phi"), 0.5
        for match in _WARD.finditer(text):
            word = match.group("phi").rstrip("0123456789").lower()
            if word not in _UNITS and not lex.is_common(word) and not lex.is_medical(word):
                yield match.start("phi"), match.end("phi"), 0.5
        yield from self._acronyms(text)
        yield from self._unit_lists(text)
        for match in _TRANSFER.finditer(text):
            word = match.group("phi")
            if self._hospital_word(word):
                yield match.start("phi"), match.end("phi"), 0.5
        yield from self._gone_to(text)
        for match in _HOSPITAL_ACRONYM.finditer(text):
            group = "phi" if match.group("phi") else "at"
            if match.group(group).lower() not in _UNITS and match.group(group) not in ("OH", "AH", "UH"):
                yield match.start(group), match.end(group), 0.5
        for match in _UNIVERSITY.finditer(text):
            word = match.group("phi").lower()
            if word in lex.states or word in lex.cities:
                yield match.start(), match.end("phi"), 0.6

    def _gone_to(self, text: str) -> Iterator[Hit]:
        """Places gone to or come from, in Title Case (`went to Kesselbrook`)."""
        lex = self.lexicon
        for match in _GONE_TO.finditer(text):
            word = match.group("phi")
            low = word.lower()
            if word.istitle() and not (low in _UNITS or low in lex.stop_words or lex.is_medical(low)):
                yield match.start("phi"), match.end("phi"), 0.5

    def _not_saint(self, word: str) -> bool:
        """After an upper-case `ST` a short or a frequent non-name word starts a sentence; a saint's name is
        a known name or an unknown word."""
        low = word.lower().removesuffix("'s")
        return len(low) < 3 or (self.lexicon.is_common(low) and not self.lexicon.is_name(low))

    def _acronyms(self, text: str) -> Iterator[Hit]:
        """Hospital initialisms after a preposition (`at RMC`, `sent to nwmc`) and an unknown word before an
        emergency ward (`from kessel ew`)."""
        lex = self.lexicon
        for match in _AT_ACRONYM.finditer(text):
            low = match.group("phi").lower()
            if low in _UNITS or low in _NOT_ACRONYMS or lex.is_medical(low) or low in lex.stop_words:
                continue
            if len(low) > 2 and lex.is_common(low):
                continue
            yield match.start("phi"), match.end("phi"), 0.5
        for match in _BEFORE_EW.finditer(text):
            low = match.group("phi").lower()
            if not (low in _UNITS or lex.is_common(low) or lex.is_medical(low) or low in lex.stop_words):
                yield match.start("phi"), match.end("phi"), 0.5

    def _unit_lists(self, text: str) -> Iterator[Hit]:
        """Ward names listed with known units (`F-MICU/WEXFORD/CCU TEAMS`)."""
        lex = self.lexicon
        for match in _UNIT_LIST.finditer(text):
            parts = [(m.start(), m.group()) for m in re.finditer(r"[A-Za-z]+(?:-[A-Za-z]+)?", match.group())]
            if not any(word.split("-")[-1].lower() in _WARD_UNITS for _, word in parts):
                continue
            for offset, word in parts:
                low = word.split("-")[-1].lower()
                if word.islower() or _CLINICAL_ENDING.search(low):
                    continue
                if len(low) > 4 and not (low in _UNITS or lex.is_common(low) or lex.is_medical(low)):
                    yield match.start() + offset, match.start() + offset + len(word), 0.5

    def _hospital_word(self, word: str) -> bool:
        """A short word after `transferred to` that names a hospital: an initialism like `RMC`/`NWMC`, or an
        unknown Title Case word."""
        low = word.lower()
        if low in _UNITS or low in self.lexicon.stop_words or self.lexicon.is_medical(low):
            return False
        if word.isupper():
            return bool(re.fullmatch(r"[A-Z]{1,3}(?:H|MC|HC)", word))
        if word.islower() and re.fullmatch(r"[a-z]{1,3}(?:h|mc)", word):
            return not self.lexicon.is_common(low)
        return not self.lexicon.is_common(low) and (word.istitle() or len(word) > 3)

    def _walk_back(self, text: str, end: int) -> int:
        """Start of the name words before an institution word (`Holy Redeemer`, `kessel`, `to sacred family`),
        at most three. Frequent or short lower-case words count only when a saint's word or a preposition
        closes the name and one of its words is a name, a place or an unknown word."""
        words: list[tuple[int, str]] = []  # nearest first
        pos = end
        for _ in range(3):
            match = _PREV_WORD.search(text, max(0, pos - 40), pos)
            if not match:
                break
            word = match.group(1).rstrip(".")
            low = word.lower()
            if low in self.lexicon.stop_words or low in _UNITS:
                break
            words.append((match.start(1), word))
            pos = match.start(1)
        best = end
        for k in range(len(words)):
            first_start, first = words[k]
            cue = _CUE_BEFORE.search(text, max(0, first_start - 8), first_start)
            anchored = first.lower() in _SAINT_WORDS or cue is not None
            if not anchored and _INSTITUTION.fullmatch(first) and k == 0:
                anchored = bool(_THE_BEFORE.search(text, max(0, first_start - 12), first_start))
            if all(self._proper(w) for _, w in words[: k + 1]) or (
                anchored and any(self._placeish(w) for _, w in words[: k + 1])
            ):
                best = first_start
        return best

    def _proper(self, word: str) -> bool:
        """A word that can stand in a hospital's name on its own: Title Case, or unknown and not a short
        abbreviation (`poss`, `prev`)."""
        if "-" in word:
            return all(self._proper(part) for part in word.split("-"))
        low = word.lower()
        if word.istitle() and len(low) > 1:
            return True
        if self.lexicon.is_common(low) or self.lexicon.is_medical(low) or _CLINICAL_ENDING.search(low) or "'" in low:
            return False
        return len(low) > 4 or self.lexicon.is_name(low)

    def _placeish(self, word: str) -> bool:
        """A saint's word, a known name or city, or an unknown word."""
        low = word.lower()
        lex = self.lexicon
        if low in _SAINT_WORDS or low in lex.cities or _INSTITUTION.fullmatch(low) or word in lex.state_abbrs:
            return True
        return not lex.is_medical(low) and (lex.is_name(low) or not lex.is_common(low))


_PREV_WORD = re.compile(r"\b((?i:st|mt)\.|[A-Za-z][A-Za-z'\-]*)[ \t]+\Z")
_CLINICAL_ENDING = re.compile(r"(?:ed|ing|tion|sion|ment|ness|ity|ly)\Z", re.I)
_SAINT_WORDS = frozenset({"holy", "sacred", "saint", "st", "mount", "mt"})
_THE_BEFORE = re.compile(r"\b(?i:at|to|from|in)\s+(?i:the)[ \t]+\Z")
_CUE_BEFORE = re.compile(r"(?:\b(?i:from|to|at|into|in)|[(@])[ \t]*\Z")
_PLACE_BEFORE = re.compile(r"\b(?:in|to|from|at|near|of)\s+\Z", re.I)
# Where someone lives: whatever proper or unknown words follow are a place (`lives in kesselton`, `in DC`).
_LIVES_IN = re.compile(
    r"\b(?:lives|living|lived|resides|residing|resident|moved|home)(?:\s+(?:nearby|alone|locally|now))?"
    r"\s+(?:in|at|near|to)\s+(?P<phi>[A-Za-z][A-Za-z'.\-]*(?:[ \t]+[A-Za-z][A-Za-z'\-]*)?)",
    re.I,
)


class LocationRecognizer(HilumRecognizer):
    """Cities (GeoNames: US and large world cities). States alone are not Safe Harbor PHI; they serve as
    context for ZIP codes."""

    NAME = "hilum_location"
    LABEL = "LOCATION"

    def __init__(self, lexicon: Lexicon, language: str = "en") -> None:
        super().__init__(lexicon, language)
        states = "|".join(sorted((re.escape(s) for s in lexicon.states), key=len, reverse=True))
        # A town before its state (`kesselton ohio`, `Kesselton, Ohio`).
        self._before_state = re.compile(rf"\b(?P<phi>[A-Za-z]{{3,}})[ \t]*,?[ \t]+(?i:{states})\b")

    def find(self, text: str) -> Iterator[Hit]:
        """Location hits: GeoNames cities, the place after `lives in`, a compass region (`the Southern Coast`),
        a town before its state."""
        yield from self._cities(text)
        lex = self.lexicon
        for match in _LIVES_IN.finditer(text):
            words = match.group("phi").split()
            kept = 0
            for word in words:
                low = word.lower().rstrip(".")
                if word.isupper() and word.rstrip(".") in lex.state_abbrs:
                    kept += 1
                    continue
                if low in lex.stop_words or lex.is_medical(low) or (lex.is_common(low) and low not in lex.cities):
                    break
                kept += 1
            if kept:
                yield match.start("phi"), match.start("phi") + len(" ".join(words[:kept]).rstrip(".")), 0.6
        for match in _REGION.finditer(text):
            words = match.group().split()
            if all(w.istitle() for w in words) or all(w.isupper() for w in words):
                yield match.start(), match.end(), 0.6
        for match in self._before_state.finditer(text):
            low = match.group("phi").lower()
            if low in lex.states or low in lex.stop_words or lex.is_medical(low):
                continue
            if low in lex.cities or not lex.is_common(low):
                yield match.start("phi"), match.end("phi"), 0.6

    def _cities(self, text: str) -> Iterator[Hit]:
        """GeoNames cities: Title Case, or in capitals or lower case after a preposition when not a frequent
        word."""
        toks = tokens(text)
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
                    if n == 1 and (lex.is_medical(phrase) or phrase in lex.states):
                        continue
                    proper = first[0].isupper() and not first.isupper()
                    if phrase in lex.cities and (
                        (n > 1 and not first.islower())
                        or (proper and (not lex.is_common(phrase) or place_before or not first.istitle()))
                        or (not proper and place_before and not lex.is_common(phrase) and len(phrase) > 4)
                    ):
                        hit = n
                        break
            if hit:
                yield toks[i][0], toks[i + hit - 1][1], 0.6
                i += hit
            else:
                i += 1
