"""Place and institution recognizers: cities from GeoNames; hospitals, wards and universities from how clinical
notes name them (`X Hospital`, `St. X`, `transferred to GH`, `Quartermain 2`, `U Maryland`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from annotators.deid.base import HilumRecognizer, Hit
from annotators.deid.names import tokens

_INSTITUTION_WORDS = (
    r"(?:hospital|hosp|hospiatal|medical\s+center|med\s+ctr|memorial|clinic|health\s+center|healthcare|campus|"
    r"nursing\s+home|rehab(?:ilitation)?(?:\s+(?:center|hospital|facility))?|infirmary|hospice|institute|"
    r"university|regional|adventist|general)"
)
_INSTITUTION = re.compile(rf"\b{_INSTITUTION_WORDS}\b", re.I)
_SAINT = re.compile(
    r"\b(?:St\.?|ST\.|Saint|SAINT|Holy|HOLY|Sacred|SACRED|Mount|MOUNT|Mt\.|MT\.)\s?(?P<phi>[A-Z][A-Za-z']+)"
    r"(?:\s+(?P<more>[A-Z][A-Za-z']+))?",
)
_TRANSFER = re.compile(
    r"\b(?:transferred|transfered|transfer|trans|tx|admitted|admit|adm|sent|went|go|discharged|returned|"
    r"arrived|arrival|came|seen|taken|brought|referred|medflight|enroute|screened|followed|team|ed|ew)\s+"
    r"(?:in)?(?:to|from|at|by|into)\s+(?:the\s+)?(?P<phi>[A-Za-z]{2,5})\b",
    re.I,
)
# Hospital initialisms (`GH`, `GBMC`) before an emergency ward or after `at`/`to`/`from`.
_HOSPITAL_ACRONYM = re.compile(
    r"\b(?P<phi>[A-Z]{1,3}(?:H|MC|HC))(?=\s+(?:EW|ER|ED)\b)|(?<=\b[Aa][Tt]\s)(?P<at>[A-Z]{1,3}(?:H|MC|HC))\b"
)
# A ward is a building name and a floor: `transfer to Quartermain 2`, `on Ellison 4`, `quartermain2`.
_WARD = re.compile(r"\b(?:to|from|on|at|transfer|trans)\s+(?P<phi>[A-Za-z]{4,})\s?\d\b(?![.:/]?\d)", re.I)
# `U Maryland`, `Univ. of Iowa`: a university named by its state or city.
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
            more = match.group("more")
            end = match.end("more") if more and not lex.is_common(more) or more in ("Cross", "Heart") else None
            yield match.start(), end or match.end("phi"), 0.6
        for match in _WARD.finditer(text):
            word = match.group("phi").lower()
            if word not in _UNITS and not lex.is_common(word) and not lex.is_medical(word):
                yield match.start("phi"), match.end("phi"), 0.5
        for match in _TRANSFER.finditer(text):
            word = match.group("phi")
            if self._hospital_word(word):
                yield match.start("phi"), match.end("phi"), 0.5
        for match in _HOSPITAL_ACRONYM.finditer(text):
            group = "phi" if match.group("phi") else "at"
            if match.group(group).lower() not in _UNITS and match.group(group) not in ("OH", "AH", "UH"):
                yield match.start(group), match.end(group), 0.5
        for match in _UNIVERSITY.finditer(text):
            word = match.group("phi").lower()
            if word in lex.states or word in lex.cities:
                yield match.start(), match.end("phi"), 0.6

    def _hospital_word(self, word: str) -> bool:
        """A short word after `transferred to` that names a hospital: an initialism like `GH`/`GBMC`, or an
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
        """Start of the name words before an institution word (`Holy Cross`, `kernan`), at most three."""
        start = end
        for _ in range(3):
            match = re.search(r"([A-Za-z][A-Za-z'\-]*\.?)[ \t]+\Z", text[max(0, start - 40) : start])
            if not match:
                break
            word = match.group(1).rstrip(".")
            low = word.lower()
            if low in self.lexicon.stop_words or low in _UNITS or (word.islower() and self.lexicon.is_medical(low)):
                break
            if word.islower() and self.lexicon.is_common(low) and low not in ("holy", "sacred", "saint", "st"):
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
                    if phrase in lex.cities and (
                        (n > 1 and not first.islower())
                        or (first.istitle() and (not lex.is_common(phrase) or place_before))
                        or (first.isupper() and place_before and not lex.is_common(phrase))
                    ):
                        hit = n
                        break
            if hit:
                yield toks[i][0], toks[i + hit - 1][1], 0.6
                i += hit
            else:
                i += 1
