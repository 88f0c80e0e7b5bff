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

First, a modifier word said of a FINDING entity (within `window` tokens, with only connecting words, anatomy and
laterality between) refines it when the lexicon names the narrower finding so (`Calcified right hilar granulomas`,
`granuloma is calcified` → calcified granuloma; `RadiologyLexiconLoader.refinements`): the entity takes the
narrower concept and, when no other entity lies between, the modifier's words; that modifier states nothing else.
A FINDING entity without a concept (the statistical model's) is taken as the finding whose lexicon name ends it
(`lingular granuloma` → granuloma).

Last, a line stated by its tip only (`chest catheter with tip projecting over the lower SVC`, where the device's
name is missing or misspelt): the word `tip` placed at a central vein (`CENTRAL_VEINS`: words of placement
between) in a sentence without a DEVICE entity becomes a DEVICE entity, an indwelling catheter.
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

TIP_WORDS = frozenset({"tip", "tips"})
CENTRAL_VEINS = frozenset({"RAD:superior_vena_cava", "RAD:cavoatrial_junction", "RAD:right_atrium",
                           "RAD:brachiocephalic_vein"})  # fmt: skip
TIP_DEVICE = "RAD:indwelling_catheter"
PLACEMENT = frozenset(
    "projecting projects projected overlying overlies overlie over near at in within into to terminating terminates "
    "ending ends extending extends level region junction of the low lower mid upper distal proximal".split()
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
        loader = RadiologyLexiconLoader()
        self.refined = loader.refinements()
        self.refining = {m for m, _f in self.refined}
        refinable = {f for _m, f in self.refined}
        self.finding_names = {
            name.lower(): concept.concept_id
            for concept in loader.concepts()
            if concept.concept_id in refinable
            for name in (concept.canonical_name, *concept.aliases)
        }

    def __call__(self, doc: Doc) -> Doc:
        """Refine findings by the modifiers said of them, then add the observations to `doc.ents`."""
        connecting = {i for w in doc.spans.get(MODIFIER_KEY, []) for i in range(w.start, w.end)}
        connecting |= {i for s in doc.spans.get("hilum_laterality", []) for i in range(s.start, s.end)}
        sentence = sentence_ids(doc)
        anatomy = list(doc.spans.get(ANATOMY_KEY, []))
        used = self._refine(doc, sentence, connecting | {i for a in anatomy for i in range(a.start, a.end)})
        words = [w for w in doc.spans.get(MODIFIER_KEY, []) if w.kb_id_ in self.modifiers and w.start not in used]
        taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        found: list[Span] = []
        for word in words:
            if not taken.isdisjoint(range(word.start, word.end)):
                continue
            near = [a for a in anatomy if sentence[a.start] == sentence[word.start]]
            sites = self._sites(doc, word, near, connecting)
            named = [self.specific.get((word.kb_id_, site.kb_id_)) or self.general.get(word.kb_id_) for site in sites]
            finding = next((f for f in named if f), None)
            if finding is None:
                continue
            if found and found[-1].end == word.start and found[-1].kb_id_ == finding:
                found[-1] = Span(doc, found[-1].start, word.end, label="FINDING", kb_id=finding)
            else:
                found.append(Span(doc, word.start, word.end, label="FINDING", kb_id=finding))
        found += self._tips(doc, sentence, anatomy, taken)
        for span in found:
            span._.hilum_source = SOURCE
        if found:
            doc.ents = sorted([*doc.ents, *found], key=lambda span: span.start)
        return doc

    def _refine(self, doc: Doc, sentence: list[int], connecting: set[int]) -> set[int]:
        """Give FINDING entities the narrower concept a modifier said of them names; the modifiers' first tokens."""
        words = [w for w in doc.spans.get(MODIFIER_KEY, []) if w.kb_id_ in self.refining]
        if not words:
            return set()
        ents = list(doc.ents)
        inside = {i for ent in ents for i in range(ent.start, ent.end)}
        used: set[int] = set()
        for word in words:
            if not inside.isdisjoint(range(word.start, word.end)):
                continue
            findings = [e for e in ents if e.label_ == "FINDING" and sentence[e.start] == sentence[word.start]]
            targets = self._sites(doc, word, findings, connecting)
            target = next((t for t in targets if (word.kb_id_, t.kb_id_ or self._named(t)) in self.refined), None)
            if target is None:
                continue
            concept = self.refined[(word.kb_id_, target.kb_id_ or self._named(target))]
            start, end = min(word.start, target.start), max(word.end, target.end)
            if any(e is not target and e.start < end and e.end > start for e in ents):
                start, end = target.start, target.end  # an entity between: the finding's own words only
            span = Span(doc, start, end, label="FINDING", kb_id=concept)
            span._.hilum_source = SOURCE
            ents[ents.index(target)] = span
            used.add(word.start)
        if used:
            doc.ents = ents
        return used

    def _tips(self, doc: Doc, sentence: list[int], anatomy: list[Span], taken: set[int]) -> list[Span]:
        """DEVICE entities for the word `tip` placed at a central vein (see the module docstring)."""
        veins = [a for a in anatomy if a.kb_id_ in CENTRAL_VEINS]
        if not veins:
            return []
        with_device = {sentence[e.start] for e in doc.ents if e.label_ == "DEVICE"}
        found = []
        for token in doc:
            if token.lower_ not in TIP_WORDS or token.i in taken or sentence[token.i] in with_device:
                continue
            for vein in veins:
                between = range(token.i + 1, vein.start)
                if 0 <= vein.start - token.i - 1 <= self.window and all(doc[i].lower_ in PLACEMENT for i in between):
                    found.append(Span(doc, token.i, token.i + 1, label="DEVICE", kb_id=TIP_DEVICE))
                    with_device.add(sentence[token.i])
                    break
        return found

    def _named(self, ent: Span) -> str:
        """The refinable finding whose lexicon name ends the entity's text (longest first), or ''."""
        for start in range(ent.start, ent.end):
            concept = self.finding_names.get(ent.doc[start : ent.end].text.lower())
            if concept:
                return concept
        return ""

    def _sites(self, doc: Doc, word: Span, candidates: list[Span], connecting: set[int]) -> list[Span]:
        """The spans of `candidates` within the window with only connecting words between them and `word`,
        nearest first; on a tie, the one after the word (`with tortuous calcified aorta`)."""
        found: list[tuple[int, bool, Span]] = []
        for candidate in candidates:
            low, high = (word.end, candidate.start) if candidate.start >= word.end else (candidate.end, word.start)
            if high - low > self.window or high < low:
                continue
            if all(i in connecting or _connects(doc[i].lower_) for i in range(low, high)):
                found.append((high - low, candidate.start < word.start, candidate))
        return [candidate for _gap, _before, candidate in sorted(found, key=lambda item: item[:2])]


def _connects(word: str) -> bool:
    return word in CONNECTORS or (len(word) > 4 and word.endswith("ly"))


@Language.factory("hilum_observations", default_config={"window": 4})
def make_observations(nlp: Language, name: str, window: int) -> ObservationAnnotator:
    """Factory of the `hilum_observations` component."""
    register()
    return ObservationAnnotator(window)
