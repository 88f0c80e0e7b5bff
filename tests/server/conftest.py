"""Server-test helpers: a project with a study, uploads."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.conftest import dicom_bytes


def upload(client: Any, project_id: int, headers: dict[str, str], *files: tuple[str, bytes],
           **fields: str) -> Any:
    data: dict[str, Any] = dict(fields)
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/api/v1/projects/{project_id}/uploads", data=data, headers=headers,
                       content_type="multipart/form-data")


@pytest.fixture
def project(make: Any) -> Any:
    return make.project("chest")


@pytest.fixture
def study(client: Any, project: Any, admin_headers: dict[str, str]) -> dict[str, Any]:
    """A CT study with a paired report; returns the study detail JSON."""
    r = upload(client, project.id, admin_headers, ("ct.dcm", dicom_bytes("CT_small.dcm")))
    assert r.status_code == 201, r.json
    study_id = r.json["files"][0]["study_id"]
    report = b"FINDINGS: 2.3 cm spiculated nodule in the right upper lobe. No pleural effusion.\n"
    uid = client.get(f"/api/v1/studies/{study_id}", headers=admin_headers).json["study_instance_uid"]
    r = upload(client, project.id, admin_headers, ("report.txt", report), study_instance_uid=uid)
    assert r.status_code == 201, r.json
    return client.get(f"/api/v1/studies/{study_id}", headers=admin_headers).json
