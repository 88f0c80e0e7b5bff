from __future__ import annotations

import json
from pathlib import Path

import pytest

from ontologies.concept import Concept, CorruptOntologyError
from ontologies.lexicon import TYPES, RadiologyLexiconLoader, map_to_mesh, read_lexicon
from ontologies.packaged import MeshLoader


@pytest.fixture(scope="module")
def lexicon() -> dict[str, Concept]:
    return {c.concept_id: c for c in RadiologyLexiconLoader().concepts()}


def test_lexicon_is_substantial_and_typed(lexicon: dict[str, Concept]) -> None:
    assert len(lexicon) >= 400
    counts = {t: sum(1 for c in lexicon.values() if c.types[0] == t) for t in TYPES}
    assert all(count >= 40 for count in counts.values()), counts


@pytest.mark.parametrize(
    "concept_id, alias",
    [
        ("RAD:pleural_effusion", "pleural effusions"),
        ("RAD:right_lower_lobe", "RLL"),
        ("RAD:hilum", "hila"),
        ("RAD:peripherally_inserted_central_catheter", "PICC"),
        ("RAD:endotracheal_tube", "ETT"),
        ("RAD:pulmonary_nodule", "nodules"),
        ("RAD:atelectasis", "lung collapse"),
        ("RAD:chronic_obstructive_pulmonary_disease", "COPD"),
    ],
)
def test_synonyms_abbreviations_and_plurals(lexicon: dict[str, Concept], concept_id: str, alias: str) -> None:
    assert alias in lexicon[concept_id].aliases


@pytest.mark.parametrize(
    "concept_id, subtype", [("RAD:left", "LATERALITY"), ("RAD:mild", "SEVERITY"), ("RAD:small", "SIZE")]
)
def test_modifiers_have_subtypes(lexicon: dict[str, Concept], concept_id: str, subtype: str) -> None:
    assert lexicon[concept_id].types == ("MODIFIER", subtype)


def test_recorded_mesh_mapping_matches_the_mesh_loader() -> None:
    mesh = {c.concept_id: c.canonical_name for c in MeshLoader().concepts()}
    entries = read_lexicon()["concepts"]
    mapped = [e for e in entries if e["mesh"]]
    assert len(mapped) >= 200
    for entry in mapped:
        assert mesh[entry["mesh"]["id"]] == entry["mesh"]["name"], entry["id"]
    recomputed = json.loads(json.dumps(entries))
    map_to_mesh(recomputed, MeshLoader().concepts())
    assert [e["mesh"] for e in recomputed] == [e["mesh"] for e in entries], "run python -m ontologies.lexicon"
    assert RadiologyLexiconLoader().mesh_mapping()["RAD:pleural_effusion"] == "D010996"


def test_map_to_mesh_routes() -> None:
    mesh = [
        Concept.create("D1", "Hernia, Hiatal"),
        Concept.create("D2", "Ribs"),
        Concept.create("D3", "Lung"),
    ]
    entries = [
        {"id": "a", "name": "hiatal hernia", "types": ["FINDING"]},
        {"id": "b", "name": "rib", "types": ["ANATOMY"], "plurals": ["ribs"]},
        {"id": "c", "name": "pulmonary parenchyma", "types": ["ANATOMY"], "mesh_hint": "Lung"},
        {"id": "d", "name": "lung", "types": ["MODIFIER"]},
        {"id": "e", "name": "unknown thing", "types": ["FINDING"]},
    ]
    counts = map_to_mesh(entries, mesh)
    assert [e["mesh"] and (e["mesh"]["id"], e["mesh"]["via"]) for e in entries] == [
        ("D1", "name"),
        ("D2", "plural"),
        ("D3", "hint"),
        None,
        None,
    ]
    assert counts["unmapped"] == 1 and counts["not mappable"] == 1


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "unreadable JSON"),
        ('{"concepts": {}}', "'concepts' list"),
        ('{"concepts": [{"id": "a", "name": "x", "types": ["COLOUR"]}]}', "first type"),
        (
            '{"concepts": [{"id": "a", "name": "x", "types": ["FINDING"]}, {"id": "a", "name": "y", '
            '"types": ["FINDING"]}]}',
            "duplicate id",
        ),
        (
            '{"concepts": [{"id": "a", "name": "x", "types": ["FINDING"], "synonyms": "y"}]}',
            "list of strings",
        ),
    ],
)
def test_corrupt_lexicon(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "lexicon.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorruptOntologyError, match=message):
        list(RadiologyLexiconLoader(path).concepts())


def test_broader_concepts_are_transitive() -> None:
    broader = RadiologyLexiconLoader().broader()
    assert broader["RAD:pleural_plaque"] == ("RAD:pleural_thickening", "RAD:thickening")
    assert "RAD:indwelling_catheter" in broader["RAD:peripherally_inserted_central_catheter"]
    assert "RAD:pleural_effusion" not in broader


def test_refinements_are_read_from_names() -> None:
    refinements = RadiologyLexiconLoader().refinements()
    assert refinements[("RAD:calcified", "RAD:granuloma")] == "RAD:calcified_granuloma"
    assert ("RAD:calcified", "RAD:calcification") not in refinements


def test_refinements_of_a_small_lexicon(tmp_path: Path) -> None:
    entries = [
        {"id": "RAD:nodule", "name": "nodule", "types": ["FINDING"]},
        {"id": "RAD:spiculated", "name": "spiculated", "types": ["MODIFIER", "DESCRIPTOR"]},
        {"id": "RAD:spiculated_nodule", "name": "spiculated nodule", "types": ["FINDING"], "broader": ["RAD:nodule"]},
        {"id": "RAD:lung_nodule", "name": "lung nodule", "types": ["FINDING"], "broader": ["RAD:nodule"]},
    ]
    path = tmp_path / "lexicon.json"
    path.write_text(json.dumps({"concepts": entries}), encoding="utf-8")
    assert RadiologyLexiconLoader(path).refinements() == {("RAD:spiculated", "RAD:nodule"): "RAD:spiculated_nodule"}


def test_observations_name_modifiers_and_anatomy() -> None:
    loader = RadiologyLexiconLoader()
    observations = {finding: (morphology, sites) for finding, morphology, sites in loader.observations()}
    assert observations["RAD:tortuous_aorta"][0] == ("RAD:tortuous",)
    assert "RAD:aorta" in observations["RAD:tortuous_aorta"][1]
    assert observations["RAD:calcification"] == (("RAD:calcified",), ())


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"id": "b", "name": "y", "types": ["FINDING"], "broader": ["RAD:nothing"]}, "broader"),
        ({"id": "b", "name": "y", "types": ["FINDING"], "morphology": ["a"]}, "morphology"),
        ({"id": "b", "name": "y", "types": ["FINDING"], "sites": ["a"], "morphology": []}, "sites"),
        ({"id": "b", "name": "y", "types": ["ANATOMY"], "morphology": ["m"]}, "only findings"),
    ],
)
def test_bad_relations_are_rejected(tmp_path: Path, entry: dict[str, object], message: str) -> None:
    concepts = [
        {"id": "a", "name": "x", "types": ["FINDING"]},
        {"id": "m", "name": "tortuous", "types": ["MODIFIER", "DESCRIPTOR"]},
        entry,
    ]
    path = tmp_path / "lexicon.json"
    path.write_text(json.dumps({"concepts": concepts}), encoding="utf-8")
    with pytest.raises(CorruptOntologyError, match=message):
        read_lexicon(path)
