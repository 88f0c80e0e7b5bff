"""The NER model that ships inside the package (`annotators/text/ner_model/`), and how a trained one gets there.

The folder is a spaCy pipeline (`tok2vec` + `ner`, clinical tokenizer) written by `hilum train ner --install`;
`MODEL_VERSION` names it in annotation provenance (`hilum_ner@<version>`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from annotators.text.errors import TextPipelineError

MODEL_DIR = Path(__file__).parent / "ner_model"
_KEEP = ("config.cfg", "meta.json", "tokenizer", "vocab", "tok2vec", "ner")


def model_version(path: Path = MODEL_DIR) -> str:
    """The version recorded in the model's meta.json (`0.0.0` when absent)."""
    try:
        return str(json.loads((path / "meta.json").read_text(encoding="utf-8")).get("version", "0.0.0"))
    except (OSError, ValueError) as exc:
        raise TextPipelineError(f"the shipped NER model is missing or damaged ({exc})") from exc


def install_model(trained: Path, target: Path = MODEL_DIR, version: str = "0.1.0") -> Path:
    """Copy the parts of a trained spaCy pipeline that loading needs into `target` (replacing it)."""
    if not (trained / "config.cfg").is_file():
        raise TextPipelineError(f"{trained} is not a trained spaCy pipeline")
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in _KEEP:
        source = trained / name
        if source.is_dir():
            shutil.copytree(source, staging / name)
        elif source.is_file():
            shutil.copy(source, staging / name)
    meta_path = staging / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    meta.update({"name": "hilum_ner", "version": version})
    meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
