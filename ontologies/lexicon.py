"""Hilum's curated radiology lexicon: findings, anatomy, devices, procedures and modifiers, with their forms.

The data is `data/radiology_lexicon.json`. Each entry: `id` (`RAD:slug`), `name`, `types` (first one of
`TYPES`; modifiers add a second: LATERALITY, SEVERITY, SIZE, ...), `synonyms`, `abbreviations`, `plurals`,
optional `mesh_hint` (the MeSH heading a curator expects), optional `no_mesh` (a curator's veto of a
wrong automatic match), and `mesh` (`{"id", "name", "via"}` or null), which
`map_to_mesh` fills by exact (case-insensitive) name matching against the MeSH loader — never by hand.
Optional relations between entries (ids of the same lexicon):
- `broader`: the more general concepts an entry is a kind of (`pleural thickening` → `thickening`,
  `PICC` → `indwelling catheter`); `broader()` gives every ancestor.
- `morphology` and `sites` (findings only): the modifiers that, said of one of the anatomy `sites`, state the
  finding (`tortuous` + `aorta` → tortuous aorta; `elevated` + `left hemidiaphragm` → elevated hemidiaphragm);
  no `sites` means any anatomy (`calcified` + anything → calcification). `observations()` gives them.
A finding whose name (or a synonym) is a modifier's name followed by the name of one of its broader concepts
(`calcified granuloma` = `calcified` + `granuloma`) refines that concept when the modifier is said of it;
`refinements()` gives these pairs.
A second type `NORMAL` marks statements of normality (`normal chest`, `clear lungs`): findings of no finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ontologies.concept import Concept, CorruptOntologyError, Ontology
from ontologies.paths import file_digest

LEXICON_FILE = Path(__file__).parent / "data" / "radiology_lexicon.json"
TYPES = ("FINDING", "ANATOMY", "DEVICE", "PROCEDURE", "MODIFIER")
MAPPED_TYPES = ("FINDING", "ANATOMY", "DEVICE", "PROCEDURE")  # modifiers are not MeSH descriptors


def _validate(data: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("concepts"), list):
        raise CorruptOntologyError(source, "expected an object with a 'concepts' list")
    seen: set[str] = set()
    for number, entry in enumerate(data["concepts"], 1):
        where = f"concept #{number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry.get("name"):
            raise CorruptOntologyError(source, f"{where} lacks an 'id' or a 'name'")
        if entry["id"] in seen:
            raise CorruptOntologyError(source, f"{where}: duplicate id {entry['id']}")
        seen.add(entry["id"])
        types = entry.get("types")
        if not isinstance(types, list) or not types or types[0] not in TYPES:
            raise CorruptOntologyError(source, f"{where} ({entry['id']}): first type must be one of {TYPES}")
        for field in ("synonyms", "abbreviations", "plurals", *RELATIONS):
            value = entry.get(field, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise CorruptOntologyError(source, f"{where} ({entry['id']}): '{field}' must be a list of strings")
    _validate_relations(data["concepts"], source)
    return data["concepts"]


RELATIONS = {"broader": None, "morphology": "MODIFIER", "sites": "ANATOMY"}  # field → type its ids must have


def _validate_relations(entries: list[dict[str, Any]], source: str) -> None:
    first_type = {entry["id"]: entry["types"][0] for entry in entries}
    for entry in entries:
        for field, wanted in RELATIONS.items():
            for target in entry.get(field, []):
                expected = wanted or entry["types"][0]
                if first_type.get(target) != expected:
                    raise CorruptOntologyError(
                        source, f"{entry['id']}: '{field}' names {target!r}, which is not a {expected} of the lexicon"
                    )
        if entry.get("morphology") and entry["types"][0] != "FINDING":
            raise CorruptOntologyError(source, f"{entry['id']}: only findings have a 'morphology'")


def read_lexicon(path: Path = LEXICON_FILE) -> dict[str, Any]:
    """The lexicon document, validated; `CorruptOntologyError` on a malformed file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptOntologyError(str(path), f"unreadable JSON ({exc})") from exc
    _validate(data, str(path))
    return data


