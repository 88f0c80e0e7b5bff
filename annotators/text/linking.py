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
A mention is also looked up in American spelling (`anaemia` → anemia, `annotators.text.spelling`), for MeSH only in
MeSH's own phrasing (`renal failure` → kidney failure, `annotators.text.phrasing`; scores weighted by
`PHRASING_WEIGHT`), and (MeSH only too) conjunct by conjunct when it is coordinated (`pleural and pericardial
effusion` → pleural effusion, pericardial effusion, `annotators.text.conjuncts`; `CONJUNCT_WEIGHT`). A text that is
exactly a concept's name or alias finds that concept with score 1.0 even where the approximate (HNSW) index misses
it. An entity that no lexicon entry matched is ranked with what the training split says (`rerank.CorpusPrior`): the
label its concepts' mentions had (`rerank.LABEL_WEIGHT`), how often it linked the mention's string to each concept
(`rerank.LINK_WEIGHT`; such concepts are offered even when the index misses them); plus `rerank.COVER_WEIGHT` times
the share of the mention's words that one of the concept's names has (`iron dextran` → Iron-Dextran Complex before
Dextrans), and `rerank.DISCOURSE_WEIGHT` when the concept comes first for another mention (other text) of the same
document: a document keeps to one sense of a word. The scores reported stay the similarities.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from annotators.text import aliases as extra_aliases
from annotators.text.abbreviations import expand, listed
from annotators.text.aliases import entity_linker, lower_aliases
from annotators.text.conjuncts import conjuncts
from annotators.text.extensions import ConceptCandidate, register
from annotators.text.phrasing import mesh_phrasing
from annotators.text.rerank import COVER_WEIGHT, LINK_WEIGHT, CorpusPrior, Scored, coverage, ordered
from annotators.text.spelling import americanize

