"""The concepts a coordinated mention names one by one, for entity linking: `breast and ovarian cancer` is breast
cancer and ovarian cancer, `learning and memory deficits` learning deficits and memory deficits.

Corpora link such a composite mention to every concept it names; a character-3-gram index finds the concept
whose name shares most letters with the whole (`Hereditary Breast and Ovarian Cancer Syndrome`) or none. The
linker also looks each conjunct up (`conjuncts`). One kind of coordinator is read (`and`, `or`, `and/or`, `/`,
commas in a list): when every conjunct but the last is one word, they share the last one's head (`pleural and
pericardial effusion`); when every conjunct but the first is one word, they share the first one's modifiers
(`deficits in learning and memory` → deficits in learning, deficits in memory). A reading can be wrong (`renal
pelvis and bladder` → renal bladder): it then finds only weak candidates, scored below the whole mention's."""

from __future__ import annotations

import re

_COORDINATOR = re.compile(r"\s*,?\s+(?:and/or|and|or)\s+|\s*/\s*|\s*,\s+", re.IGNORECASE)
MAX_WORDS = 8  # longer mentions are clauses rather than coordinated names


def conjuncts(text: str) -> list[str]:
    """The conjuncts a coordinated mention names (empty when `text` is not one: no coordinator, more than one
    kind of split, or too long)."""
    words = text.split()
    if len(words) < 3 or len(words) > MAX_WORDS:
        return []
    parts = [p for p in _COORDINATOR.split(text) if p]
    if len(parts) < 2 or any(not p[:1].isalnum() for p in parts):
        return []
    first, last = parts[0].split(), parts[-1].split()
    found: list[str] = []
    if len(last) > 1 and all(len(p.split()) == 1 for p in parts[:-1]):  # breast and ovarian cancer
        head = " ".join(last[1:])
        found = [f"{p} {head}" for p in parts[:-1]] + [parts[-1]]
    elif len(first) > 1 and all(len(p.split()) == 1 for p in parts[1:]):  # cleft lip and palate
        modifier = " ".join(first[:-1])
        found = [parts[0]] + [f"{modifier} {p}" for p in parts[1:]]
    return [f for f in found if f.lower() != text.lower()]
