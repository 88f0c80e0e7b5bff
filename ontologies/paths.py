"""Where built knowledge bases and user-imported ontologies live on disk.

- Built knowledge bases (re-creatable): `$HILUM_CACHE_DIR/ontologies`, default `~/.cache/hilum/ontologies`.
- Ontologies a user imported (their licensed source files, not re-creatable): `$HILUM_DATA_DIR/ontologies`,
  default `~/.local/share/hilum/ontologies`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_dir() -> Path:
    """The folder holding one sub-folder per built knowledge base."""
    root = os.environ.get("HILUM_CACHE_DIR") or str(Path.home() / ".cache" / "hilum")
    return Path(root).expanduser() / "ontologies"


def user_dir() -> Path:
    """The folder holding one sub-folder per user-imported ontology."""
    root = os.environ.get("HILUM_DATA_DIR") or str(Path.home() / ".local" / "share" / "hilum")
    return Path(root).expanduser() / "ontologies"


def file_digest(*paths: Path) -> str:
    """SHA-256 over the bytes of the given files, in order: the content hash that decides a rebuild."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
