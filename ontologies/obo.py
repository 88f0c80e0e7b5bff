"""Importer for OBO flat files (`[Term]` stanzas): id, name, synonyms, definition, namespace, obsolescence."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from pathlib import Path

from ontologies.concept import Concept, CorruptOntologyError

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"\s*(.*)')
_ESCAPE = re.compile(r"\\(.)")
_COMMENT = re.compile(r"\s+!.*$")  # a trailing `! comment` after an id or flag


def _unquote(value: str, path: Path, line: int) -> tuple[str, str]:
    """Split `"text" REST` into (text, REST); raise on an unterminated quote."""
    match = _QUOTED.match(value)
    if not match:
        raise CorruptOntologyError(str(path), f"expected a quoted string, got {value[:60]!r}", line)
    return _ESCAPE.sub(r"\1", match.group(1)), match.group(2)


def _stanzas(path: Path) -> Iterator[tuple[str, int, list[tuple[int, str, str]]]]:
    """(stanza type, first line, [(line, tag, value)]); the header is stanza type ''."""
    kind, start = "", 1
    tags: list[tuple[int, str, str]] = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, raw in enumerate(handle, 1):
                line = raw.strip()
                if not line or line.startswith("!"):
                    continue
                if line.startswith("[") and line.endswith("]"):
                    yield kind, start, tags
                    kind, start, tags = line[1:-1], number, []
                    continue
                tag, sep, value = line.partition(":")
                if not sep:
                    raise CorruptOntologyError(str(path), f"expected 'tag: value', got {line[:60]!r}", number)
                tags.append((number, tag.strip(), value.strip()))
    except UnicodeDecodeError as exc:
        raise CorruptOntologyError(str(path), f"not UTF-8 text ({exc.reason})") from exc
    yield kind, start, tags


def read_obo_version(path: Path) -> str | None:
    """The header's `data-version`, if any."""
    for kind, _start, tags in _stanzas(path):
        if kind == "":
            return next((value for _n, tag, value in tags if tag == "data-version"), None)
        break
    return None


def parse_obo(path: Path, *, synonym_scopes: Collection[str] = ("EXACT", "RELATED")) -> Iterator[Concept]:
    """Every non-obsolete `[Term]`; synonyms of the given scopes become aliases, the namespace the type."""
    terms = 0
    for kind, start, tags in _stanzas(path):
        if kind != "Term":
            continue
        terms += 1
        values: dict[str, str] = {}
        aliases: list[str] = []
        definition: str | None = None
        for number, tag, value in tags:
            if tag == "synonym":
                text, rest = _unquote(value, path, number)
                scope = rest.split()[0] if rest.split() else "RELATED"
                if scope in synonym_scopes:
                    aliases.append(text)
            elif tag == "def":
                definition, _rest = _unquote(value, path, number)
            elif tag not in values:
                values[tag] = _COMMENT.sub("", value) if tag != "name" else value
        if not values.get("id"):
            raise CorruptOntologyError(str(path), "[Term] without an id", start)
        if values.get("is_obsolete", "").lower() == "true":
            continue
        name = values.get("name") or values["id"]
        namespace = values.get("namespace")
        yield Concept.create(values["id"], name, aliases, [namespace] if namespace else [], definition)
    if terms == 0:
        raise CorruptOntologyError(str(path), "no [Term] stanzas")
