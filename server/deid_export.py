"""De-identification of the native export: report text through the text de-identification engine (surrogates
keyed by the project secret and the study's patient key, so the same person gets the same surrogate in every
document), identifiers replaced by keyed pseudonyms, and span offsets moved to match the rewritten text."""

from __future__ import annotations

import bisect
import hashlib
import hmac
from typing import Any

from server.models import Project

PSEUDONYMISED_UIDS = ("study_instance_uid", "series_instance_uid", "sop_instance_uid")


class OffsetMap:
    """Maps character offsets of the original text onto the rewritten text."""

    def __init__(self, replacements: list[tuple[int, int, int]]):
        # (start, end, new_length), sorted, non-overlapping
        self.starts = [r[0] for r in replacements]
        self.reps = replacements
        self.shift: list[int] = []
        total = 0
        for start, end, new_len in replacements:
            total += new_len - (end - start)
            self.shift.append(total)

    def _map(self, pos: int, *, is_end: bool) -> int:
        # replacements that begin before `pos` (for an end: strictly before, so an end at a boundary stays put)
        i = (bisect.bisect_left if is_end else bisect.bisect_right)(self.starts, pos) - 1
        if i < 0:
            return pos
        start, end, new_len = self.reps[i]
        before = self.shift[i - 1] if i > 0 else 0
        if start <= pos < end or (is_end and start < pos <= end):  # inside a replaced stretch: snap to its edge
            return start + before + (new_len if is_end else 0)
        return pos + self.shift[i]

    def start(self, pos: int) -> int:
        return self._map(pos, is_end=False)

    def end(self, pos: int) -> int:
        return self._map(pos, is_end=True)


class ExportDeidentifier:
    """Applied to every export record in order (studies, documents, then annotations)."""

    def __init__(self, project: Project, *, mode: str = "surrogate", session: Any = None):
        from annotators import deid
        from annotators.deid.surrogates import surrogate

        self.deid = deid
        self.surrogate = surrogate
        self.secret = project.secret
        self.mode = mode
        self.patient_keys: dict[int, str] = {}
        self.maps: dict[int, tuple[OffsetMap, str]] = {}
        self.session = session
        self.applied: dict[str, int] = {}  # label -> replacements written
        self.live_documents = 0  # documents never reviewed, analysed during the export

    def _pseudonym(self, kind: str, value: str | None) -> str | None:
        if not value:
            return value
        digest = hmac.new(self.secret.encode(), f"{kind}\x1f{value}".encode(), hashlib.sha256).digest()
        if kind.endswith("uid"):
            return "2.25." + str(int.from_bytes(digest[:16], "big"))
        return digest.hex()[:16].upper()

    def _spans(self, document_id: int, text: str) -> list[Any]:
        """The reviewed findings of the document (all but rejected); the engine's, live, if it has none."""
        if self.session is not None:
            from server.phi import stored_findings

            stored = stored_findings(self.session, document_id)
            if stored is not None:
                return _merge(stored)
        self.live_documents += 1
        return self.deid.analyze(text)

    def _text(self, document_id: int, text: str, patient_key: str) -> tuple[str, OffsetMap]:
        out, reps, pos = [], [], 0
        for span in sorted(self._spans(document_id, text), key=lambda s: s.start):
            value = text[span.start : span.end]
            if self.mode == "tag":
                new = f"[{span.label}]"
            else:
                new = self.surrogate(value, span.label, secret=self.secret, patient_key=patient_key)
            self.applied[span.label] = self.applied.get(span.label, 0) + 1
            out.append(text[pos : span.start])
            out.append(new)
            reps.append((span.start, span.end, len(new)))
            pos = span.end
        out.append(text[pos:])
        return "".join(out), OffsetMap(reps)

    def __call__(self, rec: dict[str, Any]) -> dict[str, Any]:
        kind = rec["type"]
        if kind == "study":
            self.patient_keys[rec["id"]] = rec.get("patient_key") or f"study-{rec['id']}"
            rec["accession_number"] = self._pseudonym("accession", rec.get("accession_number"))
            rec["study_instance_uid"] = self._pseudonym("study_instance_uid", rec.get("study_instance_uid"))
            rec["description"] = None
            for series in rec.get("series") or []:
                series["series_instance_uid"] = self._pseudonym("series_instance_uid", series["series_instance_uid"])
                series["description"] = None
                for inst in series.get("instances") or []:
                    inst["sop_instance_uid"] = self._pseudonym("sop_instance_uid", inst["sop_instance_uid"])
                    inst["sha256"] = None  # the original still carries its headers
        elif kind == "document":
            text, offsets = self._text(rec["id"], rec["text"], self.patient_keys.get(rec["study_id"], ""))
            self.maps[rec["id"]] = (offsets, text)
            rec["text"], rec["length"], rec["words"] = text, len(text), None
        elif kind == "annotation" and rec.get("kind") == "span" and rec.get("document_id") in self.maps:
            offsets, text = self.maps[rec["document_id"]]
            rec["start"], rec["end"] = offsets.start(rec["start"]), offsets.end(rec["end"])
            rec["text"] = text[rec["start"] : rec["end"]]
        elif kind == "recording":
            rec["sha256"] = None
        rec.setdefault("deidentified", True)
        return rec


def _merge(findings: list[Any]) -> list[Any]:
    """Overlapping findings (an engine span and a person's correction, say) merged into one replacement."""
    from types import SimpleNamespace

    merged: list[Any] = []
    for f in sorted(findings, key=lambda a: (a.start, -a.end)):
        if merged and f.start < merged[-1].end:
            merged[-1].end = max(merged[-1].end, f.end)
            continue
        merged.append(SimpleNamespace(start=f.start, end=f.end, label=f.label))
    return merged
