"""Hilum's clinical text pipeline: spaCy components registered as `hilum_*` factories.

    from annotators.text import annotate
    for spans in annotate(["FINDINGS: 2.3 cm nodule in the RUL. No effusion."]):
        ...  # TextSpan(start, end, text, label, assertion, section, concepts, source, measurement_mm, ...)

The pipeline is the list of component names in `pipeline.toml` (or `$HILUM_TEXT_PIPELINE`), validated on load
(`PipelineConfigError`); it is built once per process, on first use. Components, in the shipped order:
`hilum_sentences`, `hilum_sections`, `hilum_abbreviations`, `hilum_statistical_ner` (the model trained by
`hilum train ner`, shipped in `ner_model/`), `hilum_ontology_matcher`, `hilum_measurements`, `hilum_entities`,
`hilum_context`, `hilum_modifiers`, `hilum_linker`. Their outputs are the extensions declared in
`annotators.text.extensions`. Importing this package loads neither spaCy nor a model.
"""

from annotators.text.errors import CorpusError, PipelineConfigError, TextPipelineError
from annotators.text.pipeline import TextSpan, annotate, get_pipeline, load_config

__all__ = [
    "CorpusError",
    "PipelineConfigError",
    "TextPipelineError",
    "TextSpan",
    "annotate",
    "get_pipeline",
    "load_config",
]
