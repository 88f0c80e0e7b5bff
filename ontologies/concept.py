"""The one record type of every ontology, its description, and the errors loaders raise.

`Concept` has the shape of scispaCy's `linking_utils.Entity` (concept_id, canonical_name, aliases, types,
definition), so a knowledge base built from concepts is read by scispaCy's `KnowledgeBase` as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class OntologyError(Exception):
    """Base class of every error raised by `ontologies`; its message is fit to show a user."""


class UnknownOntologyError(OntologyError):
    """An ontology name that no loader answers to; the message lists the valid names."""

    def __init__(self, name: str, valid: list[str]) -> None:
        super().__init__(f"unknown ontology {name!r}; valid names: {', '.join(sorted(valid)) or '(none)'}")
        self.name = name
        self.valid = sorted(valid)


class CorruptOntologyError(OntologyError):
    """A source file that cannot be read as the format it claims to be."""

    def __init__(self, source: str, reason: str, line: int | None = None) -> None:
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"corrupt ontology file {where}: {reason}")
        self.source = source
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class Concept:
    """One concept of one ontology: an identifier, a preferred name, other names, types and a definition.

    `aliases` never repeats `canonical_name`; both are kept as the source spells them. `types` are
    ontology-specific labels (UMLS semantic type ids, the radiology lexicon's FINDING / ANATOMY / ...).
    """

    concept_id: str
    canonical_name: str
    aliases: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    definition: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.concept_id, str) or not self.concept_id.strip():
            raise ValueError(f"concept_id must be a non-empty string, got {self.concept_id!r}")
        if not isinstance(self.canonical_name, str) or not self.canonical_name.strip():
            raise ValueError(f"concept {self.concept_id}: canonical_name must be a non-empty string")

    @classmethod
    def create(
        cls,
        concept_id: str,
        canonical_name: str,
        aliases: list[str] | tuple[str, ...] = (),
        types: list[str] | tuple[str, ...] = (),
        definition: str | None = None,
    ) -> Concept:
        """A concept with whitespace-normalised names; aliases deduplicated, order kept, name removed."""
        name = " ".join(canonical_name.split())
        seen = {name}
        clean: list[str] = []
        for alias in aliases:
            alias = " ".join(alias.split())
            if alias and alias not in seen:
                seen.add(alias)
                clean.append(alias)
        return cls(
            concept_id.strip(),
            name,
            tuple(clean),
            tuple(dict.fromkeys(t for t in types if t)),
            " ".join(definition.split()) if definition and definition.strip() else None,
        )

    def to_json(self) -> dict[str, Any]:
        """The scispaCy `Entity` JSON shape (lists, not tuples): one line of a knowledge-base jsonl."""
        return {
            "concept_id": self.concept_id,
            "canonical_name": self.canonical_name,
            "aliases": list(self.aliases),
            "types": list(self.types),
            "definition": self.definition,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Concept:
        """Inverse of `to_json`; raises `ValueError` or `TypeError` on a record of the wrong shape."""
        if not isinstance(record, dict):
            raise TypeError(f"a concept record must be an object, got {type(record).__name__}")
        aliases = record.get("aliases") or []
        types = record.get("types") or []
        if not all(isinstance(a, str) for a in aliases) or not all(isinstance(t, str) for t in types):
            raise TypeError("aliases and types must be lists of strings")
        definition = record.get("definition")
        if definition is not None and not isinstance(definition, str):
            raise TypeError("definition must be a string or null")
        return cls(record["concept_id"], record["canonical_name"], tuple(aliases), tuple(types), definition)


@dataclass(frozen=True)
class Ontology:
    """What an ontology is: its registry name, the version of its data, its licence and where it came from."""

    name: str
    version: str
    licence: str
    source: str
    title: str = ""
