"""The `transcribe.recording` job: an uploaded recording becomes a transcript document of its study, with word
timings, provenance and an audit event (real faster-whisper tiny.en on a committed espeak-ng fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.server.conftest import upload

DICTATION = Path(__file__).resolve().parent.parent / "fixtures" / "audio" / "dictation.ogg"


def _recording(client: Any, project: Any, headers: dict[str, str]) -> tuple[int, int]:
    r = upload(client, project.id, headers, ("dictation.ogg", DICTATION.read_bytes()), accession_number="ACC-T1")
    assert r.status_code == 201, r.json
    study_id = r.json["files"][0]["study_id"]
    study = client.get(f"/api/v1/studies/{study_id}", headers=headers).json
    return study_id, study["recordings"][0]["id"]


def test_recording_becomes_a_transcript_document(app: Any, client: Any, make: Any,
                                                 admin_headers: dict[str, str]) -> None:
    from server import db, jobs
    from server.models import AuditEvent, Document, DocumentKind, JobStatus
    from server.transcription_jobs import start_for_recording

    project = make.project("dictations")
    study_id, recording_id = _recording(client, project, admin_headers)
    with app.app_context():
        job = start_for_recording(recording_id, user_id=None, actor="tester")
        done = jobs.wait(job.id, timeout=240)
        assert done.status is JobStatus.SUCCEEDED, done.message
        with db.new_session() as s:
            doc = s.get(Document, done.result["document_id"])
            assert doc is not None
            assert (doc.kind, doc.study_id, doc.recording_id) == (DocumentKind.TRANSCRIPT, study_id, recording_id)
            assert doc.source == "faster-whisper@tiny.en" and doc.version >= 1
            assert "upper lobe" in doc.text
            words = doc.words or []
            assert words and set(words[0]) >= {"start", "end", "word", "prob"}
            assert [w["start"] for w in words] == sorted(w["start"] for w in words)
            for word in words:  # a corrected word keeps what it replaced, so it can be undone
                if "original" in word:
                    assert word["rule"] and word["original"][0]["start"] == word["start"]
            events = s.execute(select(AuditEvent).where(AuditEvent.action == "transcribe")).scalars().all()
            assert [(e.actor, e.target_id) for e in events][-1:] == [("tester", str(recording_id))]
    listed = client.get(f"/api/v1/studies/{study_id}", headers=admin_headers).json["documents"]
    assert any(d["kind"] == "transcript" for d in listed)


def test_missing_recording(app: Any) -> None:
    from server.transcription_jobs import start_for_recording

    with app.app_context(), pytest.raises(LookupError):
        start_for_recording(999_999, user_id=None)
