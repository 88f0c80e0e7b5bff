"""The configured pipeline: a validated list of `hilum_*` component names (`pipeline.toml`), built once per
process, and `annotate()`, which turns texts into `TextSpan`s.

A configuration names components in order and may give settings per component. Loading checks every name
against `COMPONENTS`, that each component's prerequisites come before it, and that settings belong to a named
component; spaCy validates the settings' types. Any problem raises `PipelineConfigError` — never a fallback.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import threading
import tomllib
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotators.text.errors import PipelineConfigError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_CONFIG = Path(__file__).parent / "pipeline.toml"
MAX_CHUNK_CHARS = 100_000  # longer texts are annotated in pieces cut at line breaks
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# name → (module that registers it, components that must come earlier: any one of each tuple)
COMPONENTS: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "hilum_sentences": ("annotators.text.sections", ()),
    "hilum_sections": ("annotators.text.sections", ()),
    "hilum_abbreviations": ("annotators.text.abbreviations", ()),
    "hilum_statistical_ner": ("annotators.text.ner", ()),
    "hilum_ontology_matcher": ("annotators.text.ner", ()),
    "hilum_measurements": ("annotators.text.measurements", ()),
    "hilum_drug_stems": ("annotators.text.ner", ()),
    "hilum_entities": (
        "annotators.text.combine",
        (("hilum_statistical_ner", "hilum_ontology_matcher", "hilum_measurements", "hilum_drug_stems"),),
    ),
    "hilum_observations": ("annotators.text.observations", (("hilum_sentences",), ("hilum_ontology_matcher",),
                                                           ("hilum_entities",))),
    "hilum_context": ("annotators.text.assertion", (("hilum_sentences",), ("hilum_entities",))),
    "hilum_modifiers": ("annotators.text.measurements", (("hilum_sentences",), ("hilum_entities",))),
    "hilum_linker": ("annotators.text.linking", (("hilum_entities",),)),
}


@dataclass(frozen=True)
class PipelineConfig:
    """A validated pipeline configuration: component names in order and their settings."""

    components: tuple[str, ...]
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<memory>"


def validate(data: Any, source: str = "<memory>") -> PipelineConfig:
    """Check a parsed configuration; `PipelineConfigError` names the first problem."""
    if not isinstance(data, dict):
        raise PipelineConfigError(f"{source}: expected a table with 'components'")
    unknown_keys = set(data) - {"components", "settings"}
    if unknown_keys:
        raise PipelineConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown_keys))}")
    names = data.get("components")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise PipelineConfigError(f"{source}: 'components' must be a non-empty list of component names")
    for position, name in enumerate(names):
        if name not in COMPONENTS:
            raise PipelineConfigError(
                f"{source}: unknown component {name!r}; valid names: {', '.join(sorted(COMPONENTS))}"
            )
        if name in names[:position]:
            raise PipelineConfigError(f"{source}: component {name!r} is listed twice")
        for needs in COMPONENTS[name][1]:
            if not set(needs) & set(names[:position]):
                raise PipelineConfigError(f"{source}: {name!r} needs {' or '.join(needs)} before it")
    settings = data.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(v, dict) for v in settings.values()):
        raise PipelineConfigError(f"{source}: 'settings' must be a table of tables")
    strays = set(settings) - set(names)
    if strays:
        names_list = ", ".join(sorted(strays))
        raise PipelineConfigError(f"{source}: settings for component(s) not in the pipeline: {names_list}")
    return PipelineConfig(tuple(names), {k: dict(v) for k, v in settings.items()}, source)


def load_config(path: Path | None = None) -> PipelineConfig:
    """Read and validate a TOML configuration (default: see `config_path`)."""
    path = config_path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PipelineConfigError(f"cannot read pipeline configuration {path}: {exc}") from exc
    return validate(data, str(path))


def build(config: PipelineConfig) -> Language:
    """A spaCy pipeline (blank English, clinical tokenizer) with the configured components."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Importing 'parser\.split_arg_string'", DeprecationWarning)
        import spacy
    from annotators.text.tokenizer import clinical_tokenizer

    nlp = spacy.blank("en")
    nlp.tokenizer = clinical_tokenizer(nlp)
    nlp.max_length = MAX_CHUNK_CHARS * 2
    for name in config.components:
        importlib.import_module(COMPONENTS[name][0])
        try:
            nlp.add_pipe(name, config=config.settings.get(name, {}), validate=True)
        except PipelineConfigError:
            raise
        except Exception as exc:  # spaCy's ConfigValidationError and friends: a bad setting
            if type(exc).__name__ not in ("ConfigValidationError", "ValueError", "TypeError"):
                raise
            raise PipelineConfigError(f"{config.source}: bad settings for {name!r}: {exc}") from None
    return nlp


