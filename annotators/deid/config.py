"""Load and validate the de-identification configuration (TOML). A bad file raises `DeidConfigError`.

There is no fallback: a typo that quietly changes what is detected is the worst failure a de-identifier can
have, so every key is checked and unknown keys are errors.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

LABELS = frozenset(
    {
        "NAME", "DATE", "AGE", "PHONE", "ID", "SSN", "EMAIL", "URL", "IP_ADDRESS", "ADDRESS", "LOCATION",
        "ZIP", "INSTITUTION", "DEVICE_ID", "LICENSE",
    }
)  # fmt: skip

_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "engine": {"language": str, "spacy_model": str, "spacy_disable": list, "score_threshold": (int, float)},
    "lexicon": {"name_locales": list, "common_word_rank": int, "min_city_population": int},
    "recognizers": {"hilum": list, "presidio": list, "spacy_entities": dict},
}


class DeidConfigError(ValueError):
    """The de-identification configuration file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class DeidConfig:
    """The validated configuration: engine, lexicon sources, recognizer names and label mapping."""

    language: str
    spacy_model: str
    spacy_disable: tuple[str, ...]
    score_threshold: float
    name_locales: tuple[str, ...]
    common_word_rank: int
    min_city_population: int
    hilum_recognizers: tuple[str, ...]
    presidio_recognizers: tuple[str, ...]
    spacy_entities: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str], ...]
    source: str

    def label_for(self, entity: str) -> str:
        """The Hilum label for a Presidio entity type (Hilum recognizers already emit Hilum labels)."""
        return dict(self.labels).get(entity, entity)


def default_config_path() -> Path:
    """The configuration shipped with the package (`annotators/deid/deid.toml`)."""
    return Path(str(resources.files("annotators.deid").joinpath("deid.toml")))


def _check_section(data: dict[str, Any], section: str) -> dict[str, Any]:
    body = data.get(section)
    if not isinstance(body, dict):
        raise DeidConfigError(f"missing table [{section}]")
    schema = _SCHEMA[section]
    unknown = sorted(set(body) - set(schema))
    if unknown:
        raise DeidConfigError(f"unknown key(s) in [{section}]: {', '.join(unknown)}")
    for key, kind in schema.items():
        if key not in body:
            raise DeidConfigError(f"missing key '{key}' in [{section}]")
        if not isinstance(body[key], kind) or isinstance(body[key], bool):
            raise DeidConfigError(f"[{section}] {key} has the wrong type ({type(body[key]).__name__})")
    return body


def _strings(section: str, key: str, values: list[Any]) -> tuple[str, ...]:
    if not all(isinstance(v, str) and v for v in values):
        raise DeidConfigError(f"[{section}] {key} must be a list of non-empty strings")
    return tuple(values)


def parse_config(data: dict[str, Any], source: str = "<memory>") -> DeidConfig:
    """Validate a parsed TOML mapping and return a `DeidConfig` (recognizer names are checked at build)."""
    unknown = sorted(set(data) - {"engine", "lexicon", "recognizers", "labels"})
    if unknown:
        raise DeidConfigError(f"unknown table(s): {', '.join(unknown)}")
    engine = _check_section(data, "engine")
    lexicon = _check_section(data, "lexicon")
    recognizers = _check_section(data, "recognizers")
    labels = data.get("labels", {})
    threshold = float(engine["score_threshold"])
    if not 0.0 <= threshold <= 1.0:
        raise DeidConfigError("[engine] score_threshold must lie in [0, 1]")
    if lexicon["common_word_rank"] < 0 or lexicon["min_city_population"] < 0:
        raise DeidConfigError("[lexicon] counts must not be negative")
    pairs = {**recognizers["spacy_entities"], **labels}
    bad = sorted(f"{k}={v}" for k, v in pairs.items() if v not in LABELS)
    if bad:
        raise DeidConfigError(f"unknown Hilum label(s): {', '.join(bad)}; valid: {', '.join(sorted(LABELS))}")
    return DeidConfig(
        language=engine["language"],
        spacy_model=engine["spacy_model"],
        spacy_disable=_strings("engine", "spacy_disable", engine["spacy_disable"]),
        score_threshold=threshold,
        name_locales=_strings("lexicon", "name_locales", lexicon["name_locales"]),
        common_word_rank=lexicon["common_word_rank"],
        min_city_population=lexicon["min_city_population"],
        hilum_recognizers=_strings("recognizers", "hilum", recognizers["hilum"]),
        presidio_recognizers=_strings("recognizers", "presidio", recognizers["presidio"]),
        spacy_entities=tuple(sorted(recognizers["spacy_entities"].items())),
        labels=tuple(sorted(labels.items())),
        source=source,
    )


def load_config(path: str | Path | None = None) -> DeidConfig:
    """Read and validate the TOML file at `path` (default: the packaged `deid.toml`)."""
    file = Path(path) if path is not None else default_config_path()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeidConfigError(f"cannot read de-id config {file}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DeidConfigError(f"de-id config {file} is not valid TOML: {exc}") from exc
    try:
        return parse_config(data, source=str(file))
    except DeidConfigError as exc:
        raise DeidConfigError(f"de-id config {file}: {exc}") from exc
