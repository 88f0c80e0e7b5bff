"""Spans, regions, links; validation; optimistic concurrency."""

from __future__ import annotations

import pytest


def _ids(study):
    return (study["id"], study["documents"][0]["id"], study["series"][0]["instances"][0]["id"])


def _post(client, headers, study_id, body):
    return client.post(f"/api/v1/studies/{study_id}/annotations", headers=headers, json=body)


def test_span_region_link_roundtrip(client, study, admin_headers):
    sid, doc, inst = _ids(study)
    span = _post(client, admin_headers, sid, {"kind": "span", "label": "FINDING", "document_id": doc,
                                              "start": 10, "end": 34,
                                              "concepts": [{"ontology": "mesh", "id": "D055613",
                                                            "name": "Solitary Pulmonary Nodule", "score": 0.91}],
                                              "attributes": {"assertion": "present"}})
    assert span.status_code == 201, span.json
    assert span.json["text"] == "2.3 cm spiculated nodule"
    assert span.json["status"] == "accepted" and span.json["source"] == "user:root"
    region = _post(client, admin_headers, sid, {"kind": "region", "label": "FINDING", "instance_id": inst,
                                                "frame": 0, "geometry": {"type": "box",
                                                                         "points": [[10, 12], [40, 50]]}})
    assert region.status_code == 201, region.json
    link = _post(client, admin_headers, sid, {"kind": "link", "label": "shows", "source_id": span.json["id"],
                                              "target_id": region.json["id"]})
    assert link.status_code == 201, link.json
    listed = client.get(f"/api/v1/studies/{sid}/annotations?kind=link", headers=admin_headers).json
    assert [a["id"] for a in listed["items"]] == [link.json["id"]]
    # deleting the span takes its link with it
    r = client.delete(f"/api/v1/annotations/{span.json['id']}?version=1", headers=admin_headers)
    assert r.status_code == 200
    assert client.get(f"/api/v1/annotations/{link.json['id']}", headers=admin_headers).status_code == 404


def test_machine_proposal_then_human_edit(client, study, admin_headers):
    sid, doc, _ = _ids(study)
    ann = _post(client, admin_headers, sid, {"kind": "span", "label": "FINDING", "document_id": doc, "start": 0,
                                             "end": 8, "source": "hilum_ner@0.1.0"}).json
    assert ann["status"] == "proposed" and ann["source"] == "hilum_ner@0.1.0"
    edited = client.patch(f"/api/v1/annotations/{ann['id']}", headers=admin_headers,
                          json={"version": 1, "end": 9}).json
    assert edited["status"] == "edited" and edited["version"] == 2 and edited["end"] == 9
    accepted = client.patch(f"/api/v1/annotations/{ann['id']}", headers=admin_headers,
                            json={"version": 2, "status": "accepted"}).json
    assert accepted["status"] == "accepted" and accepted["version"] == 3


def test_stale_version_gets_409_with_current(client, study, admin_headers, make):
    sid, doc, _ = _ids(study)
    ann = _post(client, admin_headers, sid, {"kind": "span", "label": "FINDING", "document_id": doc, "start": 0,
                                             "end": 8}).json
    first = client.patch(f"/api/v1/annotations/{ann['id']}", headers=admin_headers,
                         json={"version": 1, "label": "ANATOMY"})
    assert first.status_code == 200
    second = client.patch(f"/api/v1/annotations/{ann['id']}", headers=admin_headers,
                          json={"version": 1, "label": "DEVICE"})
    assert second.status_code == 409 and second.json["error"] == "version_conflict"
    assert second.json["current"]["label"] == "ANATOMY" and second.json["current"]["version"] == 2
    stale_delete = client.delete(f"/api/v1/annotations/{ann['id']}?version=1", headers=admin_headers)
    assert stale_delete.status_code == 409


