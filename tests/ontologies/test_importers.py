from __future__ import annotations

from pathlib import Path

import pytest

from ontologies.concept import Concept, CorruptOntologyError
from ontologies.obo import parse_obo, read_obo_version
from ontologies.owl import curie, parse_owl, read_owl_version
from ontologies.umls import parse_mrconso, read_semantic_types


def by_id(concepts: list[Concept]) -> dict[str, Concept]:
    return {concept.concept_id: concept for concept in concepts}


def test_umls_english_default_with_semantic_types(fixtures: Path) -> None:
    types = read_semantic_types(fixtures / "MRSTY.RRF")
    concepts = by_id(list(parse_mrconso(fixtures / "MRCONSO.RRF", semantic_types=types)))
    assert set(concepts) == {"C9000001", "C9000002"}  # C9000003 has French strings only
    glimmer = concepts["C9000001"]
    assert glimmer.canonical_name == "Glimmer lung"
    assert glimmer.aliases == ("Glimmering of the lung", "Lung glimmer")  # suppressed 'O' row left out
    assert glimmer.types == ("T047",)
    rib = concepts["C9000002"]
    assert rib.canonical_name == "Rib frobnication"  # the preferred row, though not first
    assert rib.types == ("T037", "T033")


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"sources": ["TESTSAB"]}, {"C9000001": ("Glimmer lung", ("Glimmering of the lung",))}),
        (
            {"languages": ["FRE"]},
            {"C9000001": ("Poumon scintillant", ()), "C9000003": ("Seulement en francais", ())},
        ),
        (
            {"sources": ["TESTSAB"], "include_suppressed": True},
            {"C9000001": ("Glimmer lung", ("Glimmering of the lung", "Old glimmer name"))},
        ),
    ],
)
def test_umls_filters(fixtures: Path, options: dict, expected: dict) -> None:
    concepts = by_id(list(parse_mrconso(fixtures / "MRCONSO.RRF", **options)))
    assert {cid: (c.canonical_name, c.aliases) for cid, c in concepts.items()} == expected


def test_obo_terms_synonyms_and_obsolete(fixtures: Path) -> None:
    concepts = by_id(list(parse_obo(fixtures / "tiny.obo")))
    assert set(concepts) == {"TINY:0000001", "TINY:0000002"}
    finding = concepts["TINY:0000001"]
    assert finding.canonical_name == "imaginary thoracic finding"
    assert finding.aliases == ("phantom chest sign", "ghost shadow")  # BROAD left out by default
    assert finding.types == ("tiny_findings",)
    assert finding.definition == 'A made-up "finding" used only in tests.'
    assert read_obo_version(fixtures / "tiny.obo") == "tiny/2026-01-01"


def test_owl_classes_labels_and_synonyms(fixtures: Path) -> None:
    concepts = by_id(list(parse_owl(fixtures / "tiny.owl")))
    assert set(concepts) == {
        "TINY:0000010",
        "http://example.org/tiny#Widget",
        "http://example.org/tiny#Gizmo",
    }
    sign = concepts["TINY:0000010"]
    assert sign.canonical_name == "imaginary hilar sign"  # the German label is ignored
    assert sign.aliases == ("pretend hilum sign", "fake hilar marker")
    assert sign.definition == "An invented sign for tests."
    widget = concepts["http://example.org/tiny#Widget"]
    assert (widget.canonical_name, widget.aliases) == ("test widget", ("widget label", "gadget"))
    assert read_owl_version(fixtures / "tiny.owl") == "2026-02-02"


def test_curie() -> None:
    assert curie("http://purl.obolibrary.org/obo/HP_0002202") == "HP:0002202"
    assert curie("http://example.org/x#y") == "http://example.org/x#y"


@pytest.mark.parametrize(
    "parser, name, message",
    [
        (parse_mrconso, "MRCONSO_unsorted.RRF", "not sorted by CUI"),
        (parse_mrconso, "MRCONSO_short.RRF", "line 2"),
        (parse_mrconso, "MRSTY.RRF", "not an MRCONSO.RRF row"),
        (parse_obo, "bad_quote.obo", "expected a quoted string"),
        (parse_obo, "no_terms.obo", r"no \[Term\] stanzas"),
        (parse_obo, "no_id.obo", "without an id"),
        (parse_obo, "tiny.owl", "expected 'tag: value'"),
        (parse_owl, "bad.owl", "not well-formed"),
        (parse_owl, "not_rdf.owl", "not rdf:RDF"),
        (parse_owl, "tiny.obo", "not well-formed"),
    ],
)
def test_corrupt_files_raise_clear_errors(fixtures: Path, parser, name: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(CorruptOntologyError, match=message):
        list(parser(fixtures / name))


@pytest.mark.parametrize("parser", [parse_mrconso, parse_obo, parse_owl, read_semantic_types])
@pytest.mark.parametrize("content", [b"\x00\xff\xfe garbage \x80\x81" * 50, b""])
def test_binary_garbage_and_empty_files(tmp_path: Path, parser, content: bytes) -> None:  # noqa: ANN001
    path = tmp_path / "garbage"
    path.write_bytes(content)
    if parser is read_semantic_types and not content:
        assert parser(path) == {}
        return
    with pytest.raises(CorruptOntologyError):
        result = parser(path)
        if not isinstance(result, dict):
            list(result)
