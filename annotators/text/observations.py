"""Findings stated as a property of an anatomy (`hilum_observations`): `The aorta is mildly tortuous`,
`Elevated right hemidiaphragm`, `elevation of the left hemidiaphragm`, `Borderline heart size`.

Radiologists often write a finding as a morphology modifier said of an anatomy rather than as a noun phrase the
lexicon lists. The lexicon records, per finding, which modifiers (`morphology`) said of which anatomy (`sites`)
state it (`ontologies.lexicon`). A modifier word the ontology matcher found (`doc.spans["hilum_modifier_words"]`)
that lies outside every entity becomes a FINDING entity — the modifier words only, so that the anatomy stays an
entity of its own and `hilum_modifiers` attaches it as the location — when an anatomy the lexicon matched (even
inside a longer entity: `thoracic aorta is tortuous and calcified`) in the same sentence lies within `window`
tokens of it, before or after, with only connecting words between (other modifiers,
laterality, `is`, `of the`, `size`, adverbs in -ly). The concept is the finding whose morphology and sites match,
else the finding with that morphology and no sites; neither, no entity. Adjacent modifier words that state the
same finding (`borderline enlarged`) make one entity.
"""

from spacy.language import Language
from spacy.tokens import Doc, Span

from annotators.text.extensions import register
from annotators.text.ner import ANATOMY_KEY, MODIFIER_KEY
from annotators.text.sections import sentence_ids

SOURCE = "hilum_observations@1"
CONNECTORS = frozenset(
    "is are was were be been not appears appear appeared remains remain remained again now still also both and or "
    "of the a in at with size sized contour contours silhouette somewhat slightly mild mildly minimally "
    "moderately markedly very overall otherwise stable grossly".split()
)


class ObservationAnnotator:
    """Adds FINDING entities for modifiers said of an anatomy (see the module docstring)."""

    def __init__(self, window: int = 4) -> None:
        from ontologies.lexicon import RadiologyLexiconLoader

        self.window = window
        self.specific: dict[tuple[str, str], str] = {}
        self.general: dict[str, str] = {}
        for finding, morphology, sites in RadiologyLexiconLoader().observations():
            for modifier in morphology:
                if not sites:
                    self.general.setdefault(modifier, finding)
                for site in sites:
                    self.specific.setdefault((modifier, site), finding)
        self.modifiers = {m for m, _s in self.specific} | set(self.general)

    def __call__(self, doc: Doc) -> Doc:
        """Add the observations to `doc.ents`."""
        words = [w for w in doc.spans.get(MODIFIER_KEY, []) if w.kb_id_ in self.modifiers]
        if not words:
            return doc
        taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        connecting = {i for w in doc.spans.get(MODIFIER_KEY, []) for i in range(w.start, w.end)}
        connecting |= {i for s in doc.spans.get("hilum_laterality", []) for i in range(s.start, s.end)}
        sentence = sentence_ids(doc)
        anatomy = list(doc.spans.get(ANATOMY_KEY, []))
        found: list[Span] = []
        for word in words:
            if not taken.isdisjoint(range(word.start, word.end)):
                continue
            site = self._site(doc, word, [a for a in anatomy if sentence[a.start] == sentence[word.start]], connecting)
            if site is None:
                continue
            finding = self.specific.get((word.kb_id_, site.kb_id_)) or self.general.get(word.kb_id_)
            if finding is None:
                continue
            if found and found[-1].end == word.start and found[-1].kb_id_ == finding:
                found[-1] = Span(doc, found[-1].start, word.end, label="FINDING", kb_id=finding)
            else:
                found.append(Span(doc, word.start, word.end, label="FINDING", kb_id=finding))
        for span in found:
            span._.hilum_source = SOURCE
        if found:
            doc.ents = sorted([*doc.ents, *found], key=lambda span: span.start)
        return doc

    def _site(self, doc: Doc, word: Span, anatomy: list[Span], connecting: set[int]) -> Span | None:
        """The nearest anatomy within the window with only connecting words between it and `word`."""
        best: tuple[int, Span] | None = None
        for candidate in anatomy:
            low, high = (word.end, candidate.start) if candidate.start >= word.end else (candidate.end, word.start)
            if high - low > self.window or high < low:
                continue
            if all(i in connecting or _connects(doc[i].lower_) for i in range(low, high)):
                if best is None or high - low < best[0]:
                    best = (high - low, candidate)
        return best[1] if best else None


def _connects(word: str) -> bool:
    return word in CONNECTORS or (len(word) > 4 and word.endswith("ly"))


@Language.factory("hilum_observations", default_config={"window": 4})
def make_observations(nlp: Language, name: str, window: int) -> ObservationAnnotator:
    """Factory of the `hilum_observations` component."""
    register()
    return ObservationAnnotator(window)