def test_concurrent_saves_one_wins(app, client, study, admin_headers):
    from concurrent.futures import ThreadPoolExecutor

    sid, doc, _ = _ids(study)
    ann = _post(client, admin_headers, sid, {"kind": "span", "label": "FINDING", "document_id": doc, "start": 0,
                                             "end": 8}).json

    def save(label):
        with app.test_client() as c:
            return c.patch(f"/api/v1/annotations/{ann['id']}", headers=admin_headers,
                           json={"version": 1, "label": label}).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(save, ["ANATOMY", "DEVICE", "CHEMICAL", "PROCEDURE"]))
    assert codes.count(200) == 1 and codes.count(409) == 3


@pytest.mark.parametrize("body, field", [
    ({"kind": "blob", "label": "FINDING"}, "kind"),
    ({"kind": "span", "label": "NOT_IN_SCHEMA", "start": 0, "end": 3}, "label"),
    ({"kind": "span", "label": "FINDING", "start": 5, "end": 2}, "start"),
    ({"kind": "span", "label": "FINDING", "start": 0, "end": 100000}, "start"),
    ({"kind": "span", "label": "FINDING", "start": "0", "end": 3}, "start"),
    ({"kind": "region", "label": "FINDING", "frame": 3, "geometry": {"type": "box", "points": [[0, 0], [1, 1]]}},
     "frame"),
    ({"kind": "region", "label": "FINDING", "geometry": {"type": "box", "points": [[0, 0]]}}, "geometry"),
    ({"kind": "region", "label": "FINDING", "geometry": {"type": "point", "points": [[900, 900]]}}, "geometry"),
    ({"kind": "region", "label": "FINDING", "geometry": {"type": "mask", "rle": [1, 2]}}, "geometry"),
    ({"kind": "link", "label": "shows", "source_id": 999999, "target_id": 1}, "source_id"),
    ({"kind": "span", "label": "FINDING", "start": 0, "end": 3, "concepts": ["D001"]}, "concepts"),
    ({"kind": "span", "label": "FINDING", "start": 0, "end": 3, "source": "someone-else"}, "source"),
])
def test_invalid_annotations_are_refused(client, study, admin_headers, body, field):
    sid, doc, inst = _ids(study)
    body = dict(body)
    if body["kind"] == "span":
        body["document_id"] = doc
    if body["kind"] == "region":
        body["instance_id"] = inst
    r = _post(client, admin_headers, sid, body)
    assert r.status_code == 400, r.json
    assert r.json.get("field") == field or r.json["error"] == "unknown_label", r.json


def test_missing_fields(client, study, admin_headers):
    r = _post(client, admin_headers, study["id"], {"label": "FINDING"})
    assert r.status_code == 400 and r.json["error"] == "missing_field" and r.json["fields"] == ["kind"]


def test_mask_region(client, study, admin_headers):
    sid, _, inst = _ids(study)
    rle = [100, 20, 128 * 128 - 120]
    r = _post(client, admin_headers, sid, {"kind": "region", "label": "FINDING", "instance_id": inst,
                                           "geometry": {"type": "mask", "rle": rle}})
    assert r.status_code == 201 and r.json["geometry"]["rle"] == rle


def test_annotator_can_write_privacy_officer_cannot(client, study, make, project):
    annie, paula = make.user("annie"), make.user("paula")
    make.member(project, annie, "annotator")
    make.member(project, paula, "privacy_officer")
    sid, doc, _ = _ids(study)
    body = {"kind": "span", "label": "FINDING", "document_id": doc, "start": 0, "end": 4}
    assert _post(client, make.headers(annie), sid, body).status_code == 201
    denied = _post(client, make.headers(paula), sid, body)
    assert denied.status_code == 403 and denied.json["error"] == "forbidden"


def test_text_pipeline_job_proposes_spans(app, client, study, admin_headers):
    from server import jobs

    r = client.post(f"/api/v1/studies/{study['id']}/annotate", headers=admin_headers)
    assert r.status_code == 202, r.json
    with app.app_context():
        job = jobs.wait(r.json["job"]["id"], timeout=300)
    assert job.status.value == "succeeded", job.message
    spans = client.get(f"/api/v1/studies/{study['id']}/annotations?per_page=200", headers=admin_headers).json["items"]
    assert spans and all(s["status"] == "proposed" and "@" in s["source"] for s in spans)
    assert any(s["label"] == "FINDING" and "nodule" in s["text"] for s in spans)
