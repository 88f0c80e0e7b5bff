"""Errors of the text pipeline; every message is fit to show a user and carries no report text."""

from __future__ import annotations

from annotators.errors import EngineError


class TextPipelineError(EngineError):
    """Base of the text pipeline's errors."""

    code = "text_pipeline_error"


class PipelineConfigError(TextPipelineError):
    """The pipeline configuration is missing, unreadable or invalid (unknown component, bad option...)."""

    code = "text_pipeline_config"


class CorpusError(TextPipelineError):
    """A training or evaluation corpus cannot be read as the format it claims to be."""

    code = "text_corpus"
