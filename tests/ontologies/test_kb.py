"""Registry, user imports, knowledge-base builds and candidate generation, on tiny inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ontologies.concept import CorruptOntologyError, OntologyError, UnknownOntologyError
from ontologies.kb import build, load_candidate_generator, read_manifest, status
from ontologies.registry import BUILTIN_LOADERS, get_loader, loaders
from ontologies.user import import_ontology


def test_unknown_name_lists_valid_names(hilum_dirs: tuple[Path, Path]) -> None:
    with pytest.raises(UnknownOntologyError) as info:
        get_loader("snomed")
    assert all(name in str(info.value) for name in BUILTIN_LOADERS)


def test_import_registers_and_validates(hilum_dirs: tuple[Path, Path], fixtures: Path) -> None:
    info = import_ontology("obo", fixtures / "tiny.obo", "tiny")
    assert (info.name, info.version) == ("tiny", "tiny/2026-01-01")
    assert "tiny" in loaders()
    assert (hilum_dirs[1] / "tiny" / "tiny.obo").is_file()
    with pytest.raises(OntologyError, match="already imported"):
        import_ontology("obo", fixtures / "tiny.obo", "tiny")
    with pytest.raises(OntologyError, match="built-in"):
        import_ontology("obo", fixtures / "tiny.obo", "mesh", reserved=tuple(BUILTIN_LOADERS))
    with pytest.raises(OntologyError, match="invalid ontology name"):
        import_ontology("obo", fixtures / "tiny.obo", "Bad Name")
    with pytest.raises(CorruptOntologyError):
        import_ontology("obo", fixtures / "bad_quote.obo", "bad")
    assert not (hilum_dirs[1] / "bad").exists()


def test_umls_import_from_a_meta_folder(hilum_dirs: tuple[Path, Path], fixtures: Path, tmp_path: Path) -> None:
    meta = tmp_path / "META"
    meta.mkdir()
    for name in ("MRCONSO.RRF", "MRSTY.RRF"):
        shutil.copy(fixtures / name, meta / name)
    import_ontology("umls", meta, "umls-test", options={"languages": ["ENG"], "sources": []})
    concepts = {c.concept_id: c for c in get_loader("umls-test").concepts()}
    assert concepts["C9000002"].types == ("T037", "T033")


def test_build_is_cached_and_rebuilt_when_the_source_changes(hilum_dirs: tuple[Path, Path], fixtures: Path) -> None:
    import_ontology("obo", fixtures / "tiny.obo", "tiny")
    assert not status("tiny").built
    folder = build("tiny")
    first = read_manifest("tiny")
    assert first is not None and first["concept_count"] == 2
    lines = [json.loads(line) for line in (folder / "kb.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines[0]["canonical_name"] == "imaginary thoracic finding"
    assert build("tiny") == folder and read_manifest("tiny") == first  # reused, not rebuilt
    assert status("tiny").built and not status("tiny").stale

    source = hilum_dirs[1] / "tiny" / "tiny.obo"
    source.write_text(source.read_text(encoding="utf-8") + "\n[Term]\nid: TINY:9\nname: added term\n", encoding="utf-8")
    assert status("tiny").stale
    build("tiny")
    assert read_manifest("tiny")["concept_count"] == 3  # type: ignore[index]
    before = read_manifest("tiny")
    build("tiny", force=True)
    assert read_manifest("tiny")["built_at"] >= before["built_at"]  # type: ignore[index]


def test_candidates_come_back_best_first(hilum_dirs: tuple[Path, Path]) -> None:
    build("radiology")
    generator = load_candidate_generator("radiology")
    ranked = generator.rank(["pleural effusions", "PICC", "cardiomegally", "qqqq"], limit=5)
    assert ranked[0][0].concept_id == "RAD:pleural_effusion"
    assert ranked[1][0].concept_id == "RAD:peripherally_inserted_central_catheter"
    assert ranked[2][0].concept_id == "RAD:cardiomegaly"
    assert ranked[3] == []
    for candidates in ranked:
        scores = [c.score for c in candidates]
        assert scores == sorted(scores, reverse=True)
    raw = generator(["left lower lobe opacity"], 20)[0]
    similarities = [max(c.similarities) for c in raw]
    assert similarities == sorted(similarities, reverse=True)


def test_loading_an_unbuilt_ontology_fails_clearly(hilum_dirs: tuple[Path, Path]) -> None:
    with pytest.raises(OntologyError, match="not built"):
        load_candidate_generator("mesh")


def test_a_damaged_build_fails_clearly(hilum_dirs: tuple[Path, Path], fixtures: Path) -> None:
    import_ontology("obo", fixtures / "tiny.obo", "tiny")
    folder = build("tiny")
    (folder / "nmslib_index.bin").unlink()
    with pytest.raises(OntologyError, match="damaged"):
        load_candidate_generator("tiny")
    build("tiny")  # a missing file makes the cached build unusable, so it is rebuilt
    assert load_candidate_generator("tiny").rank(["phantom chest sign"])[0][0].concept_id == "TINY:0000001"
