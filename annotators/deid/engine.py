"""Build the Presidio `AnalyzerEngine` from the validated configuration, once per process, and run it."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from annotators.deid.config import DeidConfig, DeidConfigError, load_config

# Presidio's email recognizer (tldextract) must never try to download the public suffix list.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

_LOCK = threading.Lock()
_ENGINES: dict[str, DeidEngine] = {}
_SPACY: dict[tuple[str, tuple[str, ...]], Any] = {}


@dataclass(frozen=True)
class PhiSpan:
    """One PHI finding: character offsets into the text, a Hilum label, a score and its source."""

    start: int
    end: int
    label: str
    score: float
    source: str  # "recognizer@version"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form used by the CLI and the server (`start, end, label, score, source`)."""
        return {
            "start": self.start, "end": self.end, "label": self.label,
            "score": round(self.score, 3), "source": self.source,
        }  # fmt: skip


def load_spacy(model: str, disable: tuple[str, ...] = ()) -> Any:
    """Load an installed spaCy pipeline package by name, once per process (never downloads)."""
    key = (model, disable)
    with _LOCK:
        if key not in _SPACY:
            import spacy

            if not spacy.util.is_package(model):
                raise DeidConfigError(f"spaCy model package '{model}' is not installed")
            nlp = spacy.load(model)
            present = [name for name in disable if name in nlp.pipe_names]
            if present:
                nlp.select_pipes(disable=present)
            _SPACY[key] = nlp
        return _SPACY[key]


def spacy_nlp_engine(nlp: Any, language: str, entity_mapping: dict[str, str] | None = None) -> Any:
    """A Presidio `SpacyNlpEngine` around an already loaded pipeline (bypassing its download path)."""
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    conf = None
    if entity_mapping is not None:
        conf = NerModelConfiguration(
            model_to_presidio_entity_mapping=entity_mapping,
            labels_to_ignore=[label for label in nlp.get_pipe("ner").labels if label not in entity_mapping],
        )
    engine = SpacyNlpEngine(
        models=[{"lang_code": language, "model_name": "preloaded"}], ner_model_configuration=conf
    )
    engine.nlp = {language: nlp}  # type: ignore[assignment]  # Presidio types it as None before load()
    return engine


class DeidEngine:
    """The configured analyzer: Hilum recognizers + chosen Presidio ones + filtered spaCy NER, over one spaCy
    model."""

    def __init__(self, config: DeidConfig) -> None:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer import predefined_recognizers as predefined

        from annotators.deid.lexicon import load_lexicon, name_sense
        from annotators.deid.ner import NerRecognizer
        from annotators.deid.recognizers import RECOGNIZERS

        self.config = config
        unknown = [n for n in config.hilum_recognizers if n not in RECOGNIZERS]
        unknown += [n for n in config.presidio_recognizers if not hasattr(predefined, n)]
        if unknown:
            raise DeidConfigError(
                f"{config.source}: unknown recognizer(s) {', '.join(unknown)}; Hilum ones are "
                f"{', '.join(sorted(RECOGNIZERS))}; Presidio ones are classes of "
                "presidio_analyzer.predefined_recognizers"
            )
        nlp = load_spacy(config.spacy_model, config.spacy_disable)
        lexicon = name_sense(
            load_lexicon(config.name_locales, config.common_word_rank, config.min_city_population), nlp.vocab
        )
        mapping = dict(config.spacy_entities)
        registry = RecognizerRegistry(supported_languages=[config.language])
        for name in config.hilum_recognizers:
            registry.add_recognizer(RECOGNIZERS[name](lexicon, config.language))
        for name in config.presidio_recognizers:
            registry.add_recognizer(getattr(predefined, name)(supported_language=config.language))
        if mapping:
            registry.add_recognizer(NerRecognizer(lexicon, sorted(set(mapping.values())), config.language))
        self.lexicon = lexicon
        self.analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=spacy_nlp_engine(nlp, config.language, mapping),
            supported_languages=[config.language],
            default_score_threshold=config.score_threshold,
        )

    def analyze(self, text: str) -> list[PhiSpan]:
        """PHI spans in `text`, other mentions of the names and places found added, overlapping findings
        merged (the widest extent wins, highest score labels)."""
        from annotators.deid.cues import repeated_mentions
        from annotators.deid.recognizers import VERSION, filter_results

        results = self.analyzer.analyze(text=text, language=self.config.language)
        spans = []
        for res in filter_results(text, results):
            meta = res.recognition_metadata or {}
            name = str(meta.get("recognizer_name", "presidio"))
            source = f"{name}@{VERSION if name.startswith('hilum_') else _presidio_version()}"
            spans.append(
                PhiSpan(res.start, res.end, self.config.label_for(res.entity_type), res.score, source)
            )
        found = [(s.start, s.end, s.label, s.score >= 0.6 and s.source.startswith(_CONTEXT)) for s in spans]
        for start, end, label in repeated_mentions(text, found, self.lexicon):
            spans.append(PhiSpan(start, end, label, 0.5, f"hilum_repeat@{VERSION}"))
        return merge_spans(spans)


def _presidio_version() -> str:
    from importlib.metadata import version

    return f"presidio-analyzer-{version('presidio-analyzer')}"


# Recognizers whose findings rest on context (titles, cues, institution words), not on a word list alone.
_CONTEXT = ("hilum_name", "hilum_institution", "hilum_location")
# Labels that win an overlap whatever their score (an SSN also looks like a phone or an ID).
_SPECIFIC = frozenset({"SSN", "EMAIL", "URL", "IP_ADDRESS"})


def merge_spans(spans: list[PhiSpan]) -> list[PhiSpan]:
    """Merge overlapping spans into one: the union of their extents, label and source of the best score."""
    merged: list[PhiSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = max((last, span), key=lambda s: (s.label in _SPECIFIC, s.score))
            merged[-1] = PhiSpan(last.start, max(last.end, span.end), best.label, best.score, best.source)
        else:
            merged.append(span)
    return merged


def get_engine(config_path: str | None = None) -> DeidEngine:
    """The process-wide engine for a configuration file (default: the packaged one), built on first use."""
    key = config_path or ""
    with _LOCK:
        engine = _ENGINES.get(key)
    if engine is None:
        engine = DeidEngine(load_config(config_path))
        with _LOCK:
            engine = _ENGINES.setdefault(key, engine)
    return engine