class RadiologyLexiconLoader:
    """Loader of the curated radiology lexicon; aliases are its synonyms, abbreviations and plurals."""

    name = "radiology"

    def __init__(self, path: Path = LEXICON_FILE) -> None:
        self.path = path

    def describe(self) -> Ontology:
        """Version and licence as recorded in the lexicon file."""
        data = read_lexicon(self.path)
        return Ontology(
            self.name,
            str(data.get("version", "unversioned")),
            str(data.get("licence", "Apache-2.0")),
            "curated by the Hilum project (ontologies/data/radiology_lexicon.json)",
            "Hilum radiology lexicon",
        )

    def fingerprint(self) -> str:
        """Hash of the lexicon file."""
        return file_digest(self.path)

    def concepts(self) -> Iterator[Concept]:
        """One concept per entry."""
        for entry in read_lexicon(self.path)["concepts"]:
            aliases = entry.get("synonyms", []) + entry.get("abbreviations", []) + entry.get("plurals", [])
            yield Concept.create(entry["id"], entry["name"], aliases, entry["types"], entry.get("definition"))

    def broader(self) -> dict[str, tuple[str, ...]]:
        """Concept id → every broader concept (transitively, nearest first), for the entries that have any."""
        direct = {e["id"]: tuple(e.get("broader", [])) for e in read_lexicon(self.path)["concepts"]}
        closure: dict[str, tuple[str, ...]] = {}
        for concept_id in direct:
            found: list[str] = []
            queue = list(direct[concept_id])
            while queue:
                parent = queue.pop(0)
                if parent not in found and parent != concept_id:
                    found.append(parent)
                    queue.extend(direct.get(parent, ()))
            if found:
                closure[concept_id] = tuple(found)
        return closure

    def observations(self) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """(finding id, morphology modifier ids, site anatomy ids) of the findings that have a morphology;
        findings with sites first, so that a site-specific finding wins over a general one."""
        found = [
            (e["id"], tuple(e["morphology"]), tuple(e.get("sites", [])))
            for e in read_lexicon(self.path)["concepts"]
            if e.get("morphology")
        ]
        return sorted(found, key=lambda item: not item[2])

    def refinements(self) -> dict[tuple[str, str], str]:
        """(modifier id, finding id) → the narrower finding that the modifier said of the finding names
        (`calcified` + `granuloma` → `calcified granuloma`): see the module docstring."""
        entries = read_lexicon(self.path)["concepts"]
        names = {e["id"]: [n.lower() for n in (e["name"], *e.get("synonyms", []))] for e in entries}
        modifiers = [e["id"] for e in entries if e["types"][0] == "MODIFIER"]
        found: dict[tuple[str, str], str] = {}
        for narrower, ancestors in self.broader().items():
            own = set(names[narrower])
            for broader in ancestors:
                for modifier in modifiers:
                    pairs = ((m, b) for m in names[modifier] for b in names[broader])
                    if any(f"{m} {b}" in own for m, b in pairs):
                        found.setdefault((modifier, broader), narrower)
        return found

    def mesh_mapping(self) -> dict[str, str]:
        """Lexicon concept id → MeSH descriptor id, for the entries that map."""
        return {entry["id"]: entry["mesh"]["id"] for entry in read_lexicon(self.path)["concepts"] if entry.get("mesh")}


def _mesh_keys(name: str) -> list[str]:
    """Lookup keys of a MeSH heading: itself and, when inverted ('Hernia, Hiatal'), the natural order."""
    keys = [name.lower()]
    if name.count(", ") == 1:
        head, modifier = name.split(", ")
        keys.append(f"{modifier} {head}".lower())
    return keys


def map_to_mesh(entries: list[dict[str, Any]], mesh: Iterable[Concept]) -> dict[str, int]:
    """Fill each mappable entry's `mesh` by exact case-insensitive matching; returns counts per match route.

    Tried in order: the curator's `mesh_hint`, the name, synonyms, plurals (MeSH often uses the plural),
    each also against the natural order of inverted headings. Entries that match nothing get `mesh: null`.
    """
    index: dict[str, tuple[str, str]] = {}
    for concept in mesh:
        for key in _mesh_keys(concept.canonical_name):
            index.setdefault(key, (concept.concept_id, concept.canonical_name))
    counts = {"hint": 0, "name": 0, "synonym": 0, "plural": 0, "unmapped": 0, "not mappable": 0}
    for entry in entries:
        entry["mesh"] = None
        if entry["types"][0] not in MAPPED_TYPES or entry.get("no_mesh"):
            counts["not mappable"] += 1
            continue
        routes = [
            ("hint", [entry["mesh_hint"]] if entry.get("mesh_hint") else []),
            ("name", [entry["name"]]),
            ("synonym", entry.get("synonyms", [])),
            ("plural", entry.get("plurals", [])),
        ]
        for via, strings in routes:
            hit = next((index[s.lower()] for s in strings if s.lower() in index), None)
            if hit:
                entry["mesh"] = {"id": hit[0], "name": hit[1], "via": via}
                counts[via] += 1
                break
        else:
            counts["unmapped"] += 1
    return counts


def remap_lexicon(path: Path = LEXICON_FILE) -> dict[str, int]:
    """Recompute the MeSH mapping of the lexicon file in place with the MeSH loader; returns the counts."""
    from ontologies.packaged import MeshLoader

    data = read_lexicon(path)
    counts = map_to_mesh(data["concepts"], MeshLoader().concepts())
    data["mesh_mapping"] = {"mesh_version": MeshLoader().describe().version, "counts": counts}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return counts


if __name__ == "__main__":  # python -m ontologies.lexicon: refresh the MeSH mapping after editing the lexicon
    print(remap_lexicon())
