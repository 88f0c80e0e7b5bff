"""The NER training configuration (`annotators.text.training_config.training_config`): each architecture and schedule
setting lands where spaCy reads it, and every variant builds a pipeline."""

from __future__ import annotations

from typing import Any

import pytest
import spacy
from thinc.api import Config

import annotators.text.tokenizer  # noqa: F401  (registers the tokenizer the configuration names)
from annotators.text.training_config import training_config


def _get(config: Config, path: str) -> Any:
    value: Any = config
    for key in path.split("."):
        value = value[key]
    return value


@pytest.mark.parametrize(("settings", "path", "expected"), [
    ({}, "components.tok2vec.model.encode.window_size", 1),
    ({"window": 2}, "components.tok2vec.model.encode.window_size", 2),
    ({"depth": 6}, "components.tok2vec.model.encode.depth", 6),
    ({}, "components.ner.model.hidden_width", 64),
    ({"hidden": 128}, "components.ner.model.hidden_width", 128),
    ({}, "training.optimizer.learn_rate", 0.001),
    ({"warmup": 300, "max_steps": 8000}, "training.optimizer.learn_rate",
     {"@schedules": "warmup_linear.v1", "warmup_steps": 300, "total_steps": 8000, "initial_rate": 0.001}),
    ({}, "components.tok2vec.model.embed.@architectures", "spacy.MultiHashEmbed.v2"),
    ({"chars": 10}, "components.tok2vec.model.embed.@architectures", "spacy.CharacterEmbed.v2"),
    ({"chars": 10}, "components.tok2vec.model.embed.nC", 10),
    ({"chars": 10, "rows": "30000, 5000"}, "components.tok2vec.model.embed.rows", 30000),
])  # fmt: skip
def test_training_settings_reach_the_configuration(settings: dict[str, Any], path: str, expected: Any) -> None:
    assert _get(Config().from_str(training_config(**settings)), path) == expected


@pytest.mark.parametrize("settings", [{}, {"window": 2, "hidden": 128, "warmup": 100}, {"chars": 8, "width": 64}])
def test_every_variant_builds(settings: dict[str, Any]) -> None:
    config = Config().from_str(training_config(**settings))
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == ["tok2vec", "ner"]
