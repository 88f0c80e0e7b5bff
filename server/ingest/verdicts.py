"""What an ingest answers: a verdict per file and the batch summary; the error a bad file raises; report text
decoding (the one piece of file reading that is not an engine's)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from server.errors import HilumError


@dataclass
class FileResult:
    """The verdict on one file."""

    file: str
    status: str  # stored | duplicate | skipped | error
    kind: str | None = None
    code: str | None = None
    reason: str | None = None
    study_id: int | None = None
    paired_by: str | None = None
    recording_id: int | None = None
    job_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class IngestError(HilumError):
    status, code = 422, "invalid_file"


def decode_text(data: bytes) -> str:
    """Report bytes → text: UTF-8 (BOM tolerated), UTF-16 with BOM, else Windows-1252. Binary is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        if b"\x00" in data:
            raise IngestError("the file is binary, not text", code="not_text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise IngestError("the report is empty", code="empty_text")
    return text.replace("\r\n", "\n")


def summarize(results: list[FileResult]) -> dict[str, Any]:
    """The batch answer: per-file verdicts and counts (`stored`, `duplicates`, `skipped`, `errors`)."""
    count = {k: sum(1 for r in results if r.status == k) for k in ("stored", "duplicate", "skipped", "error")}
    return {
        "files": [r.as_dict() for r in results],
        "stored": count["stored"],
        "duplicates": count["duplicate"],
        "skipped": count["skipped"],
        "errors": count["error"],
    }
