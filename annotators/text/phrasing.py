"""MeSH's way of naming a disease, for looking concepts up: organ nouns and plural headings where papers and reports
use adjectives and everyday words (`renal failure` → kidney failure, `lung cancer` → lung neoplasms,
`optic neuropathy` → optic nerve diseases, `cardiac failure` → heart failure).

`mesh_phrasing` rewrites the words MeSH systematically names otherwise; other text comes back unchanged. The
linker looks a mention up by both, so a rewrite only ever adds candidates.
"""

from __future__ import annotations

import re

_ORGANS = {  # adjective → the organ noun MeSH headings use
    "renal": "kidney", "hepatic": "liver", "cardiac": "heart", "pulmonary": "lung", "gastric": "stomach",
    "ocular": "eye", "cerebral": "brain", "neurologic": "nervous system", "neurological": "nervous system",
    "colonic": "colon", "vesical": "bladder", "cutaneous": "skin", "dermal": "skin", "osseous": "bone",
    "myocardial": "heart", "intestinal": "intestinal", "splenic": "spleen", "thyroidal": "thyroid",
    "prostate": "prostatic", "pancreas": "pancreatic", "breast": "breast", "bowel": "intestinal",
}  # fmt: skip
_NEOPLASM = re.compile(r"\b(?:cancers?|carcinomas?|tumou?rs?|neoplasms?|malignanc(?:y|ies))\b", re.IGNORECASE)
_DISEASE = re.compile(
    r"\b(?:disease|disorders?|dysfunctions?|impairments?|damage|lesions?|abnormalit(?:y|ies)|involvement|"
    r"complications?|toxicity|illness)\b",
    re.IGNORECASE,
)
_NEUROPATHY = re.compile(r"\bneuropath(?:y|ies)\b", re.IGNORECASE)
_ORGAN = re.compile(r"\b(" + "|".join(sorted(_ORGANS, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def mesh_phrasing(text: str) -> str:
    """`text` in MeSH's words for organs and disease headings (unchanged when none applies)."""
    rewritten = _ORGAN.sub(lambda m: _ORGANS[m.group(1).lower()], text)
    rewritten = _NEUROPATHY.sub("nerve diseases", rewritten)
    rewritten = _NEOPLASM.sub("neoplasms", rewritten)
    if rewritten != text or _ORGAN.search(text):
        rewritten = _DISEASE.sub("diseases", rewritten)
    return rewritten
