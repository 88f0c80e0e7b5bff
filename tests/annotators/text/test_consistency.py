"""Short forms agree with their long forms, and entities repeat across a document (`annotators.text.consistency`),
table-driven over tiny hand-made documents."""

from __future__ import annotations

from typing import Any

import pytest
import spacy
from spacy.tokens import Doc, Span

from annotators.text.consistency import agree_with_long_forms, consistent, reach_long_forms
from annotators.text.extensions import register

MODEL, LEXICON = "hilum_ner@test", "hilum_ontology_matcher@test"


@pytest.fixture(scope="module")
def nlp() -> Any:
    register()
    if not Doc.has_extension("abbreviations"):
        Doc.set_extension("abbreviations", default=[])
    if not Span.has_extension("long_form"):
        Span.set_extension("long_form", default=None)
    return spacy.blank("en")


def make(nlp: Any, text: str, abbreviations: list[tuple[str, str]], ents: list[tuple[str, str, str]]) -> Any:
    """A doc whose abbreviations are (short form, long form) and entities (text, label, source); each is found at
    its every occurrence (short forms) or first occurrence (long forms, entities)."""
    doc = nlp(text)
    found = []
    for short, long_text in abbreviations:
        start = text.index(long_text)
        long_form = doc.char_span(start, start + len(long_text))
        at = text.find(short)
        while at >= 0:
            span = doc.char_span(at, at + len(short))
            if span is not None:
                span._.long_form = long_form
                found.append(span)
            at = text.find(short, at + 1)
    doc._.abbreviations = found
    spans = []
    for item, label, source in ents:
        start = text.index(item)
        span = doc.char_span(start, start + len(item), label=label)
        span._.hilum_source = source
        spans.append(span)
    return doc, spans


