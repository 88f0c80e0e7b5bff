"""Word coverage of a mention by a concept's names, a reranking feature for entity linking.

The candidate generator scores character 3-grams, so a name that shares one long word with the mention can beat a
name that has all its words: `iron dextran` is nearer `Dextrans` than `Iron-Dextran Complex`, `metrizoate` nearer
`Diatrizoate` than `Metrizoic Acid`. `coverage` is the share of the mention's content words (compared by their
first `STEM` letters, so that plural and adjective endings agree: metastases/metastasis) found in the concept name
that covers most of them; the linker adds `COVER_WEIGHT` times it to a candidate's ranking score.

Chosen on the BC5CDR and NCBI-disease development splits, among other features measured alongside it (word-order
and plural-insensitive exact match, exact canonical name, the share of identical training mentions naming the
concept, Jaccard overlap, head-word match, training frequency): only coverage improved both corpora.

`CorpusPrior` holds what the training split says beyond aliases: which labels a concept's mentions had (a
CHEMICAL or a FINDING), which mention strings are exactly a concept's alias, and how often the training split
linked a mention string to each concept (`links`, composite mentions included: `breast and ovarian cancer` names
both neoplasms there, and one paper's single-concept reading should not outrank that). A mention whose text (its
long form when it is an abbreviation: short forms are ambiguous across papers) is, word for word and plural aside,
a training string gains `LINK_WEIGHT` times the share of that string's training links each concept had; those
concepts are offered even when the character-3-gram index missed them (`Na`, `K`).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from annotators.text.extensions import ConceptCandidate

COVER_WEIGHT = 0.5  # chosen by a grid (0.2-1.0) on the development splits
LABEL_WEIGHT = 0.05  # the training label agrees (+) or disagrees (-); both weights chosen on the dev splits
FREQUENCY_WEIGHT = 0.01  # times log(1 + training mentions of the concept with the entity's label)
DISCOURSE_WEIGHT = 0.1  # the concept comes first for another mention (other text) of the same document
LINK_WEIGHT = 1.0  # times the share of a training string's links a concept had; chosen on the dev splits
STEM = 5  # words are compared by their first letters
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"of", "the", "and", "in", "with", "by", "to", "a", "an", "or", "for", "on", "due", "induced",
                   "associated", "related", "like", "caused"})  # fmt: skip


def singular(word: str) -> str:
    """`word` without a plural ending (`arteries` → artery, `cells` → cell; `-ss`, `-us`, `-is` stay)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=200_000)  # concept names come back for mention after mention
def stems(text: str) -> frozenset[str]:
    """The stems (first `STEM` letters of the singular, lower case) of the content words of `text` (`X-induced
    Y`, `X of Y`: the linking words are left out)."""
    return frozenset(singular(w)[:STEM] for w in _WORD.findall(text.lower()) if w not in _STOP)


def coverage(forms: Iterable[str], names: Sequence[str], whole: Iterable[str] = ()) -> float:
    """The largest share of a form's word stems found in one of `names` (0 when either has no words); a text of
    `whole` (an abbreviation: its letters say nothing of a name's other words, `IgE` of Receptors, IgE) counts 1
    only when a name is exactly its words (`MESNA` = Mesna)."""
    best = 0.0
    name_stems = [stems(n) for n in names]
    for form in forms:
        wanted = stems(form)
        if wanted:
            best = max([best, *(len(wanted & found) / len(wanted) for found in name_stems)])
    if any(stems(text) in name_stems for text in whole):
        best = 1.0
    return best


def mention_key(text: str) -> str:
    """`text` as the string prior compares it: lower case words without plural endings, punctuation and spacing
    ignored (`Breast and ovarian cancers` = breast and ovarian cancer, `(insulin-dependent)` = insulin dependent)."""
    return " ".join(singular(w) for w in _WORD.findall(text.lower()))


class CorpusPrior:
    """What the training split of one or more ontologies' aliases files says about concepts and mention strings
    (see the module docstring); keys are (ontology, concept id)."""

    def __init__(self) -> None:
        self.labels: dict[tuple[str, str], Mapping[str, int]] = {}
        self.aliases: dict[str, set[tuple[str, str]]] = {}  # alias (lower case) → concepts
        self.links: dict[str, Counter[tuple[str, str]]] = {}  # mention_key → concept → training mentions

    def add(self, ontology: str, aliases: Mapping[str, Sequence[str]], labels: Mapping[str, Mapping[str, int]],
            links: Mapping[str, Mapping[str, int]]) -> None:  # fmt: skip
        """Add one ontology's tables (as `annotators.text.aliases` reads them)."""
        self.labels.update(((ontology, i), counts) for i, counts in labels.items())
        for concept_id, names in aliases.items():
            for alias in names:
                self.aliases.setdefault(alias.lower(), set()).add((ontology, concept_id))
        for text, counts in links.items():
            key = mention_key(text)
            if key:
                self.links.setdefault(key, Counter()).update({(ontology, i): n for i, n in counts.items()})

    def label_score(self, ontology: str, concept_id: str, label: str) -> float:
        """Plus a little when training mentions of the concept had `label` (more the more there were), minus a
        little when they had only other labels; 0 for a concept the training split never named."""
        counts = self.labels.get((ontology, concept_id))
        if not counts:
            return 0.0
        if label not in counts:
            return -LABEL_WEIGHT
        return LABEL_WEIGHT + FREQUENCY_WEIGHT * math.log1p(counts[label])

    def exact(self, texts: Iterable[str]) -> set[tuple[str, str]]:
        """The concepts one of `texts` is exactly (case aside) a training alias of."""
        return {key for t in texts for key in self.aliases.get(t.lower(), ())}

    def shares(self, texts: Iterable[str]) -> dict[tuple[str, str], float]:
        """Concept → share of the training links of the first of `texts` the training split has (empty: none)."""
        for text in texts:
            counts = self.links.get(mention_key(text))
            if counts:
                total = sum(counts.values())
                return {concept: n / total for concept, n in counts.items()}
        return {}


# A candidate of one entity: the candidate, its ranking score, the tie-breakers (not a training alias of the
# mention, the ontology's rank for the label, the concept id, minus the similarity) and whether the document's
# other mentions may add to its score (not for a lexicon match, which names its concept).
Scored = tuple[ConceptCandidate, float, tuple[bool, int, str, float], bool]


def ordered(scored: list[Scored], others: frozenset[tuple[str, str]] = frozenset()) -> list[ConceptCandidate]:
    """The candidates best first, each concept once; a concept that comes first for another mention (other
    text) of the same document (`others`) gains `DISCOURSE_WEIGHT`: a document keeps to one sense."""

    def key(item: Scored) -> tuple[Any, ...]:
        c, score, ties, open_to_others = item
        if open_to_others and (c.ontology, c.concept_id) in others:
            score += DISCOURSE_WEIGHT
        return (-round(score, 6), *ties)

    seen: set[tuple[str, str]] = set()
    unique = []
    for c, *_rest in sorted(scored, key=key):
        if (c.ontology, c.concept_id) not in seen:
            seen.add((c.ontology, c.concept_id))
            unique.append(c)
    return unique