_LOCK = threading.Lock()
_PIPELINES: dict[str, Language] = {}


def config_path(path: Path | None = None) -> Path:
    """`path`, else `$HILUM_TEXT_PIPELINE`, else the shipped `pipeline.toml`."""
    if path is not None:
        return path
    return Path(os.environ["HILUM_TEXT_PIPELINE"]) if os.environ.get("HILUM_TEXT_PIPELINE") else DEFAULT_CONFIG


def get_pipeline(path: Path | None = None) -> Language:
    """The pipeline of the configuration at `config_path(path)`, built once per process."""
    chosen = config_path(path)
    key = str(chosen.resolve())
    with _LOCK:
        if key not in _PIPELINES:
            _PIPELINES[key] = build(load_config(chosen))
        return _PIPELINES[key]


@dataclass(frozen=True)
class TextSpan:
    """One entity: character offsets, label, assertion, section, ranked concepts, attributes, provenance."""

    start: int
    end: int
    text: str
    label: str
    assertion: str
    section: str | None
    concepts: tuple[Any, ...]
    source: str | None
    measurement_mm: tuple[float, ...] = ()
    laterality: str | None = None
    location: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The span shape of `hilum annotate text` output (exactly these keys)."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "label": self.label,
            "assertion": self.assertion,
            "section": self.section,
            "concepts": [c.to_json() for c in self.concepts],
        }


def spans_of(doc: Doc, offset: int = 0, section: str | None = None) -> list[TextSpan]:
    """The `TextSpan`s of an annotated doc, shifted by `offset`; `section` for spans before any header."""
    out = []
    for ent in doc.ents:
        out.append(
            TextSpan(
                ent.start_char + offset,
                ent.end_char + offset,
                ent.text,
                ent.label_,
                ent._.hilum_assertion,
                ent._.hilum_section or section,
                tuple(ent._.hilum_concepts or ()),
                ent._.hilum_source,
                tuple(ent._.hilum_measurement_mm or ()),
                ent._.hilum_laterality,
                tuple(ent._.hilum_location or ()),
            )
        )
    return out


def chunks(text: str, size: int = MAX_CHUNK_CHARS) -> list[tuple[int, str]]:
    """(offset, piece) cuts of `text` of at most `size` characters, at a line break or space when possible."""
    pieces, start = [], 0
    while len(text) - start > size:
        end = start + size
        cut = max(text.rfind("\n", start + size // 2, end), text.rfind(" ", start + size // 2, end))
        end = cut + 1 if cut > 0 else end
        pieces.append((start, text[start:end]))
        start = end
    pieces.append((start, text[start:]))
    return pieces


def annotate(texts: Iterable[str], nlp: Language | None = None, batch_size: int = 64) -> Iterator[list[TextSpan]]:
    """The entities of each text, in order (long texts are annotated in pieces and stitched back)."""
    nlp = nlp or get_pipeline()
    pieces: list[tuple[int, int, str]] = []  # (text index, offset, piece)

    def flush() -> Iterator[tuple[int, list[TextSpan]]]:
        section: dict[int, str | None] = {}
        docs = nlp.pipe((piece for _i, _o, piece in pieces), batch_size=batch_size)
        for (index, offset, _piece), doc in zip(pieces, docs, strict=True):
            found = spans_of(doc, offset, section.get(index))
            sections = doc._.hilum_sections or []
            section[index] = sections[-1].name if sections else section.get(index)
            yield index, found
        pieces.clear()

    results: dict[int, list[TextSpan]] = {}
    originals: dict[int, str] = {}
    emitted = 0
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text #{index} is {type(text).__name__}, not str")
        clean = _LONE_SURROGATE.sub("\ufffd", text)  # spaCy cannot hash them; one char for one keeps offsets
        if clean is not text:
            originals[index] = text
        pieces.extend((index, offset, piece) for offset, piece in chunks(clean))
        if len(pieces) >= batch_size:
            last = pieces[-1][0]
            for i, found in flush():
                results.setdefault(i, []).extend(found)
            while emitted < last:
                yield _restore(results.pop(emitted), originals.pop(emitted, None))
                emitted += 1
    for i, found in flush():
        results.setdefault(i, []).extend(found)
    while emitted in results:
        yield _restore(results.pop(emitted), originals.pop(emitted, None))
        emitted += 1


def _restore(spans: list[TextSpan], original: str | None) -> list[TextSpan]:
    """Spans whose `text` comes from the original text (before lone surrogates were replaced)."""
    if original is None:
        return spans
    return [dataclasses.replace(s, text=original[s.start : s.end]) for s in spans]
