from __future__ import annotations

import pytest

from ontologies.concept import Concept, CorruptOntologyError, UnknownOntologyError


def test_create_normalises_and_deduplicates() -> None:
    concept = Concept.create(
        " X1 ",
        "pleural  effusion",
        ["pleural effusion", "PE", " PE", "", "effusion"],
        ["FINDING", "FINDING"],
        "  fluid in the pleural space ",
    )
    assert concept == Concept("X1", "pleural effusion", ("PE", "effusion"), ("FINDING",), "fluid in the pleural space")


def test_json_round_trip_is_scispacy_entity_shaped() -> None:
    from scispacy.linking_utils import Entity

    concept = Concept.create("X1", "nodule", ["nodules"], ["FINDING"])
    record = concept.to_json()
    assert Entity(**record).canonical_name == "nodule"
    assert Concept.from_json(record) == concept


@pytest.mark.parametrize(
    "record",
    [
        {"concept_id": "", "canonical_name": "x"},
        {"concept_id": "X", "canonical_name": "   "},
        {"concept_id": "X", "canonical_name": "x", "aliases": [1]},
        {"concept_id": "X", "canonical_name": "x", "definition": 3},
        ["not", "a", "dict"],
    ],
)
def test_from_json_rejects_bad_records(record: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        Concept.from_json(record)  # type: ignore[arg-type]


def test_concepts_are_frozen() -> None:
    concept = Concept.create("X1", "nodule")
    with pytest.raises(AttributeError):
        concept.canonical_name = "mass"  # type: ignore[misc]


def test_error_messages() -> None:
    assert "valid names: a, b" in str(UnknownOntologyError("zz", ["b", "a"]))
    assert str(CorruptOntologyError("f.obo", "bad", 3)) == "corrupt ontology file f.obo, line 3: bad"