AGREE_CASES = [
    # the model's FINDING on a short form of a chemical becomes a CHEMICAL
    ("Cyclophosphamide ( CP ) was given .", [("CP", "Cyclophosphamide")],
     [("Cyclophosphamide", "CHEMICAL", MODEL), ("CP", "FINDING", MODEL)],
     [("Cyclophosphamide", "CHEMICAL"), ("CP", "CHEMICAL")]),
    # a lexicon abbreviation takes the label of the document's own long form
    ("Huntington disease ( HD ) is rare .", [("HD", "Huntington disease")],
     [("Huntington disease", "FINDING", MODEL), ("HD", "PROCEDURE", LEXICON)],
     [("Huntington disease", "FINDING"), ("HD", "FINDING")]),
    # the long form is no entity: the lexicon's match goes; so does the model's FINDING when no entity
    # touches the long form (`OCT` of `optical coherence tomography`); its CHEMICAL stays (a drug's long form
    # is often a name no source reads: `glyceryl trinitrate ( GTN )`), and so does a FINDING whose long form
    # holds part of an entity
    ("heteroduplex ( HD ) analysis", [("HD", "heteroduplex")], [("HD", "PROCEDURE", LEXICON)], []),
    ("wild type ( WT ) mice", [("WT", "wild type")], [("WT", "FINDING", MODEL)], []),
    ("glyceryl trinitrate ( GTN ) spray", [("GTN", "glyceryl trinitrate")], [("GTN", "CHEMICAL", MODEL)],
     [("GTN", "CHEMICAL")]),
    ("acute renal injury ( ARI ) .", [("ARI", "acute renal injury")],
     [("renal", "ANATOMY", LEXICON), ("ARI", "FINDING", MODEL)], [("renal", "ANATOMY"), ("ARI", "FINDING")]),
    # the long form ends inside an entity: that entity's label
    ("contrast induced nephropathy ( CIN ) .", [("CIN", "contrast induced nephropathy")],
     [("contrast induced nephropathy", "FINDING", MODEL), ("CIN", "CHEMICAL", MODEL)],
     [("contrast induced nephropathy", "FINDING"), ("CIN", "FINDING")]),
    # no abbreviations: nothing changes
    ("aspirin and fever", [], [("aspirin", "CHEMICAL", MODEL), ("fever", "FINDING", LEXICON)],
     [("aspirin", "CHEMICAL"), ("fever", "FINDING")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "abbreviations", "ents", "expected"), AGREE_CASES)
def test_short_forms_agree_with_long_forms(nlp: Any, text: str, abbreviations: list, ents: list,
                                           expected: list) -> None:  # fmt: skip
    doc, spans = make(nlp, text, abbreviations, ents)
    assert [(s.text, s.label_) for s in agree_with_long_forms(doc, spans)] == expected


REPEAT_CASES = [
    (
        "Aspirin ( ASA ) helps ; ASA and aspirin again",
        [("ASA", "Aspirin")],
        [("Aspirin", "CHEMICAL", MODEL)],
        [("ASA", "CHEMICAL"), ("ASA", "CHEMICAL"), ("aspirin", "CHEMICAL")],
    ),
    ("fever then fever", [], [("fever", "FINDING", MODEL)], [("fever", "FINDING")]),
    ("digoxin helps . Digoxin again", [], [("digoxin", "CHEMICAL", MODEL)], [("Digoxin", "CHEMICAL")]),
    ("IgE and ige", [], [("IgE", "FINDING", MODEL)], []),  # case changes only for a capitalised word
    ("flu or Flu", [], [("flu", "FINDING", MODEL)], []),  # and only for words of four letters or more
    ("fever then fever", [], [("fever", "FINDING", LEXICON)], []),  # only the model's entities repeat
    # a long form that ends in an entity: its short forms are that entity (`RIHA` is a FINDING) ...
    ("ribavirin-induced hemolytic anemia ( RIHA ) ; RIHA costs", [("RIHA", "ribavirin-induced hemolytic anemia")],
     [("ribavirin", "CHEMICAL", MODEL), ("hemolytic anemia", "FINDING", MODEL)],
     [("RIHA", "FINDING"), ("RIHA", "FINDING")]),
    # ... unless the long form names something by its relation to that entity (a gene)
    ("deleted in colorectal cancer ( DCC ) gene", [("DCC", "deleted in colorectal cancer")],
     [("colorectal cancer", "FINDING", MODEL)], []),
]


@pytest.mark.parametrize(("text", "abbreviations", "ents", "expected"), REPEAT_CASES)
def test_repetition(nlp: Any, text: str, abbreviations: list, ents: list, expected: list) -> None:
    doc, spans = make(nlp, text, abbreviations, ents)
    taken = {i for s in spans for i in range(s.start, s.end)}
    added = consistent(doc, spans, taken)
    assert [(s.text, s.label_) for s in added] == expected
    assert all(s._.hilum_source == spans[0]._.hilum_source for s in added)


REACH_CASES = [
    # an entity that ends a long form starts where it does: the abbreviation's letters vouch for it
    ("middle cerebral artery occlusion ( MCAO ) .", [("MCAO", "middle cerebral artery occlusion")],
     [("cerebral artery occlusion", "FINDING", MODEL)], [("middle cerebral artery occlusion", "FINDING")]),
    # not over another entity, a relation word, or a bracket the detector's long form ran past
    ("ribavirin-induced hemolytic anemia ( RIHA )", [("RIHA", "ribavirin-induced hemolytic anemia")],
     [("ribavirin", "CHEMICAL", MODEL), ("hemolytic anemia", "FINDING", MODEL)],
     [("ribavirin", "CHEMICAL"), ("hemolytic anemia", "FINDING")]),
    ("deleted in colorectal cancer ( DCC )", [("DCC", "deleted in colorectal cancer")],
     [("colorectal cancer", "FINDING", MODEL)], [("colorectal cancer", "FINDING")]),
    ("Group PS , LS ) or rocuronium ( GPR )", [("GPR", "Group PS , LS ) or rocuronium")],
     [("rocuronium", "CHEMICAL", MODEL)], [("rocuronium", "CHEMICAL")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "abbreviations", "ents", "expected"), REACH_CASES)
def test_entities_reach_their_long_forms(nlp: Any, text: str, abbreviations: list, ents: list,
                                         expected: list) -> None:  # fmt: skip
    doc, spans = make(nlp, text, abbreviations, ents)
    reached = reach_long_forms(doc, spans)
    assert [(s.text, s.label_) for s in reached] == expected
    assert [s._.hilum_source for s in reached] == [s._.hilum_source for s in spans]
