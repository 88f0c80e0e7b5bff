"""The one `name → loader` registry: built-in ontologies plus those a user imported."""

from __future__ import annotations

from collections.abc import Callable

from ontologies.concept import UnknownOntologyError
from ontologies.lexicon import RadiologyLexiconLoader
from ontologies.loader import Loader
from ontologies.packaged import DiseaseOntologyLoader, HpoLoader, Icd10CmLoader, MeshLoader
from ontologies.user import user_loaders

BUILTIN_LOADERS: dict[str, Callable[[], Loader]] = {
    "radiology": RadiologyLexiconLoader,
    "mesh": MeshLoader,
    "icd10cm": Icd10CmLoader,
    "hpo": HpoLoader,
    "doid": DiseaseOntologyLoader,
}


def loaders() -> dict[str, Callable[[], Loader]]:
    """Every ontology name → a factory of its loader (built-ins first, then user imports in name order)."""
    found: dict[str, Callable[[], Loader]] = dict(BUILTIN_LOADERS)
    for name, factory in user_loaders().items():
        found.setdefault(name, factory)
    return found


def get_loader(name: str) -> Loader:
    """The loader registered under `name`; `UnknownOntologyError` (listing the valid names) otherwise."""
    available = loaders()
    if name not in available:
        raise UnknownOntologyError(name, list(available))
    return available[name]()
