"""Ontologies users bring under their own licence: import (validate + copy + manifest) and a loader for them.

An imported ontology is a folder `user_dir()/NAME/` holding the source file(s) and `manifest.json`:
`{"kind", "name", "version", "licence", "source", "files", "options", "concept_count"}`.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ontologies.concept import Concept, CorruptOntologyError, Ontology, OntologyError
from ontologies.obo import parse_obo, read_obo_version
from ontologies.owl import parse_owl, read_owl_version
from ontologies.paths import file_digest, user_dir
from ontologies.umls import parse_mrconso, read_semantic_types

KINDS = ("umls", "obo", "owl")
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
MANIFEST = "manifest.json"


def _umls_files(path: Path, mrsty: Path | None) -> list[Path]:
    """[MRCONSO] or [MRCONSO, MRSTY] from a file path or a META folder."""
    if path.is_dir():
        mrconso, found = path / "MRCONSO.RRF", path / "MRSTY.RRF"
        if not mrconso.is_file():
            raise OntologyError(f"{path} has no MRCONSO.RRF")
        mrsty = mrsty or (found if found.is_file() else None)
        path = mrconso
    return [path] + ([mrsty] if mrsty else [])


def _concepts(kind: str, files: list[Path], options: dict[str, Any]) -> Iterator[Concept]:
    if kind == "umls":
        types = read_semantic_types(files[1]) if len(files) > 1 else {}
        return parse_mrconso(
            files[0],
            semantic_types=types,
            languages=options.get("languages", ["ENG"]),
            sources=options.get("sources", []),
        )
    if kind == "obo":
        return parse_obo(files[0])
    if kind == "owl":
        return parse_owl(files[0], language=options.get("language", "en"))
    raise OntologyError(f"unknown import kind {kind!r}; valid kinds: {', '.join(KINDS)}")


def _source_version(kind: str, path: Path) -> str | None:
    readers: dict[str, Callable[[Path], str | None]] = {"obo": read_obo_version, "owl": read_owl_version}
    return readers[kind](path) if kind in readers else None


def import_ontology(
    kind: str,
    path: Path,
    name: str,
    *,
    licence: str = "user-supplied (see the source's licence)",
    version: str | None = None,
    options: dict[str, Any] | None = None,
    mrsty: Path | None = None,
    reserved: tuple[str, ...] = (),
    overwrite: bool = False,
) -> Ontology:
    """Validate a source by reading it whole, then copy it into `user_dir()/name` with a manifest.

    Raises `OntologyError` (or `CorruptOntologyError`) before anything is written when the name is taken or
    invalid, the kind is unknown, or the file cannot be read.
    """
    if kind not in KINDS:
        raise OntologyError(f"unknown import kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    if not NAME_PATTERN.match(name):
        raise OntologyError(f"invalid ontology name {name!r}: use lowercase letters, digits, '-' and '_'")
    if name in reserved:
        raise OntologyError(f"{name!r} is the name of a built-in ontology; choose another name")
    target = user_dir() / name
    if target.exists() and not overwrite:
        raise OntologyError(f"an ontology named {name!r} is already imported (use --force to replace it)")
    if not path.exists():
        raise OntologyError(f"{path} does not exist")
    files = _umls_files(path, mrsty) if kind == "umls" else [path]
    options = dict(options or {})
    count = sum(1 for _ in _concepts(kind, files, options))
    if count == 0:
        raise CorruptOntologyError(str(path), "no concepts left after filtering")
    staging = target.with_name(f".{name}.importing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for file in files:
        shutil.copyfile(file, staging / file.name)
    manifest = {
        "kind": kind,
        "name": name,
        "version": version or _source_version(kind, files[0]) or "unversioned",
        "licence": licence,
        "source": str(path),
        "files": [file.name for file in files],
        "options": options,
        "concept_count": count,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return UserOntologyLoader(target).describe()


class UserOntologyLoader:
    """Loader for one imported ontology folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name

    def _manifest(self) -> dict[str, Any]:
        path = self.folder / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptOntologyError(str(path), f"unreadable manifest ({exc})") from exc
        if not isinstance(manifest, dict) or manifest.get("kind") not in KINDS or not manifest.get("files"):
            raise CorruptOntologyError(str(path), "manifest lacks a valid 'kind' or 'files'")
        return manifest

    def _files(self) -> list[Path]:
        return [self.folder / name for name in self._manifest()["files"]]

    def describe(self) -> Ontology:
        """Name, version and licence as recorded at import."""
        manifest = self._manifest()
        return Ontology(
            self.name,
            str(manifest.get("version", "unversioned")),
            str(manifest.get("licence", "user-supplied")),
            f"imported {manifest['kind']} from {manifest.get('source', '?')}",
            self.name,
        )

    def fingerprint(self) -> str:
        """Hash of the copied source files and the import options."""
        options = json.dumps(self._manifest().get("options", {}), sort_keys=True)
        return f"{file_digest(*self._files())}:{options}"

    def concepts(self) -> Iterator[Concept]:
        """The concepts of the source, parsed with the options recorded at import."""
        manifest = self._manifest()
        return _concepts(manifest["kind"], self._files(), manifest.get("options", {}))


def user_loaders() -> dict[str, Callable[[], UserOntologyLoader]]:
    """name → loader factory for every imported ontology folder (those with a manifest)."""
    root = user_dir()
    if not root.is_dir():
        return {}
    found: dict[str, Callable[[], UserOntologyLoader]] = {}
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and (folder / MANIFEST).is_file() and NAME_PATTERN.match(folder.name):
            found[folder.name] = lambda folder=folder: UserOntologyLoader(folder)  # type: ignore[misc]
    return found
