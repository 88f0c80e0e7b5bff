"""British → American medical spelling, for looking concepts up: MeSH names are American (`Anemia`, `Edema`,
`Esophagus`, `Sulfate`), papers and reports are often British (`anaemia`, `oedema`, `oesophageal`, `sulphate`).

`americanize` rewrites the spellings that differ systematically; other text comes back unchanged.
"""

from __future__ import annotations

import re

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"aem(?=[ia]|orrh|at|o)", re.IGNORECASE), "em"),  # anaemia, haemorrhage, haematoma, haemo-
    (re.compile(r"\bo(e)(?=d|soph|str)", re.IGNORECASE), r"\1"),  # oedema, oesophagus, oestrogen
    (re.compile(r"(?<=[a-z])oe(?=a\b|al\b|ic\b)", re.IGNORECASE), "e"),  # diarrhoea, dyspnoea, amenorrhoeal
    (re.compile(r"\b(f)oet", re.IGNORECASE), r"\1et"),  # foetal
    (re.compile(r"\b(c)oel(?=i)", re.IGNORECASE), r"\1el"),  # coeliac
    (re.compile(r"(?<=[a-z])aes(?=th)", re.IGNORECASE), "es"),  # anaesthesia
    (re.compile(r"(?<=p)aed", re.IGNORECASE), "ed"),  # paediatric, orthopaedic
    (re.compile(r"(?<=gyn)aec", re.IGNORECASE), "ec"),  # gynaecology
    (re.compile(r"(tum|behavi|col|hum|lab)our", re.IGNORECASE), r"\1or"),  # tumour, behaviour
    (re.compile(r"sulph", re.IGNORECASE), "sulf"),  # sulphate, sulphonamide
    (re.compile(r"\b(a)luminium", re.IGNORECASE), r"\1luminum"),
    (re.compile(r"(?<=[a-z])isation", re.IGNORECASE), "ization"),  # hospitalisation
    (re.compile(r"(?<=[a-z]{2})tre\b", re.IGNORECASE), "ter"),  # litre, centre
    (re.compile(r"(?<=al)ogue\b", re.IGNORECASE), "og"),  # analogue
]


def americanize(text: str) -> str:
    """`text` with British medical spellings rewritten the American way (unchanged when it has none)."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
