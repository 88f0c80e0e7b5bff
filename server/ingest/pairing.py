"""How reports, audio and plain images find their study: explicit fields, a manifest (CSV or JSON), a sidecar
JSON next to the file, or a file name equal to an AccessionNumber already in the project."""

from __future__ import annotations

import csv
import io
import json
import posixpath
from dataclasses import dataclass
from typing import Any

from server.errors import ValidationError

KEY_ALIASES = {
    "accession_number": "accession_number",
    "accessionnumber": "accession_number",
    "accession": "accession_number",
    "study_instance_uid": "study_uid",
    "studyinstanceuid": "study_uid",
    "study_uid": "study_uid",
    "kind": "kind",
    "file": "file",
    "filename": "file",
    "path": "file",
}


@dataclass(frozen=True)
class PairingKey:
    """Keys that identify a study. `by` says where they came from."""

    accession_number: str | None = None
    study_uid: str | None = None
    kind: str | None = None
    by: str = "explicit"

    def __bool__(self) -> bool:
        return bool(self.accession_number or self.study_uid)


def _normalise(row: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in row.items():
        canon = KEY_ALIASES.get(str(key).strip().lower().replace(" ", "_").replace("-", "_"))
        if canon and value not in (None, ""):
            out[canon] = str(value).strip()
    return out


def is_manifest(name: str) -> bool:
    base = posixpath.basename(name).lower()
    return base.startswith("manifest") and base.endswith((".csv", ".json"))


def parse_manifest(name: str, data: bytes) -> dict[str, PairingKey]:
    """File name (as listed, and its basename) → keys. Raises ValidationError for an unreadable manifest."""
    try:
        text = data.decode("utf-8-sig")
        if name.lower().endswith(".json"):
            rows = json.loads(text)
            if isinstance(rows, dict):
                rows = rows.get("files", [])
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError('a JSON manifest is a list of objects (or {"files": [...]})')
        else:
            rows = list(csv.DictReader(io.StringIO(text)))
    except (UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise ValidationError(f"unreadable manifest: {exc}", code="invalid_manifest") from exc
    mapping: dict[str, PairingKey] = {}
    for row in rows:
        r = _normalise(row)
        if "file" not in r:
            raise ValidationError("every manifest row needs a file column", code="invalid_manifest")
        key = PairingKey(r.get("accession_number"), r.get("study_uid"), r.get("kind"), by="manifest")
        mapping[r["file"]] = key
        mapping.setdefault(posixpath.basename(r["file"]), key)
    return mapping


def parse_sidecar(data: bytes) -> PairingKey | None:
    """A `<name>.json` next to a report/audio/image: {"accession_number": ..., "study_instance_uid": ...}."""
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(obj, dict):
        return None
    r = _normalise(obj)
    key = PairingKey(r.get("accession_number"), r.get("study_uid"), r.get("kind"), by="sidecar")
    return key or None


def sidecar_names(name: str) -> list[str]:
    """Names a sidecar of `name` may have: `report.txt.json` or `report.json`."""
    stem, _ext = posixpath.splitext(name)
    return [name + ".json", stem + ".json"]
