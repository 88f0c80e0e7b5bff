"""Medical vocabulary for dictation: the terms to prompt the engine with and to snap near-misses to.

Terms come from an ontology (by default the project's curated radiology lexicon: names, synonyms and plural
forms; abbreviations are left out, too short to match safely) plus any extra terms a caller brings, such as a
project's label schema. The prompt lists terms whose words a general English model is least likely to know
(rarer in general English than `RARE_ZIPF`, by wordfreq), core chest findings and anatomy first in the
lexicon's own order, each term for rare words the earlier ones lack, within whisper's prompt budget.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RARE_ZIPF = 3.5  # words rarer than this in general English are what a general model mishears
FUNCTION_ZIPF = 6.0  # "is", "of", "the": too frequent to anchor or be a sound-alike correction
PROMPT_CHARS = 600  # whisper keeps the last 223 prompt tokens; ~4 characters a token leaves room
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
PROMPT_HEAD = "Radiology dictation. Findings: "  # before the terms of every vocabulary prompt
_PRIORITY = {"FINDING": 0, "ANATOMY": 1, "DEVICE": 2, "PROCEDURE": 3}
_STEP = (1, 1, 6, 8)  # a type's k-th term comes at step k x this: chest findings and anatomy are what is dictated
PROMPT_DENSITY = 0.5  # share of a prompted term's letters in rare words the prompt has not named yet


def tokens(text: str) -> list[str]:
    """Lowercase word tokens of `text` (letters, digits, inner hyphens and apostrophes)."""
    return _TOKEN.findall(text.lower())


@functools.lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """How common `word` is in general English (wordfreq Zipf scale: 0 unknown .. 7 'the')."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


@dataclass(frozen=True)
class Vocabulary:
    """Terms (lowercase, as word tuples) to correct towards, and the ranked terms to prompt with."""

    terms: tuple[tuple[str, ...], ...]
    prompt_terms: tuple[str, ...]
    source: str = "custom"

    @functools.cached_property
    def words(self) -> frozenset[str]:
        """Every word that occurs in some term."""
        return frozenset(w for term in self.terms for w in term)

    @functools.cached_property
    def word_list(self) -> tuple[str, ...]:
        """`words` in alphabetical order: the order rules try them in, so that a tie between two equally good
        words goes the same way in every process (a set's order changes with Python's string hashing)."""
        return tuple(sorted(self.words))

    @functools.cached_property
    def by_length(self) -> dict[int, tuple[tuple[str, ...], ...]]:
        """Terms grouped by how many words they have."""
        groups: dict[int, list[tuple[str, ...]]] = {}
        for term in self.terms:
            groups.setdefault(len(term), []).append(term)
        return {n: tuple(ts) for n, ts in groups.items()}

    @functools.cached_property
    def contexts(self) -> dict[tuple[int, tuple[str, ...]], tuple[tuple[str, str], ...]]:
        """Multi-word terms by (position j of one word, the term's other words in order) → (the j-th word,
        the whole term). Looking up the words around a heard word finds at once the terms it may complete."""
        index: dict[tuple[int, tuple[str, ...]], list[tuple[str, str]]] = {}
        for term in self.terms:
            if len(term) < 2:
                continue
            for j, word in enumerate(term):
                index.setdefault((j, term[:j] + term[j + 1:]), []).append((word, " ".join(term)))
        return {k: tuple(v) for k, v in index.items()}

    @functools.cached_property
    def pairs(self) -> dict[tuple[int, str], tuple[tuple[str, str], ...]]:
        """Adjacent word pairs of the terms by (side of the anchor word: 0 it follows, 1 it precedes, the
        anchor) → (the other word, the pair): "heart size" from "borderline heart size" makes (1, "heart") →
        ("size", "heart size"). Function words neither anchor nor are offered."""
        index: dict[tuple[int, str], dict[tuple[str, str], None]] = {}
        for term in self.terms:
            for a, b in zip(term, term[1:], strict=False):
                if zipf(a) < FUNCTION_ZIPF and zipf(b) < FUNCTION_ZIPF and a != b:
                    index.setdefault((1, a), {})[(b, f"{a} {b}")] = None
                    index.setdefault((0, b), {})[(a, f"{a} {b}")] = None
        return {k: tuple(v) for k, v in index.items()}

    @functools.cached_property
    def spoken_terms(self) -> dict[int, tuple[str, ...]]:
        """Multi-word terms (two to four words) with a word rare in general English, by their length in
        letters without spaces: what a whole misheard stretch may have been."""
        groups: dict[int, list[str]] = {}
        for term in self.terms:
            if 2 <= len(term) <= 4 and any(zipf(w) < RARE_ZIPF for w in term):
                groups.setdefault(len("".join(term)), []).append(" ".join(term))
        return {n: tuple(ts) for n, ts in groups.items()}

    @functools.cached_property
    def term_lengths(self) -> tuple[int, ...]:
        """The word counts of the multi-word terms, longest first."""
        return tuple(sorted({len(t) for t in self.terms if len(t) > 1}, reverse=True))

    def inflects(self, word: str) -> bool:
        """Whether `word` is a plural or -ed/-ing form of a vocabulary word: a different word, not a
        misspelling of it."""
        stems = [word[:-1], word[:-2], word[:-3], word[:-3] + "y", word[:-2] + "e", word[:-3] + "e"]
        return word.endswith(("s", "ed", "ing")) and any(len(x) >= 4 and x in self.words for x in stems)

    def terms_around(self, j: int, context: Sequence[str]) -> list[tuple[str, str]]:
        """(term word, term) for the terms whose j-th word is missing from `context`, taken as heard or with its
        plural nouns singular: "media still contours" completes "mediastinal contour" as well as "... contour"
        does (`contexts`)."""
        found = list(self.contexts.get((j, tuple(context)), ()))
        singular = [self.singular(w) for w in context]
        if singular != list(context):
            found += self.contexts.get((j, tuple(singular)), ())
        return found

    def singular(self, word: str) -> str:
        """The vocabulary noun `word` is the plural of ("contours" → "contour", "opacities" → "opacity"), else
        `word` itself."""
        if word.endswith("s"):
            for stem in (word[:-1], word[:-2], word[:-3] + "y"):
                if len(stem) >= 4 and stem in self.words:
                    return stem
        return word

    def prompt(self, budget: int = PROMPT_CHARS) -> str:
        """An initial prompt naming the hardest terms, e.g. 'Radiology dictation. Findings: atelectasis, ...'."""
        return prompt_naming(self.prompt_terms, budget)

    @classmethod
    def from_terms(cls, terms: Iterable[str], source: str = "custom") -> Vocabulary:
        """A vocabulary of the given terms, prompted in the order given."""
        unique = list(dict.fromkeys(t.strip() for t in terms if t and t.strip()))
        return cls(tuple(dict.fromkeys(tuple(tokens(t)) for t in unique if tokens(t))), tuple(unique), source)


