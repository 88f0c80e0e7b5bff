"""Loaders of registry-package data: counts and spot concepts (the data is real: loose checks)."""

from __future__ import annotations

import pytest

from ontologies.concept import Concept
from ontologies.packaged import DiseaseOntologyLoader, HpoLoader, Icd10CmLoader, MeshLoader


@pytest.fixture(scope="module")
def loaded() -> dict[str, dict[str, Concept]]:
    loaders = {
        "icd10cm": Icd10CmLoader(),
        "hpo": HpoLoader(),
        "mesh": MeshLoader(),
        "doid": DiseaseOntologyLoader(),
    }
    return {name: {c.concept_id: c for c in loader.concepts()} for name, loader in loaders.items()}


@pytest.mark.parametrize(
    "name, minimum, maximum",
    [
        ("icd10cm", 95_000, 100_000),
        ("hpo", 18_000, 25_000),
        ("mesh", 30_532, 30_532),
        ("doid", 10_000, 14_000),
    ],
)
def test_concept_counts(loaded: dict[str, dict[str, Concept]], name: str, minimum: int, maximum: int) -> None:
    assert minimum <= len(loaded[name]) <= maximum


@pytest.mark.parametrize(
    "name, concept_id, canonical_name",
    [
        ("icd10cm", "J90", "Pleural effusion, not elsewhere classified"),
        ("icd10cm", "J93.9", "Pneumothorax, unspecified"),
        ("hpo", "HP:0002202", "Pleural effusion"),
        ("mesh", "D010996", "Pleural Effusion"),
        ("mesh", "D006332", "Cardiomegaly"),
        ("doid", "DOID:9477", "pulmonary embolism"),
    ],
)
def test_spot_concepts(loaded: dict[str, dict[str, Concept]], name: str, concept_id: str, canonical_name: str) -> None:
    assert loaded[name][concept_id].canonical_name == canonical_name


def test_icd_inclusion_terms_are_aliases(loaded: dict[str, dict[str, Concept]]) -> None:
    assert "Pleural effusion NOS" in loaded["icd10cm"]["J90"].aliases


def test_obsolete_terms_are_left_out(loaded: dict[str, dict[str, Concept]]) -> None:
    for name in ("hpo", "doid"):
        assert not any(c.canonical_name.startswith("obsolete ") for c in loaded[name].values())


@pytest.mark.parametrize("loader", [Icd10CmLoader, HpoLoader, MeshLoader, DiseaseOntologyLoader])
def test_descriptions_carry_version_and_licence(loader: type) -> None:
    instance = loader()
    info = instance.describe()
    assert info.name == instance.name and info.version and info.licence and info.source
    assert len(instance.fingerprint()) == 64


def test_doid_refuses_pickles_that_name_classes(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import pickle

    from ontologies.concept import CorruptOntologyError

    evil = tmp_path / "DO.pkl"
    evil.write_bytes(pickle.dumps({"terms": {"x": "1"}, "obj": pytest.MonkeyPatch}))
    monkeypatch.setattr(DiseaseOntologyLoader, "_path", lambda self: evil)
    with pytest.raises(CorruptOntologyError, match="refusing"):
        list(DiseaseOntologyLoader().concepts())
