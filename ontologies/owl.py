"""Importer for OWL and SKOS in RDF/XML (stdlib `xml.etree`, streamed): classes, concepts and their labels.

Reads `owl:Class` and `skos:Concept` elements that carry `rdf:about`. Canonical name: `skos:prefLabel`, else
`rdfs:label`; aliases: `skos:altLabel` and oboInOwl exact/related synonyms; definition: IAO:0000115 or
`skos:definition`; `owl:deprecated true` leaves a class out. Literals tagged with another language than
`language` are ignored (untagged ones are kept). OBO PURLs become CURIEs
(`.../obo/HP_0002202` → `HP:0002202`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from ontologies.concept import Concept, CorruptOntologyError

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
RDFS = "{http://www.w3.org/2000/01/rdf-schema#}"
OWL = "{http://www.w3.org/2002/07/owl#}"
SKOS = "{http://www.w3.org/2004/02/skos/core#}"
OBO_IN_OWL = "{http://www.geneontology.org/formats/oboInOwl#}"
OBO = "{http://purl.obolibrary.org/obo/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_ENTITIES = {OWL + "Class", SKOS + "Concept"}
_NAME_TAGS = (SKOS + "prefLabel", RDFS + "label")
_ALIAS_TAGS = (  # in this order
    SKOS + "altLabel",
    OBO_IN_OWL + "hasExactSynonym",
    OBO_IN_OWL + "hasRelatedSynonym",
    OBO_IN_OWL + "hasSynonym",
)
_DEFINITION_TAGS = (OBO + "IAO_0000115", SKOS + "definition")
_OBO_PURL = re.compile(r"https?://purl\.obolibrary\.org/obo/([A-Za-z][A-Za-z0-9]*)_(\w+)\Z")


def curie(iri: str) -> str:
    """A short identifier for an IRI: OBO PURLs as `PREFIX:LOCAL`, other IRIs kept whole."""
    match = _OBO_PURL.match(iri)
    return f"{match.group(1)}:{match.group(2)}" if match else iri


def _parse_error(path: Path, exc: Exception) -> CorruptOntologyError:
    line = getattr(exc, "position", (None, None))[0]
    return CorruptOntologyError(str(path), f"not well-formed RDF/XML ({exc})", line)


def _concept(element: ET.Element, language: str) -> Concept | None:
    iri = element.get(RDF + "about")
    if not iri:
        return None
    texts: dict[str, list[str]] = {}
    own_id = None
    for child in element:
        if child.tag == OWL + "deprecated" and (child.text or "").strip().lower() == "true":
            return None
        if child.tag == OBO_IN_OWL + "id" and child.text:
            own_id = child.text.strip()
        lang = child.get(XML_LANG)
        if child.text and child.text.strip() and (lang is None or lang.split("-")[0] == language):
            texts.setdefault(child.tag, []).append(child.text)
    names = [text for tag in _NAME_TAGS for text in texts.get(tag, [])]
    if not names:
        return None
    aliases = names[1:] + [text for tag in _ALIAS_TAGS for text in texts.get(tag, [])]
    definition = next((texts[tag][0] for tag in _DEFINITION_TAGS if tag in texts), None)
    return Concept.create(own_id or curie(iri), names[0], aliases, [], definition)


def read_owl_version(path: Path) -> str | None:
    """The `owl:versionInfo` or `owl:versionIRI` of the file's `owl:Ontology`, if any."""
    try:
        for _event, element in ET.iterparse(path, events=("end",)):
            if element.tag == OWL + "versionInfo" and element.text:
                return element.text.strip()
            if element.tag == OWL + "versionIRI":
                return element.get(RDF + "resource")
            if element.tag == OWL + "Ontology":
                return None
    except ET.ParseError as exc:
        raise _parse_error(path, exc) from exc
    return None


def parse_owl(path: Path, *, language: str = "en") -> Iterator[Concept]:
    """Every labelled, non-deprecated class or SKOS concept in an RDF/XML file, each id once."""
    depth = 0
    seen: set[str] = set()
    root_checked = False
    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                if not root_checked:
                    root_checked = True
                    if element.tag != RDF + "RDF":
                        raise CorruptOntologyError(str(path), f"root element is {element.tag}, not rdf:RDF")
                depth += 1
                continue
            depth -= 1
            if depth == 1:  # a top-level description is complete
                if element.tag in _ENTITIES:
                    concept = _concept(element, language)
                    if concept is not None and concept.concept_id not in seen:
                        seen.add(concept.concept_id)
                        yield concept
                element.clear()
    except ET.ParseError as exc:
        raise _parse_error(path, exc) from exc
    if not root_checked:
        raise CorruptOntologyError(str(path), "empty file")
