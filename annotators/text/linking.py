"""Entity linking (`hilum_linker`): ranked concepts from the ontology knowledge bases on every entity.

One scispaCy `EntityLinker` per ontology, each over the `ScoredCandidateGenerator` of a knowledge base built by
`ontologies.kb` (TF-IDF char-3-gram + HNSW). The component is a thin batching wrapper: it asks each linker's
candidate generator for all the mentions of a batch of documents at once and applies the linker's own
threshold (except that each ontology's best candidate is always kept, so every entity has concepts and their
scores say how good they are) and `top_k`, with `filter_for_definitions` off (the built KBs
mostly lack definitions, and scispaCy would drop every candidate below 0.95). Abbreviations are resolved
first: a mention is looked up by its long form (`hilum_abbreviations`), and by its own text with scores
weighted by `short_form_weight` (an abbreviation may itself be a known alias). Which ontologies serve which label is
configuration, and so are extra aliases learnt from training corpora (`aliases`: ontology → file, see
`annotators.text.aliases`).
A lexicon match already names its concept: that concept (and the MeSH descriptor the lexicon maps it to) come
first with score 1.0. Concepts of a typed ontology (the radiology lexicon) are offered only to entities of their
own type: a FINDING gets findings, never a modifier, an anatomy or a statement of normality (`normal chest`,
which only an exact lexicon match gives). Candidates of all ontologies are merged best first (on a tie, a concept
whose training alias the mention is exactly comes first: the corpus's own convention) and cut to `top_k`.
A mention is also looked up in American spelling (`anaemia` → anemia, `annotators.text.spelling`) and, for MeSH
only, in MeSH's own phrasing (`renal failure` → kidney failure, `lung cancer` → lung neoplasms,
`annotators.text.phrasing`; scores weighted by `PHRASING_WEIGHT`). An entity that no lexicon entry matched is
ranked with a prior learnt from the training split with the aliases: a concept whose training mentions had the
entity's label gains `LABEL_WEIGHT` (plus a little per mention), one whose mentions had only other labels loses it;
the scores reported stay the similarities. The ranking also adds `rerank.COVER_WEIGHT` times the share of the
mention's words that one of the concept's names has (`iron dextran` → Iron-Dextran Complex before Dextrans;
`annotators.text.rerank`).
"""

import math
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from annotators.text import aliases as extra_aliases
from annotators.text.abbreviations import expand, listed
from annotators.text.errors import PipelineConfigError
from annotators.text.extensions import ConceptCandidate, register
from annotators.text.phrasing import mesh_phrasing
from annotators.text.rerank import COVER_WEIGHT, coverage
from annotators.text.spelling import americanize

CACHE_SIZE = 200_000  # mention strings remembered per ontology (and process)
LABEL_WEIGHT = 0.05  # the training label agrees (+) or disagrees (-); both weights chosen on the dev splits
FREQUENCY_WEIGHT = 0.01  # times log(1 + training mentions of the concept with the entity's label)
PHRASING_WEIGHT = 0.95  # a rewritten mention scores a little below the mention as written


def _entity_linker(  # noqa: ANN202
    name: str, threshold: float, top_k: int, neighbours: int, build_missing: bool, aliases: str | None
):
    from annotators.text import aliases as extra
    from ontologies import kb
    from ontologies.concept import OntologyError

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Importing 'parser\.split_arg_string'", DeprecationWarning)
        from scispacy.linking import EntityLinker
    try:
        if aliases:
            generator = extra.load_generator(name, aliases, build_missing)
        else:
            if build_missing:
                kb.build(name)
            generator = kb.load_candidate_generator(name)
    except OntologyError as exc:
        raise PipelineConfigError(f"linking to {name!r}: {exc}") from exc
    return EntityLinker(
        candidate_generator=generator,
        resolve_abbreviations=True,
        k=neighbours,
        threshold=threshold,
        filter_for_definitions=False,
        max_entities_per_mention=top_k,
    )


