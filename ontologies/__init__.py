"""Hilum's ontologies: versioned concept data read by small loaders chosen by name, and knowledge bases.

- `ontologies.concept`: the one record type `Concept` (scispaCy's `Entity` shape), `Ontology`, the errors.
- `ontologies.registry`: `loaders()` / `get_loader(name)`: built-ins (radiology, mesh, icd10cm, hpo, doid)
  plus ontologies a user imported (`ontologies.user`: UMLS MRCONSO/MRSTY, OBO, OWL RDF/XML).
- `ontologies.kb`: `build(name)` a scispaCy-compatible knowledge base + TF-IDF/HNSW index, cached under
  `$HILUM_CACHE_DIR/ontologies`; `load_candidate_generator(name)` for linking, candidates best first.

Imports neither `annotators` nor `server`; nothing heavy is imported with this package.
"""

from ontologies.concept import Concept, CorruptOntologyError, Ontology, OntologyError, UnknownOntologyError

__all__ = ["Concept", "CorruptOntologyError", "Ontology", "OntologyError", "UnknownOntologyError"]
