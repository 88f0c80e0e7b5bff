"""scispaCy candidate generation over a built knowledge base, with candidates ranked by score.

Imports scispaCy's candidate generation (and so spaCy): import this module only where linking happens.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import NamedTuple

with warnings.catch_warnings():
    # spaCy 3.7 (imported by scispaCy) imports a name click 8.2+ deprecates; nothing Hilum can change
    warnings.filterwarnings("ignore", r"Importing 'parser\.split_arg_string' is deprecated", DeprecationWarning)
    from scispacy.candidate_generation import CandidateGenerator, LinkerPaths, MentionCandidate
from scispacy.linking_utils import Entity, KnowledgeBase

from ontologies.concept import CorruptOntologyError


class RankedConcept(NamedTuple):
    """One candidate concept for a mention: id, preferred name, best alias similarity (cosine, 0..1)."""

    concept_id: str
    canonical_name: str
    score: float


class ScoredCandidateGenerator(CandidateGenerator):
    """A scispaCy `CandidateGenerator` whose candidates come back best first (scispaCy sorts them by id).

    Ties are broken by concept id so that results are reproducible. Usable as
    `EntityLinker(candidate_generator=...)`'s generator; `rank` is the plain-Python interface.
    """

    def __call__(self, mention_texts: list[str], k: int) -> list[list[MentionCandidate]]:
        """Candidates per mention (at most `k` index neighbours each), highest similarity first."""
        batches = super().__call__(mention_texts, k)
        return [sorted(batch, key=lambda c: (-max(c.similarities), c.concept_id)) for batch in batches]

    def rank(self, mention_texts: list[str], k: int = 30, limit: int = 5) -> list[list[RankedConcept]]:
        """The best `limit` concepts per mention, each with its preferred name and score."""
        ranked = []
        for batch in self(mention_texts, k):
            ranked.append(
                [
                    RankedConcept(
                        c.concept_id,
                        self.kb.cui_to_entity[c.concept_id].canonical_name,
                        float(max(c.similarities)),
                    )
                    for c in batch[:limit]
                ]
            )
        return ranked


def read_kb(path: Path) -> KnowledgeBase:
    """A scispaCy `KnowledgeBase` from a built `kb.jsonl` (read as UTF-8 whatever the locale)."""
    entities = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                entities.append(Entity(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise CorruptOntologyError(str(path), f"bad knowledge-base record ({exc})", number) from exc
    return KnowledgeBase(entities)


def load_generator(folder: Path, *, ef_search: int = 200) -> ScoredCandidateGenerator:
    """Load the knowledge base, vectorizer and HNSW index written by `ontologies.kb.build` into `folder`."""
    from scispacy.candidate_generation import load_approximate_nearest_neighbours_index

    paths = LinkerPaths.from_directory(folder)
    index = load_approximate_nearest_neighbours_index(paths, ef_search=ef_search)
    return ScoredCandidateGenerator(
        ann_index=index,
        tfidf_vectorizer=paths.get_tfidf_vectorizer(),
        ann_concept_aliases_list=json.loads((folder / "concept_aliases.json").read_text(encoding="utf-8")),
        kb=read_kb(folder / "kb.jsonl"),
    )
