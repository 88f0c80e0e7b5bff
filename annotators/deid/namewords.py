"""The words around names in clinical notes: titles, relations, credentials, trailers, and the tokenizer that
the name, cue and place recognizers share."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W\d_](?:[^\W\d_]|')*")
TITLES = frozenset({"dr", "drs", "dr's", "doctor", "mr", "mrs", "ms", "miss", "mister", "np", "md", "dear"})
# Words after which the preceding name-like tokens are names (`NP ODALYS AWARE`, `renata ilse aware`).
TRAILERS = frozenset({"aware", "notified", "paged", "informed"})
# Weaker trailers: the preceding token must be a plain name (`Renata called`, `IVO VISITED`).
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
NOT_NAMES = frozenset(
    "aware notified called paged informed updated made here in at to and or of with on for by team "
    "office note pt patient service consult fellow attending resident covering per hosp micu team".split()
)
# Word endings of clinical verbs and nouns, never of a name found only by context (`sedated`, `waxing`).
NOT_NAME_ENDING = re.compile(r"(?:ed|ing|tion|sion|ment|ness|ity|ly|'d)\Z", re.I)
SEP = re.compile(r"\A[\s,.:;()\-/]*\Z")
SENTENCE_START = re.compile(r"(?:\A|[.!?:;|\n]|\s-)\s*\Z")
INITIAL = re.compile(r"\A[^\W\d_]\Z")
# Titles of doctors, after which a proper word is a surname whatever its ending (`md Quisenberry`).
DOCTOR = frozenset({"dr", "drs", "dr's", "doctor", "md"})
# Verbs whose subject is a person (`RENATA IS SPEAKING TO`, `Ivo says`).
SUBJECT_VERBS = frozenset("is was has says said states stated wants wanted does will".split())
# Verbs that follow a surname and are also names (`dr jones will see`, `Dr. Smith May call`).
VERBS = frozenset("will may can could would should shall must said says is was has had does did see saw".split())


def same_case(word: str, prev: str) -> bool:
    """Both Title Case, both ALL CAPS or both lower case (`Ivo Gray`, `IVO GRAY`, `ivo gray`)."""
    return (
        (word.istitle() and prev.istitle())
        or (word.isupper() and prev.isupper())
        or (word.islower() and prev.islower())
    )


def tokens(text: str) -> list[tuple[int, int, str]]:
    """Word tokens of `text` as `(start, end, word)`; hyphens and punctuation separate tokens."""
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def dotted_credential(text: str, start: int) -> int:
    """End of an `R.N.` / `M.D.` style credential starting at `start`, or -1."""
    match = re.compile(r"(?:R\.\s?N|M\.\s?D|N\.\s?P|R\.\s?R\.\s?T)\.?", re.I).match(text, start)
    return match.end() if match else -1
