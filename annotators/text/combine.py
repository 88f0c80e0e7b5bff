"""`hilum_entities`: the union of the entity sources into `doc.ents` (the rules: `annotators.text.ner`'s module
docstring), then what the document implies for itself (`annotators.text.consistency`).

No `from __future__ import annotations` here: spaCy validates a factory's signature with pydantic, which needs
the annotations evaluated."""

from spacy.language import Language
from spacy.tokens import Doc, Span

from annotators.text.consistency import agree_with_long_forms, consistent, reach_long_forms
from annotators.text.extensions import register
from annotators.text.ner import ANATOMY_KEY, LATERALITY_KEY, LEXICON_KEY, MEASUREMENT_KEY, NER_KEY, STEMS_KEY

SOURCE_RANKS = ((MEASUREMENT_KEY, 0), (LEXICON_KEY, 1), (NER_KEY, 2), (STEMS_KEY, 3))


class EntityCombiner:
    """Union of the model's, the lexicon's and the measurement spans into `doc.ents` (see the module docstring).

    Each source component set `hilum_source` on its own spans; an entity keeps it (same offsets, label, kb_id).
    """

    def __call__(self, doc: Doc) -> Doc:
        """Set `doc.ents` and each entity's `hilum_source`."""
        ranked: list[tuple[int, int, int, Span, str]] = []
        lexicon = {(s.start, s.end) for s in doc.spans.get(LEXICON_KEY, [])}
        sides = {i for s in doc.spans.get(LATERALITY_KEY, []) for i in range(s.start, s.end)}
        body = {i for s in doc.spans.get(ANATOMY_KEY, []) for i in range(s.start, s.end)}
        for key, rank in SOURCE_RANKS:
            for span in doc.spans.get(key, []):
                if key == NER_KEY and (_described_lexicon(span, sides, body, lexicon) or _only_anatomy(span, body)):
                    continue
                prefer = rank if not (key == NER_KEY and span.label_ == "CHEMICAL") else 0
                ranked.append((-(span.end - span.start), prefer, span.start, span, key))
        ranked.sort(key=lambda item: item[:3])
        taken: set[int] = set()
        chosen: list[tuple[Span, str]] = []
        for _length, _prefer, _start, span, key in ranked:
            if taken.isdisjoint(range(span.start, span.end)):
                taken.update(range(span.start, span.end))
                chosen.append((span, key))
        spans = [span for span, _key in chosen]
        if self.consistent:
            spans = agree_with_long_forms(doc, reach_long_forms(doc, spans))
            taken = {i for span in spans for i in range(span.start, span.end)}
            spans += consistent(doc, spans, taken)
        doc.ents = sorted(spans, key=lambda span: span.start)
        return doc

    def __init__(self, consistent: bool = True) -> None:
        self.consistent = consistent


_JOINERS = frozenset({"and", "or", ",", "/", "the", "of", "both"})


def _only_anatomy(span: Span, body: set[int]) -> bool:
    """Whether a model span is lexicon anatomy and joining words only (`heart and lungs`, `contours` of `hilar
    and mediastinal contours`): no finding, the anatomy entities stand instead."""
    return span.label_ == "FINDING" and all(token.i in body or token.lower_ in _JOINERS for token in span)


# Size, severity and acuity words that describe a finding rather than name it (`Small | pneumothorax`).
DESCRIBING_WORDS = frozenset(
    "small large tiny big huge massive minimal trace slight mild moderate marked severe acute".split()
)


def _described_lexicon(span: Span, sides: set[int], body: set[int], lexicon: set[tuple[int, int]]) -> bool:
    """Whether `span` is describing words followed by exactly a lexicon span: it starts with laterality or a
    `DESCRIBING_WORDS` word (`left | pleural effusion`, `Small left | pneumothorax`, `acute cardiopulmonary |
    abnormality`), or all words before the lexicon span are laterality or an anatomy abbreviation (`RUL |
    nodule`). The lexicon span is the entity; `hilum_modifiers` attaches the description to it. (Anatomy words
    in general stay: `breast cancer` is one finding.)"""
    doc = span.doc

    def describes(i: int) -> bool:
        return i in sides or doc[i].lower_ in DESCRIBING_WORDS or (i in body and doc[i].is_upper)

    for start in range(span.start + 1, span.end):
        if (start, span.end) in lexicon and (describes(span.start) or all(map(describes, range(span.start, start)))):
            return True
    return False


@Language.factory("hilum_entities", default_config={"consistent": True})
def make_entities(nlp: Language, name: str, consistent: bool) -> EntityCombiner:
    """Factory of the `hilum_entities` component."""
    register()
    return EntityCombiner(consistent)
