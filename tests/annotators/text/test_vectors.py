"""Static vectors for the NER model come from the installed en_core_web_md package, not from a copy in the
shipped model (`annotators.text.vectors`), and the training configuration switches them on by setting."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from thinc.api import Config

from annotators.text.training_config import DEFAULT_SETTINGS, training_config
from annotators.text.vectors import VECTOR_FILES, load_static_vectors, static_vectors_path, strip_static_vectors


@pytest.mark.parametrize(("settings", "include", "before_init"), [
    ({}, False, None),
    ({"static_vectors": 0}, False, None),
    ({"static_vectors": 1}, True, {"@callbacks": "hilum.static_vectors.v1"}),
])  # fmt: skip
def test_training_config_switches_static_vectors(settings: dict, include: bool, before_init: object) -> None:
    config = Config().from_str(training_config(**settings))
    assert config["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"] is include
    assert config["initialize"]["before_init"] == before_init
    assert config["initialize"]["vectors"] is None  # never a copy of another pipeline's strings


def test_training_config_rejects_unknown_settings() -> None:
    with pytest.raises(ValueError, match="unknown training settings: colour"):
        training_config(colour=1)
    assert "learn_rate" in DEFAULT_SETTINGS


def test_vectors_load_from_the_installed_package() -> None:
    assert (static_vectors_path() / "vocab" / "vectors").is_file()
    nlp = spacy.blank("en")
    strings_before = len(nlp.vocab.strings)
    load_static_vectors(nlp.vocab)
    assert len(nlp.vocab.strings) == strings_before  # the vectors' strings are not loaded
    assert nlp.vocab.vectors.shape[1] == 300
    assert nlp.vocab["aspirin"].has_vector and not nlp.vocab["qqxzvw"].has_vector
    rows = nlp.vocab.vectors.shape[0]
    load_static_vectors(nlp.vocab)  # a vocabulary with vectors is left alone
    assert nlp.vocab.vectors.shape[0] == rows


def _fake_model(folder: Path, include: bool) -> Path:
    (folder / "vocab").mkdir(parents=True)
    config = Config().from_str(training_config(static_vectors=int(include)))
    config.to_disk(folder / "config.cfg")
    for name in (*VECTOR_FILES, "strings.json", "vectors.cfg"):
        (folder / "vocab" / name).write_bytes(b"x" * 10)
    return folder


@pytest.mark.parametrize(("include", "saved", "left"), [
    (True, 10 * len(VECTOR_FILES), ["strings.json", "vectors.cfg"]),
    (False, 0, sorted([*VECTOR_FILES, "strings.json", "vectors.cfg"])),
])  # fmt: skip
def test_strip_static_vectors(tmp_path: Path, include: bool, saved: int, left: list[str]) -> None:
    folder = _fake_model(tmp_path / "model", include)
    assert strip_static_vectors(folder) == saved
    assert sorted(p.name for p in (folder / "vocab").iterdir()) == left
