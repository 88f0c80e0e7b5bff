"""What a document implies for its own entities (`hilum_entities`' last step).

- Short forms follow their long forms: a short form of an abbreviation the document defines (`doc._.
  abbreviations`) takes the label of the entity its long form is (or ends in) — `Cyclophosphamide (CP)` makes
  every CP a CHEMICAL even where a source said otherwise, and `Huntington disease (HD)` overrides the lexicon's
  `HD` (hemodialysis). Where the long form is no entity (`heteroduplex (HD)`), a lexicon or drug-stem match of
  the short form is dropped (the document gave it another meaning); so is the model's FINDING when no entity
  touches the long form (`optical coherence tomography (OCT)`); its CHEMICAL stays (drug long forms are often
  names no source reads: `glyceryl trinitrate (GTN)`).
- Long forms: an entity that ends a long form but starts inside it starts where the long form does (`middle
  cerebral artery occlusion (MCAO)`), unless the words it would take hold an entity or a relation word.
- Repetition: every short form of an abbreviation whose long form is (or ends in) an entity, and every other
  occurrence of a model entity's exact text (or, for a lower-case word, that text capitalised and the reverse),
  becomes an entity where no other entity is. A long form that names something by its relation to the entity
  it ends in (`deleted in colorectal cancer (DCC)`, a gene) passes nothing on.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span

MODEL_PREFIX = "hilum_ner@"


def _from_model(span: Span) -> bool:
    return bool(span._.hilum_source) and span._.hilum_source.startswith(MODEL_PREFIX)


def _long_form_entity(long_form: Span, spans: list[Span], short: Span) -> Span | None:
    """The entity a long form is, else the one holding its last token (not the short form itself)."""
    last = long_form.end - 1
    holder = None
    for span in spans:
        if span.start == short.start and span.end == short.end:
            continue
        if span.start == long_form.start and span.end == long_form.end:
            return span
        if span.start <= last < span.end and long_form.start <= span.start:
            holder = span
    return holder


# Words that make a long form name something by its relation to the entity it ends in (`deleted in colorectal
# cancer (DCC)` is a gene), not that entity with modifiers (`ribavirin-induced hemolytic anemia (RIHA)`).
RELATIONS = frozenset("in of for with by on to from at against".split())


def _names_by_relation(long_form: Span, entity: Span) -> bool:
    return any(token.lower_ in RELATIONS for token in long_form.doc[long_form.start: entity.start])


def _touches(long_form: Span, spans: list[Span]) -> bool:
    return any(span.start < long_form.end and long_form.start < span.end for span in spans)


def _plain_words(tokens: Span) -> bool:
    """No bracket, clause punctuation or coordination (a detector's long form can run past one)."""
    return not any(t.is_bracket or t.text in {";", ":", "."} or t.lower_ in {"and", "or"} for t in tokens)


def _copy(doc: Doc, start: int, end: int, source: Span) -> Span:
    span = Span(doc, start, end, label=source.label_, kb_id=source.kb_id_)
    span._.hilum_source = source._.hilum_source
    return span


def agree_with_long_forms(doc: Doc, spans: list[Span]) -> list[Span]:
    """`spans` with each short-form entity made to agree with its long form (see the module docstring)."""
    defined = {}
    for short in getattr(doc._, "abbreviations", None) or []:
        if short._.long_form is not None:
            defined[(short.start, short.end)] = short
    if not defined:
        return spans
    result = []
    for span in spans:
        short = defined.get((span.start, span.end))
        if short is None or span.label_ == "MEASUREMENT":
            result.append(span)
            continue
        source = _long_form_entity(short._.long_form, spans, span)
        if source is None:
            if _from_model(span) and (span.label_ == "CHEMICAL" or _touches(short._.long_form, spans)):
                result.append(span)  # the model read the context; a lexicon abbreviation did not
            continue
        if source.label_ == "MEASUREMENT" or source.label_ == span.label_:
            result.append(span)
        else:
            result.append(_copy(doc, span.start, span.end, source))
    return result


def reach_long_forms(doc: Doc, spans: list[Span]) -> list[Span]:
    """`spans` with an entity that ends a defined long form but starts inside it made to start where the long
    form does (`middle [cerebral artery occlusion] (MCAO)`), when the words it leaves out hold no other entity
    and no relation word (`ribavirin-induced [hemolytic anemia] (RIHA)` keeps its extent: `ribavirin` is an
    entity of its own). The abbreviation's letters vouch for the long form's start."""
    long_forms = {}
    for short in getattr(doc._, "abbreviations", None) or []:
        if short._.long_form is not None:
            long_forms[short._.long_form.end] = short._.long_form
    if not long_forms:
        return spans
    result = []
    for span in spans:
        long_form = long_forms.get(span.end)
        if (long_form is not None and long_form.start < span.start and span.label_ != "MEASUREMENT"
                and not _names_by_relation(long_form, span) and _plain_words(doc[long_form.start: span.start])
                and not any(o.start < span.start and long_form.start < o.end for o in spans if o is not span)):
            span = _copy(doc, long_form.start, span.end, span)
        result.append(span)
    return result


def consistent(doc: Doc, spans: list[Span], taken: set[int]) -> list[Span]:
    """Entities a document implies for itself: the short forms of an abbreviation whose long form is (or
    ends in) an entity (`nimodipine (NIMO)` → every NIMO), and the other occurrences of a model entity's text (exact, or
    with its first letter's case changed: `Digoxin` / `digoxin`)."""
    wanted: list[tuple[int, int, Span]] = []
    for short in getattr(doc._, "abbreviations", None) or []:
        long_form = short._.long_form
        source = _long_form_entity(long_form, spans, short) if long_form is not None else None
        if source is not None and source.label_ != "MEASUREMENT" and not _names_by_relation(long_form, source):
            wanted.append((short.start, short.end, source))
    texts: dict[str, Span] = {}
    for span in spans:
        if _from_model(span) and len(span.text) >= 3:
            texts.setdefault(span.text, span)
    for text, span in list(texts.items()):
        if len(text) >= 4 and text[0].isalpha() and text[1:].islower():  # `Digoxin` at a sentence start
            texts.setdefault(text[0].swapcase() + text[1:], span)
    whole = doc.text
    for text, source in texts.items():
        start = whole.find(text)
        while start >= 0:
            found = doc.char_span(start, start + len(text))
            if found is not None:
                wanted.append((found.start, found.end, source))
            start = whole.find(text, start + 1)
    added = []
    for start, end, source in sorted(wanted, key=lambda w: (w[0], -w[1])):
        if taken.isdisjoint(range(start, end)):
            taken.update(range(start, end))
            added.append(_copy(doc, start, end, source))
    return added