CACHE_SIZE = 200_000  # mention strings remembered per ontology (and process)
PHRASING_WEIGHT = 0.95  # a rewritten mention scores a little below the mention as written
CONJUNCT_WEIGHT = 0.9  # one concept of a coordinated mention (`annotators.text.conjuncts`); MeSH only: on the IU
# chest X-ray reports, looking the radiology lexicon up by conjuncts lost a finding heading and gained none


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
        self.names: dict[str, dict[str, set[str]]] = {}  # ontology → name or alias (lower case) → ids
        self.top_k = top_k
        names = sorted({name for names in ontologies.values() for name in names})
        self.linkers = {
            name: entity_linker(name, threshold, top_k, neighbours, build_missing, aliases.get(name)) for name in names
        }
        self.types = {  # ontology → concept id → types, for the ontologies whose concepts are typed
            name: {cui: tuple(e.types) for cui, e in linker.kb.cui_to_entity.items() if e.types}
            for name, linker in self.linkers.items()
        }
        self.prior = CorpusPrior()
        for name, path in aliases.items():
            self.prior.add(name, extra_aliases.read_aliases(Path(path)), extra_aliases.read_labels(Path(path)),
                           extra_aliases.read_links(Path(path)))  # fmt: skip
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
        """Every neighbour the index returns per text, best first (the threshold is applied per entity), after
        the concepts that have the text as a name: the HNSW search is approximate and now and then misses one
        (`jaw neoplasms`), and which it misses changes from one build to the next."""
        linker = self.linkers[name]
        names = self.names.get(name)
        if names is None:
            names = self.names[name] = lower_aliases(linker.kb)
        results = []
        for text, candidates in zip(texts, linker.candidate_generator(texts, linker.k), strict=True):
            exact = sorted(names.get(text, ()))
            ranked = [ConceptCandidate(name, i, linker.kb.cui_to_entity[i].canonical_name, 1.0) for i in exact]
            for candidate in candidates:
                if candidate.concept_id not in exact:
                    entity = linker.kb.cui_to_entity[candidate.concept_id]
                    score = float(max(candidate.similarities))
                    ranked.append(ConceptCandidate(name, candidate.concept_id, entity.canonical_name, score))
            results.append(ranked)
        return results

    def _suits(self, name: str, concept_id: str, label: str) -> bool:
        """Whether a concept's type suits an entity of `label` (see `_fitting`)."""
        types = self.types[name].get(concept_id, ())
        return not types or (types[0] == label and "NORMAL" not in types[1:])

    def _fitting(self, name: str, label: str, ranked: list[ConceptCandidate]) -> list[ConceptCandidate]:
        """The candidates whose type suits an entity of `label` (a FINDING is offered findings, not modifiers,
        anatomy or statements of normality; ontologies without types suit every label), over the threshold
        except the best one, at most `top_k`."""
        linker = self.linkers[name]
        kept: list[ConceptCandidate] = []
        for c in ranked:
            if not self._suits(name, c.concept_id, label):
                continue
            if kept and c.score <= linker.threshold:
                break
            kept.append(c)
            if len(kept) >= self.top_k:
                break
        return kept

    def _rank(
        self, c: ConceptCandidate, label: str, forms: tuple[list[str], list[str]], shares: dict[tuple[str, str], float]
    ) -> float:
        """The ranking score of a candidate of an entity no lexicon entry matched: the similarity, the label prior,
        how much of the mention's words one of the concept's names has, and the training links of its string."""
        entity = self.linkers[c.ontology].kb.cui_to_entity.get(c.concept_id)
        names = (entity.canonical_name, *entity.aliases) if entity is not None else (c.name,)
        looked_up, short = forms
        return (c.score + self.prior.label_score(c.ontology, c.concept_id, label)
                + COVER_WEIGHT * coverage(looked_up, names, short)
                + LINK_WEIGHT * shares.get((c.ontology, c.concept_id), 0.0))  # fmt: skip

    def _linked(self, ent: Span, shares: dict[tuple[str, str], float]) -> list[ConceptCandidate]:
        """The concepts the training split linked the entity's string to, as candidates scored by their share
        (those the index also finds keep their similarity: duplicates are dropped after ranking)."""
        found = []
        for (name, concept_id), share in shares.items():
            if name not in self.routes.get(ent.label_, []) or not self._suits(name, concept_id, ent.label_):
                continue
            entity = self.linkers[name].kb.cui_to_entity.get(concept_id) if name in self.linkers else None
            if entity is not None:
                found.append(ConceptCandidate(name, concept_id, entity.canonical_name, share))
        return found

    def _link_forms(self, ent: Span) -> list[str]:
        """The texts the string prior looks an entity up by: its long form, else its text (a short form is
        ambiguous across papers: `CM` is contrast media in one and cardiomyopathy in another), as written and
        in American spelling."""
        text = ent._.hilum_long_form or ent.text
        return [text, americanize(text)]

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
        found += [(part, CONJUNCT_WEIGHT, "mesh") for part in conjuncts(text)]
        if long_form and self.short_form_weight > 0:
            found.append((ent.text, self.short_form_weight, None))
            table_form = listed(ent.text)  # the document defines it otherwise than the table
            if table_form and table_form != long_form:
                found.append((table_form, self.short_form_weight, None))
        return found

    def link_spans(self, ents: list[Span]) -> None:
        """Set `hilum_long_form` and `hilum_concepts` on each span (any spans, e.g. gold mentions)."""
        queries: list[tuple[int, str, float, str | None]] = []  # (entity, text, weight, only this ontology)
        forms: list[tuple[list[str], list[str]]] = []  # (texts looked up, the short form among them)
        for i, ent in enumerate(ents):
            found = self.queries(ent)
            queries += [(i, *q) for q in found]
            short = [ent.text] if ent._.hilum_long_form else []
            forms.append(([text for text, _weight, _only in found if text not in short], short))
        merged: list[list[ConceptCandidate]] = [self._exact(ent) for ent in ents]
        for name in self.linkers:
            routed = [q for q in queries if name in self.routes.get(ents[q[0]].label_, []) and q[3] in (None, name)]
            if routed:
                ranked_all = self._query(name, [q[1] for q in routed])
                for (i, _text, weight, _only), ranked in zip(routed, ranked_all, strict=True):
                    fitting = self._fitting(name, ents[i].label_, ranked)
                    merged[i].extend(c._replace(score=c.score * weight) for c in fitting)
        scored = [self._scored(e, found, said) for e, found, said in zip(ents, merged, forms, strict=True)]
        named: dict[int, dict[str, set[tuple[str, str]]]] = {}  # document → entity text → its first concepts
        for ent, entity_scores in zip(ents, scored, strict=True):
            first = {(c.ontology, c.concept_id) for c in ordered(entity_scores)[:1]}
            named.setdefault(id(ent.doc), {}).setdefault(ent.text.lower(), set()).update(first)
        for ent, entity_scores in zip(ents, scored, strict=True):
            text = ent.text.lower()
            others = frozenset(c for other, firsts in named[id(ent.doc)].items() if other != text for c in firsts)
            ent._.hilum_concepts = ordered(entity_scores, others)[: self.top_k]

    def _scored(
        self, ent: Span, candidates: list[ConceptCandidate], said: tuple[list[str], list[str]]
    ) -> list[Scored]:
        """Each candidate with its ranking score and tie-breakers (see the module docstring), and whether the
        document's other mentions may add to its score (said: the texts looked up)."""
        order = {name: rank for rank, name in enumerate(self.routes.get(ent.label_, []))}
        trained = self.prior.exact([ent.text, ent._.hilum_long_form or ""])
        prior = not ent.kb_id_  # a lexicon match already names its concept: no corpus prior on top of it
        shares = self.prior.shares(self._link_forms(ent)) if prior else {}
        scored = []
        for c in [*candidates, *self._linked(ent, shares)]:
            concept = (c.ontology, c.concept_id)
            score = self._rank(c, ent.label_, said, shares) if prior else c.score
            ties = (concept not in trained, order.get(c.ontology, len(order)), c.concept_id, -c.score if prior else 0)
            scored.append((c, score, ties, prior))
        return scored

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