class OntologyLinker:
    """Links `doc.ents` to the configured ontologies (see the module docstring)."""

    def __init__(
        self,
        ontologies: dict[str, list[str]],
        threshold: float,
        top_k: int,
        neighbours: int,
        build_missing: bool,
        aliases: dict[str, str],
        short_form_weight: float = 0.9,
    ) -> None:
        from ontologies.lexicon import RadiologyLexiconLoader

        self.routes = ontologies
        self.short_form_weight = short_form_weight
        self.cache: dict[str, dict[str, list[ConceptCandidate]]] = {}
        self.top_k = top_k
        names = sorted({name for names in ontologies.values() for name in names})
        self.linkers = {
            name: _entity_linker(name, threshold, top_k, neighbours, build_missing, aliases.get(name)) for name in names
        }
        self.types = {  # ontology → concept id → types, for the ontologies whose concepts are typed
            name: {cui: tuple(e.types) for cui, e in linker.kb.cui_to_entity.items() if e.types}
            for name, linker in self.linkers.items()
        }
        self.trained: dict[str, dict[str, set[str]]] = {}  # ontology → training alias (lower case) → ids
        self.labels: dict[tuple[str, str], dict[str, int]] = {}  # (ontology, id) → label → training mentions
        for name, path in aliases.items():
            self.labels.update(((name, i), counts) for i, counts in extra_aliases.read_labels(Path(path)).items())
            table = self.trained.setdefault(name, {})
            for concept_id, names in extra_aliases.read_aliases(Path(path)).items():
                for alias in names:
                    table.setdefault(alias.lower(), set()).add(concept_id)
        loader = RadiologyLexiconLoader()
        self.lexicon_names = {c.concept_id: c.canonical_name for c in loader.concepts()}
        self.lexicon_mesh = loader.mesh_mapping()

    def _exact(self, ent: Span) -> list[ConceptCandidate]:
        concept_id = ent.kb_id_
        if not concept_id or concept_id not in self.lexicon_names:
            return []
        found = [ConceptCandidate("radiology", concept_id, self.lexicon_names[concept_id], 1.0)]
        mesh_id = self.lexicon_mesh.get(concept_id)
        mesh = self.linkers.get("mesh")
        if mesh_id and mesh is not None and mesh_id in mesh.kb.cui_to_entity:
            found.append(ConceptCandidate("mesh", mesh_id, mesh.kb.cui_to_entity[mesh_id].canonical_name, 1.0))
        return found

    def _query(self, name: str, texts: list[str]) -> list[list[ConceptCandidate]]:
        """Ranked candidates per text; repeated mentions (most of a radiology corpus) come from a cache."""
        cache = self.cache.setdefault(name, {})
        texts = [t.lower() for t in texts]  # the TF-IDF vectorizer lower-cases anyway
        missing = sorted({t for t in texts if t not in cache})
        if missing:
            if len(cache) + len(missing) > CACHE_SIZE:
                cache.clear()
            cache.update(zip(missing, self._generate(name, missing), strict=True))
        return [list(cache[t]) for t in texts]

    def _generate(self, name: str, texts: list[str]) -> list[list[ConceptCandidate]]:
        """Every neighbour the index returns per text, best first (the threshold is applied per entity)."""
        linker = self.linkers[name]
        results = []
        for candidates in linker.candidate_generator(texts, linker.k):
            ranked = []
            for candidate in candidates:
                entity = linker.kb.cui_to_entity[candidate.concept_id]
                score = float(max(candidate.similarities))
                ranked.append(ConceptCandidate(name, candidate.concept_id, entity.canonical_name, score))
            results.append(ranked)
        return results

    def _fitting(self, name: str, label: str, ranked: list[ConceptCandidate]) -> list[ConceptCandidate]:
        """The candidates whose type suits an entity of `label` (a FINDING is offered findings, not modifiers,
        anatomy or statements of normality; ontologies without types suit every label), over the threshold
        except the best one, at most `top_k`."""
        linker = self.linkers[name]
        kept: list[ConceptCandidate] = []
        for c in ranked:
            types = self.types[name].get(c.concept_id, ())
            if types and (types[0] != label or "NORMAL" in types[1:]):
                continue
            if kept and c.score <= linker.threshold:
                break
            kept.append(c)
            if len(kept) >= self.top_k:
                break
        return kept

    def _prior(self, c: ConceptCandidate, label: str) -> float:
        """The candidate's score for ranking: plus a little when training mentions of its concept had the
        entity's label (more the more there were), minus a little when they had only other labels."""
        counts = self.labels.get((c.ontology, c.concept_id))
        if not counts:
            return c.score
        if label not in counts:
            return c.score - LABEL_WEIGHT
        return c.score + LABEL_WEIGHT + FREQUENCY_WEIGHT * math.log1p(counts[label])

    def _rank(self, c: ConceptCandidate, label: str, forms: list[str]) -> float:
        """The ranking score of a candidate of an entity no lexicon entry matched: the label prior plus how much
        of the mention's words one of the concept's names has (`annotators.text.rerank`)."""
        entity = self.linkers[c.ontology].kb.cui_to_entity.get(c.concept_id)
        names = (entity.canonical_name, *entity.aliases) if entity is not None else (c.name,)
        return self._prior(c, label) + COVER_WEIGHT * coverage(forms, names)

    def _trained(self, ent: Span) -> set[tuple[str, str]]:
        """(ontology, concept id) of the training aliases the entity's text or long form is exactly."""
        texts = {ent.text.lower(), (ent._.hilum_long_form or "").lower()}
        return {(name, i) for name, table in self.trained.items() for t in texts for i in table.get(t, ())}

    def link(self, docs: list[Doc]) -> None:
        """Set `hilum_long_form` and `hilum_concepts` on every entity of `docs`."""
        self.link_spans([ent for doc in docs for ent in doc.ents])

    def queries(self, ent: Span) -> list[tuple[str, float, str | None]]:
        """(text, score weight, only this ontology) to look the entity up by; sets its `hilum_long_form`."""
        long_form = expand(ent)
        ent._.hilum_long_form = long_form
        text = americanize(long_form or ent.text)
        found: list[tuple[str, float, str | None]] = [(f, 1.0, None) for f in sorted({long_form or ent.text, text})]
        if (phrased := mesh_phrasing(text)) != text:
            found.append((phrased, PHRASING_WEIGHT, "mesh"))
        if long_form and self.short_form_weight > 0:
            found.append((ent.text, self.short_form_weight, None))
            table_form = listed(ent.text)  # the document defines it otherwise than the table
            if table_form and table_form != long_form:
                found.append((table_form, self.short_form_weight, None))
        return found

    def link_spans(self, ents: list[Span]) -> None:
        """Set `hilum_long_form` and `hilum_concepts` on each span (any spans, e.g. gold mentions)."""
        queries: list[tuple[int, str, float, str | None]] = []  # (entity, text, weight, only this ontology)
        forms: list[list[str]] = []
        for i, ent in enumerate(ents):
            found = self.queries(ent)
            queries += [(i, *q) for q in found]
            forms.append([text for text, _weight, _only in found])
        merged: list[list[ConceptCandidate]] = [self._exact(ent) for ent in ents]
        for name in self.linkers:
            routed = [q for q in queries if name in self.routes.get(ents[q[0]].label_, []) and q[3] in (None, name)]
            if routed:
                ranked_all = self._query(name, [q[1] for q in routed])
                for (i, _text, weight, _only), ranked in zip(routed, ranked_all, strict=True):
                    fitting = self._fitting(name, ents[i].label_, ranked)
                    merged[i].extend(c._replace(score=c.score * weight) for c in fitting)
        for ent, candidates, said in zip(ents, merged, forms, strict=True):  # said: the texts looked up
            order = {name: rank for rank, name in enumerate(self.routes.get(ent.label_, []))}
            trained = self._trained(ent)
            seen: set[tuple[str, str]] = set()
            unique = []
            prior = not ent.kb_id_  # a lexicon match already names its concept: no corpus prior on top of it
            for c in sorted(candidates, key=lambda c: (-round(self._rank(c, ent.label_, said) if prior else c.score, 6),
                                                      (c.ontology, c.concept_id) not in trained,
                                                      order.get(c.ontology, len(order)), c.concept_id)):  # fmt: skip
                if (c.ontology, c.concept_id) not in seen:
                    seen.add((c.ontology, c.concept_id))
                    unique.append(c)
            ent._.hilum_concepts = unique[: self.top_k]

    def __call__(self, doc: Doc) -> Doc:
        """Link one document."""
        self.link([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        """Link documents in batches (one candidate-generator call per ontology per batch)."""
        from spacy.util import minibatch

        for batch in minibatch(docs, size=batch_size):
            batch = list(batch)
            self.link(batch)
            yield from batch


@Language.factory(
    "hilum_linker",
    default_config={
        "ontologies": {"FINDING": ["radiology", "mesh"], "CHEMICAL": ["mesh"], "ANATOMY": ["radiology", "mesh"],
                       "DEVICE": ["radiology", "mesh"], "PROCEDURE": ["radiology", "mesh"]},
        "threshold": 0.5,
        "top_k": 5,
        "neighbours": 30,
        "build_missing": True,
        "aliases": {},
        "short_form_weight": 0.9,
    },
)  # fmt: skip
def make_linker(
    nlp: Language,
    name: str,
    ontologies: dict[str, list[str]],
    threshold: float,
    top_k: int,
    neighbours: int,
    build_missing: bool,
    aliases: dict[str, str],
    short_form_weight: float,
) -> OntologyLinker:
    """Factory of the `hilum_linker` component."""
    register()
    return OntologyLinker(ontologies, threshold, top_k, neighbours, build_missing, aliases, short_form_weight)
