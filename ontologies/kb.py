"""Knowledge base + approximate-nearest-neighbour index of an ontology, cached, rebuilt only when stale.

A built ontology is a folder `cache_dir()/NAME/` that scispaCy's pieces read as they are:

- `kb.jsonl`: one `Entity`-shaped concept per line (`scispacy.linking_utils.KnowledgeBase` reads it);
- `concept_aliases.json`, `tfidf_vectorizer.joblib`, `tfidf_vectors_sparse.npz`, `nmslib_index.bin`: the
  files of a scispaCy `LinkerPaths` (char-3-gram TF-IDF of every alias, HNSW cosine index);
- `manifest.json`, written last: what was built from which source fingerprint by which builder version.

Unlike scispaCy's `create_tfidf_ann_index`, the vectorizer keeps every 3-gram (`min_df=1`): with `min_df=10` a
small knowledge base loses most of its 3-grams and many mentions get no candidate at all.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ontologies.concept import Concept, OntologyError
from ontologies.paths import cache_dir
from ontologies.registry import get_loader

if TYPE_CHECKING:
    from ontologies.linker import ScoredCandidateGenerator

BUILDER_VERSION = "1"
MANIFEST = "manifest.json"
KB_FILE = "kb.jsonl"
ALIASES_FILE = "concept_aliases.json"
VECTORIZER_FILE = "tfidf_vectorizer.joblib"
VECTORS_FILE = "tfidf_vectors_sparse.npz"
INDEX_FILE = "nmslib_index.bin"
SMALL_KB_ALIASES = 10_000  # below this the HNSW graph is built on one thread, which makes it reproducible


@dataclass(frozen=True)
class BuildStatus:
    """Whether an ontology's knowledge base is built, and whether its source or builder changed since."""

    name: str
    built: bool
    stale: bool
    concept_count: int | None
    alias_count: int | None
    path: Path


def _builder_key() -> str:
    """The builder version plus the versions of the libraries whose files it writes."""
    import importlib.metadata as metadata

    versions = [metadata.version(dist) for dist in ("scikit-learn", "nmslib-metabrainz", "scipy")]
    return f"{BUILDER_VERSION}:sklearn={versions[0]}:nmslib={versions[1]}:scipy={versions[2]}"


def kb_dir(name: str) -> Path:
    """The folder of a built ontology (it may not exist)."""
    return cache_dir() / name


def read_manifest(name: str) -> dict[str, Any] | None:
    """The build manifest of `name`, or None when it was never built (or its build is unreadable)."""
    try:
        manifest = json.loads((kb_dir(name) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def status(name: str) -> BuildStatus:
    """Build status of `name`; computes the source fingerprint (hashes the source files)."""
    manifest = read_manifest(name)
    if manifest is None:
        return BuildStatus(name, False, True, None, None, kb_dir(name))
    stale = (
        manifest.get("source_fingerprint") != get_loader(name).fingerprint()
        or manifest.get("builder") != _builder_key()
    )
    return BuildStatus(name, True, stale, manifest.get("concept_count"), manifest.get("alias_count"), kb_dir(name))


def _write_kb(concepts: Iterable[Concept], path: Path) -> tuple[int, list[str]]:
    """Write the jsonl (each concept id once) and return the count and the sorted unique aliases."""
    seen: set[str] = set()
    aliases: set[str] = set()
    with open(path, "w", encoding="utf-8") as handle:
        for concept in concepts:
            if concept.concept_id in seen:
                continue
            seen.add(concept.concept_id)
            aliases.add(concept.canonical_name)
            aliases.update(concept.aliases)
            handle.write(json.dumps(concept.to_json(), ensure_ascii=False) + "\n")
    return len(seen), sorted(aliases)


def _write_index(aliases: list[str], folder: Path, *, m: int, ef_construction: int) -> list[str]:
    """Fit the TF-IDF vectorizer and the HNSW index; returns the aliases kept (those with a 3-gram)."""
    import joblib
    import nmslib
    import numpy
    import scipy.sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), min_df=1, dtype=numpy.float32)
    vectors = vectorizer.fit_transform(aliases)
    keep = numpy.asarray(vectors.getnnz(axis=1) > 0)
    kept = [alias for alias, flag in zip(aliases, keep, strict=True) if flag]
    vectors = vectors[keep]
    joblib.dump(vectorizer, folder / VECTORIZER_FILE)
    scipy.sparse.save_npz(folder / VECTORS_FILE, vectors.astype(numpy.float32))
    (folder / ALIASES_FILE).write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    index = nmslib.init(method="hnsw", space="cosinesimil_sparse", data_type=nmslib.DataType.SPARSE_VECTOR)
    index.addDataPointBatch(vectors)
    threads = 1 if len(kept) < SMALL_KB_ALIASES else max(1, os.cpu_count() or 1)
    index.createIndex(
        {"M": m, "efConstruction": ef_construction, "post": 0, "indexThreadQty": threads},
        print_progress=False,
    )
    index.saveIndex(str(folder / INDEX_FILE))
    return kept


