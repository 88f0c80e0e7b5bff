"""The contract every ontology loader meets, and helpers for loaders of data shipped in registry packages."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from ontologies.concept import Concept, Ontology, OntologyError


class Loader(Protocol):
    """Reads one ontology. Cheap to build: nothing is read before `describe`, `fingerprint` or `concepts`."""

    name: str

    def describe(self) -> Ontology:
        """Name, version, licence and source of the data, without reading all of it."""
        ...

    def fingerprint(self) -> str:
        """A hash of the source data; a knowledge base built from a different fingerprint is stale."""
        ...

    def concepts(self) -> Iterator[Concept]:
        """Every (non-obsolete) concept, each once."""
        ...


def package_dir(module: str) -> Path:
    """The folder of an installed package, found without importing it (some run heavy code at import)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise OntologyError(f"the Python package {module!r} is not installed; reinstall hilum's dependencies")
    return Path(next(iter(spec.submodule_search_locations)))


def package_version(distribution: str) -> str:
    """The installed version of a distribution, or an `OntologyError` saying it is missing."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise OntologyError(
            f"the Python package {distribution!r} is not installed; reinstall hilum's dependencies"
        ) from exc
