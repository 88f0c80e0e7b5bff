"""The `annotate.study` job: proposals with provenance, concepts and attributes; re-running replaces only
unreviewed machine proposals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.annotators.test_text_pipeline import TEST_CONFIG, load_test_pipeline


@pytest.fixture
def text_pipeline(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    load_test_pipeline(tmp_path_factory.getbasetemp() / "hilum-text-cache")
    monkeypatch.setenv("HILUM_TEXT_PIPELINE", str(TEST_CONFIG))


def _run(app: Any, study_id: int, user_id: int | None = None) -> dict[str, Any]:
    from server import jobs
    from server.text_jobs import start_for_study

    with app.app_context():
        job = start_for_study(study_id, user_id)
        done = jobs.wait(job.id, timeout=120)
    assert done.status.value == "succeeded", done.message
    return done.result


def _spans(client: Any, study_id: int, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/studies/{study_id}/annotations?kind=span&per_page=200", headers=headers)
    return r.json["items"]


def test_job_stores_proposals_with_concepts_and_attributes(app, client, study, admin_headers, text_pipeline):
    result = _run(app, study["id"])
    assert result["documents"] == 1 and result["spans"] > 0
    found = {a["text"]: a for a in _spans(client, study["id"], admin_headers)}
    nodule = found["nodule"]
    assert nodule["status"] == "proposed" and nodule["label"] == "FINDING" and "@" in nodule["source"]
    assert nodule["attributes"]["measurement_mm"] == [23.0]
    assert nodule["attributes"]["laterality"] == "right"
    assert nodule["attributes"]["section"] == "findings"
    assert nodule["concepts"][0] == {"ontology": "radiology", "id": "RAD:pulmonary_nodule",
                                     "name": "pulmonary nodule", "score": 1.0}  # fmt: skip
    assert found["pleural effusion"]["attributes"]["assertion"] == "negated"


def test_rerun_replaces_only_unreviewed_proposals(app, client, study, admin_headers, text_pipeline):
    _run(app, study["id"])
    spans = {a["text"]: a for a in _spans(client, study["id"], admin_headers)}
    accepted, rejected = spans["nodule"], spans["pleural effusion"]
    for ann, status in ((accepted, "accepted"), (rejected, "rejected")):
        r = client.patch(f"/api/v1/annotations/{ann['id']}", headers=admin_headers,
                         json={"status": status, "version": ann["version"]})  # fmt: skip
        assert r.status_code == 200, r.json
    document_id = accepted["document_id"]
    mine = client.post(f"/api/v1/studies/{study['id']}/annotations", headers=admin_headers, json={
        "kind": "span", "label": "FINDING", "document_id": document_id, "start": 0, "end": 8})  # fmt: skip
    assert mine.status_code == 201, mine.json
    before = _spans(client, study["id"], admin_headers)

    result = _run(app, study["id"])

    after = _spans(client, study["id"], admin_headers)
    by_id = {a["id"]: a for a in after}
    assert by_id[accepted["id"]]["status"] == "accepted"
    assert by_id[rejected["id"]]["status"] == "rejected"
    assert mine.json["id"] in by_id
    assert len(after) == len(before)  # nothing proposed twice, no decided span proposed again
    assert result["replaced"] == len(before) - 3
    keys = [(a["start"], a["end"], a["label"]) for a in after]
    assert len(keys) == len(set(keys))


def test_missing_study_is_an_error(app, text_pipeline):
    from server.text_jobs import start_for_study

    with app.app_context(), pytest.raises(LookupError):
        start_for_study(999_999, None)