def write_kb(concepts: Iterable[Concept], folder: Path, *, m: int = 48, ef_construction: int = 400) -> tuple[int, int]:
    """Write the knowledge base and index files of `concepts` into a new `folder` (no manifest, no cache).

    Returns the number of concepts and of indexed aliases. `ontologies.linker.load_generator(folder)` reads
    the result; `build` is this plus caching.
    """
    folder.mkdir(parents=True)
    count, aliases = _write_kb(concepts, folder / KB_FILE)
    if count == 0:
        raise OntologyError("no concepts to build a knowledge base from")
    return count, len(_write_index(aliases, folder, m=m, ef_construction=ef_construction))


def build(name: str, force: bool = False, *, m: int = 48, ef_construction: int = 400) -> Path:
    """Build (or reuse) the knowledge base and index of `name`; returns its folder.

    Reuses the cached build unless `force`, the source fingerprint changed, or the builder (or the versions
    of scikit-learn / nmslib / scipy that wrote its files) changed. The new build is written beside the old
    one and swapped in when complete, so a failed build leaves the previous one usable.
    """
    loader = get_loader(name)
    fingerprint = loader.fingerprint()
    folder = kb_dir(name)
    manifest = read_manifest(name)
    if (
        not force
        and manifest is not None
        and manifest.get("source_fingerprint") == fingerprint
        and manifest.get("builder") == _builder_key()
        and all((folder / file).is_file() for file in (KB_FILE, ALIASES_FILE, VECTORIZER_FILE, INDEX_FILE))
    ):
        return folder
    started = time.monotonic()
    staging = folder.with_name(f".{name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        description = loader.describe()
        count, alias_count = write_kb(loader.concepts(), staging, m=m, ef_construction=ef_construction)
        new_manifest = {
            "name": name,
            "ontology": description.__dict__,
            "source_fingerprint": fingerprint,
            "builder": _builder_key(),
            "concept_count": count,
            "alias_count": alias_count,
            "index": {"M": m, "efConstruction": ef_construction, "space": "cosinesimil_sparse"},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(time.monotonic() - started, 2),
        }
        (staging / MANIFEST).write_text(json.dumps(new_manifest, indent=2), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def load_candidate_generator(name: str, *, ef_search: int = 200) -> ScoredCandidateGenerator:
    """A scispaCy `CandidateGenerator` over the built knowledge base of `name`, candidates best first.

    The index is always loaded from disk with `efSearch` set (an index used right after building has none).
    Raises `OntologyError` when `name` has not been built or its files are damaged.
    """
    from ontologies.linker import load_generator

    folder = kb_dir(name)
    if read_manifest(name) is None:
        raise OntologyError(f"ontology {name!r} is not built; run `hilum ontology build {name}`")
    try:
        return load_generator(folder, ef_search=ef_search)
    except (OSError, ValueError, EOFError) as exc:  # files deleted or truncated under the cache
        raise OntologyError(
            f"the build of {name!r} is damaged ({exc}); run `hilum ontology build {name} --force`"
        ) from exc