def prompt_naming(terms: Iterable[str], budget: int = PROMPT_CHARS) -> str:
    """`PROMPT_HEAD` and as many of `terms` as fit `budget` characters, in their order ("" when none fits).
    Whisper keeps only a prompt's last tokens: a list cut here loses its last terms, not its first."""
    picked: list[str] = []
    size = len(PROMPT_HEAD)
    for term in terms:
        if size + len(term) + 2 > budget:
            continue  # a shorter term further on may still fit
        picked.append(term)
        size += len(term) + 2
    return PROMPT_HEAD + ", ".join(picked) + "." if picked else ""


def _rare_words(term: str) -> set[str]:
    return {w for w in tokens(term) if zipf(w) < RARE_ZIPF}


def _rank_for_prompt(candidates: list[tuple[int, int, str]]) -> list[str]:
    """Types interleaved in the curated lexicon's order (findings and anatomy at every step, devices every
    6th, procedures every 8th: `_STEP`). A term is kept only when at least half its letters are rare words
    the kept ones lack (`PROMPT_DENSITY`): "posteroanterior and lateral radiograph" or "central venous
    catheter" would spend the budget on words named already or known to any model, and "mediastinum",
    "granuloma" would not fit."""
    covered: set[str] = set()
    ranked = []
    for _key, _order, name in sorted(candidates):
        new = _rare_words(name) - covered
        if new and sum(map(len, new)) >= PROMPT_DENSITY * len(name.replace(" ", "")):
            ranked.append(name)
            covered |= new
    return ranked


@functools.lru_cache(maxsize=8)
def _ontology_vocabulary(ontology: str) -> Vocabulary:
    from ontologies.registry import get_loader

    correct: list[str] = []
    candidates: list[tuple[int, int, str]] = []  # (rank, type priority, name)
    seen_of_type: dict[int, int] = {}
    for concept in get_loader(ontology).concepts():
        names = [concept.canonical_name, *(a for a in concept.aliases if not a.isupper() and len(a) > 3)]
        correct.extend(names)
        priority = _PRIORITY.get(concept.types[0] if concept.types else "", 9)
        if priority < 9:
            rank = seen_of_type[priority] = seen_of_type.get(priority, -1) + 1
            candidates.append((rank * _STEP[priority], priority, concept.canonical_name))
    base = Vocabulary.from_terms(correct, source=ontology)
    return Vocabulary(base.terms, tuple(_rank_for_prompt(candidates)), ontology)


def from_ontology(ontology: str = "radiology", extra_terms: Iterable[str] = ()) -> Vocabulary:
    """The vocabulary of an ontology by registry name (default the radiology lexicon), plus `extra_terms`
    (e.g. a project's label names), which are prompted first."""
    base = _ontology_vocabulary(ontology)
    extra = list(extra_terms)
    if not extra:
        return base
    more = Vocabulary.from_terms(extra)
    return Vocabulary(tuple(dict.fromkeys(more.terms + base.terms)),
                      tuple(dict.fromkeys(more.prompt_terms + base.prompt_terms)), base.source)
