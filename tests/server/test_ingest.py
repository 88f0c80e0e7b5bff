"""Ingest over the API: every supported kind, pairing, idempotency, and every kind of bad input."""

from __future__ import annotations

import hashlib
import io
import os
import wave
import zipfile

import pytest
from pydicom.data import get_testdata_file

from tests.conftest import dicom_bytes
from tests.server.conftest import upload


def _wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(seconds * rate))
    return out.getvalue()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (32, 24), 128).save(out, format="PNG")
    return out.getvalue()


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _studies(client, project, headers):
    return client.get(f"/api/v1/projects/{project.id}/studies", headers=headers).json


def test_dicom_upload_creates_study_series_instance(client, project, admin_headers):
    r = upload(client, project.id, admin_headers, ("a/ct.dcm", dicom_bytes("CT_small.dcm")))
    assert r.status_code == 201
    assert r.json["stored"] == 1 and r.json["files"][0]["kind"] == "dicom"
    detail = client.get(f"/api/v1/studies/{r.json['files'][0]['study_id']}", headers=admin_headers).json
    assert detail["modality"] == "CT" and detail["patient_key"] and len(detail["patient_key"]) == 24
    inst = detail["series"][0]["instances"][0]
    assert (inst["rows"], inst["columns"], inst["frame_count"]) == (128, 128, 1)
    assert inst["pixel_spacing"] and inst["sha256"]


def test_reimport_is_idempotent(client, project, admin_headers):
    data = dicom_bytes("MR_small.dcm")
    assert upload(client, project.id, admin_headers, ("mr.dcm", data)).json["stored"] == 1
    again = upload(client, project.id, admin_headers, ("other-name.dcm", data))
    assert again.status_code == 200 and again.json["duplicates"] == 1 and again.json["stored"] == 0
    assert _studies(client, project, admin_headers)["total"] == 1


def test_original_bytes_are_kept_exactly(client, project, admin_headers):
    data = dicom_bytes("CT_small.dcm")
    r = upload(client, project.id, admin_headers, ("ct.dcm", data))
    detail = client.get(f"/api/v1/studies/{r.json['files'][0]['study_id']}", headers=admin_headers).json
    inst_id = detail["series"][0]["instances"][0]["id"]
    with client.get(f"/api/v1/instances/{inst_id}/file", headers=admin_headers) as r:
        assert r.data == data


def test_zip_with_several_series_and_multiframe(client, project, admin_headers):
    archive = _zip({"s/ct.dcm": dicom_bytes("CT_small.dcm"), "s/mr.dcm": dicom_bytes("MR_small.dcm"),
                    "s/us.dcm": dicom_bytes("examples_ybr_color.dcm")})
    r = upload(client, project.id, admin_headers, ("batch.zip", archive))
    assert r.status_code == 201, r.json
    assert r.json["stored"] == 4  # the archive itself + three instances
    frames = []
    for s in _studies(client, project, admin_headers)["items"]:
        detail = client.get(f"/api/v1/studies/{s['id']}", headers=admin_headers).json
        frames += [i["frame_count"] for se in detail["series"] for i in se["instances"]]
    assert sorted(frames) == [1, 1, 30]


def test_dicomdir_tree_imports_images_and_skips_the_index(client, project, admin_headers):
    root = os.path.join(os.path.dirname(get_testdata_file("CT_small.dcm", download=False)), "dicomdirtests")
    members = {}
    for dirpath, _dirs, files in os.walk(root):
        for fn in files:
            path = os.path.join(dirpath, fn)
            with open(path, "rb") as f:
                members[os.path.relpath(path, root)] = f.read()
    r = upload(client, project.id, admin_headers, ("tree.zip", _zip(members)))
    assert r.status_code == 201, r.json
    kinds = [f.get("kind") for f in r.json["files"]]
    assert "dicomdir" in kinds
    assert r.json["stored"] >= 10
    assert _studies(client, project, admin_headers)["total"] >= 2


def test_report_paired_by_accession_field_then_images_arrive(client, project, admin_headers):
    r = upload(client, project.id, admin_headers, ("r.txt", b"No acute findings."), accession_number="ACC-1")
    assert r.status_code == 201 and r.json["files"][0]["paired_by"] == "explicit"
    study_id = r.json["files"][0]["study_id"]
    detail = client.get(f"/api/v1/studies/{study_id}", headers=admin_headers).json
    assert detail["accession_number"] == "ACC-1" and len(detail["documents"]) == 1


def test_report_and_audio_paired_by_manifest_and_sidecar(client, project, admin_headers):
    ct = dicom_bytes("CT_small.dcm")
    import pydicom

    uid = pydicom.dcmread(io.BytesIO(ct)).StudyInstanceUID
    manifest = f"file,study_instance_uid\nreport.txt,{uid}\n".encode()
    r = upload(client, project.id, admin_headers, ("ct.dcm", ct), ("manifest.csv", manifest),
               ("report.txt", b"Lungs are clear."), ("dictation.wav", _wav()),
               ("dictation.json", f'{{"study_instance_uid": "{uid}"}}'.encode()))
    assert r.status_code == 201, r.json
    by_file = {f["file"]: f for f in r.json["files"]}
    assert by_file["report.txt"]["paired_by"] == "manifest"
    assert by_file["dictation.wav"]["paired_by"] == "sidecar"
    assert by_file["dictation.json"]["status"] == "skipped"
    study_ids = {by_file[n]["study_id"] for n in ("ct.dcm", "report.txt", "dictation.wav")}
    assert len(study_ids) == 1
    detail = client.get(f"/api/v1/studies/{study_ids.pop()}", headers=admin_headers).json
    assert detail["recordings"][0]["duration"] == pytest.approx(0.5, abs=0.01)
    doc = client.get(f"/api/v1/documents/{detail['documents'][0]['id']}", headers=admin_headers).json
    assert doc["text"] == "Lungs are clear."


def test_png_without_pairing_becomes_its_own_study(client, project, admin_headers):
    r = upload(client, project.id, admin_headers, ("xray.png", _png()))
    assert r.status_code == 201 and r.json["files"][0]["kind"] == "image"
    detail = client.get(f"/api/v1/studies/{r.json['files'][0]['study_id']}", headers=admin_headers).json
    inst = detail["series"][0]["instances"][0]
    assert (inst["columns"], inst["rows"], inst["media_type"]) == (32, 24, "image/png")
    png = client.get(f"/api/v1/instances/{inst['id']}/frames/0.png", headers=admin_headers)
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")


def test_raw_body_upload(client, project, admin_headers):
    r = client.post(f"/api/v1/projects/{project.id}/uploads?filename=ct.dcm", data=dicom_bytes(),
                    headers={**admin_headers, "Content-Type": "application/octet-stream"})
    assert r.status_code == 201 and r.json["stored"] == 1


# ------------------------------------------------------------------ bad input: 4xx, error shape, nothing lost

def _truncated() -> bytes:
    return dicom_bytes("CT_small.dcm")[:3000]


@pytest.mark.parametrize("name, content, code", [
    ("bad.dcm", b"this is not dicom at all" * 10, "not_dicom"),
    ("truncated.dcm", _truncated(), "malformed_dicom"),
    ("png-named.dcm", _png(), "not_dicom"),
    ("voice.wav", b"RIFF....not really audio" * 20, "not_audio"),
    ("voice.mp3", b"\x00" * 400, "not_audio"),
    ("empty.txt", b"", "empty_file"),
    ("binary.txt", b"\x00\x01\x02garbage", "not_text"),
    ("orphan.txt", b"Report without any pairing key", "unpaired"),
    ("fake.zip", b"not a zip", "invalid_archive"),
    ("../../etc/passwd.dcm", dicom_bytes("CT_small.dcm"), "invalid_filename"),
    ("/abs/path.dcm", dicom_bytes("CT_small.dcm"), "invalid_filename"),
])
def test_bad_file_gets_4xx_with_error_shape(client, project, admin_headers, name, content, code):
    before = upload(client, project.id, admin_headers, ("keep.dcm", dicom_bytes("MR_small.dcm")))
    assert before.status_code == 201
    r = upload(client, project.id, admin_headers, (name, content))
    assert 400 <= r.status_code < 500
    assert r.json["error"] == code and r.json["message"]
    assert "Traceback" not in r.get_data(as_text=True)
    # nothing stored before is lost, and the server still answers
    studies = _studies(client, project, admin_headers)
    assert studies["total"] == 1
    assert client.get("/api/v1/health").status_code == 200


def test_bad_file_in_a_batch_does_not_stop_the_others(client, project, admin_headers):
    r = upload(client, project.id, admin_headers, ("ok.dcm", dicom_bytes()), ("bad.dcm", b"junk" * 50))
    assert r.status_code == 201
    assert {f["file"]: f["status"] for f in r.json["files"]} == {"ok.dcm": "stored", "bad.dcm": "error"}


def test_zip_with_path_traversal_is_refused_whole(client, project, admin_headers):
    archive = _zip({"fine.dcm": dicom_bytes(), "../../evil.dcm": dicom_bytes("MR_small.dcm")})
    r = upload(client, project.id, admin_headers, ("evil.zip", archive))
    assert r.status_code == 422 and r.json["error"] == "unsafe_archive"
    assert _studies(client, project, admin_headers)["total"] == 0


def test_zip_bomb_is_refused_before_extraction(client, project, admin_headers):
    bomb = _zip({"zeros.dcm": b"\x00" * 50_000_000})  # ~50 KB compressed, ratio ~1000
    assert len(bomb) < 200_000
    r = upload(client, project.id, admin_headers, ("bomb.zip", bomb))
    assert r.status_code == 422 and r.json["error"] == "unsafe_archive"


def test_archive_expanding_past_the_limit_is_refused(tmp_path, sqlite_template, make):
    import shutil

    from tests.conftest import Factory, build_app

    shutil.copy(sqlite_template, tmp_path / "l.sqlite3")
    app = build_app(tmp_path, f"sqlite:///{tmp_path / 'l.sqlite3'}", MAX_ARCHIVE_BYTES=100_000)
    f = Factory(app)
    headers = f.headers(f.user("boss", admin=True))
    p = f.project("small")
    archive = _zip({f"{i}.txt": b"x" * 60_000 for i in range(5)})  # 300 KB expanded, ~2 KB compressed
    assert len(archive) < 100_000
    r = upload(app.test_client(), p.id, headers, ("big.zip", archive))
    assert r.status_code == 422 and r.json["error"] == "unsafe_archive"


def test_oversize_upload_gets_413(tmp_path, sqlite_template):
    import shutil

    from tests.conftest import Factory, build_app

    shutil.copy(sqlite_template, tmp_path / "o.sqlite3")
    app = build_app(tmp_path, f"sqlite:///{tmp_path / 'o.sqlite3'}", MAX_UPLOAD_BYTES=10_000)
    f = Factory(app)
    headers = f.headers(f.user("boss", admin=True))
    p = f.project("tiny")
    client = app.test_client()
    r = upload(client, p.id, headers, ("ct.dcm", dicom_bytes()))
    assert r.status_code == 413 and r.json["error"] == "request_entity_too_large"
    raw = client.post(f"/api/v1/projects/{p.id}/uploads?filename=ct.dcm", data=dicom_bytes(),
                      headers={**headers, "Content-Type": "application/octet-stream"})
    assert raw.status_code == 413


def test_upload_without_files(client, project, admin_headers):
    r = client.post(f"/api/v1/projects/{project.id}/uploads", data={}, headers=admin_headers,
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.json["error"] == "no_files"


def test_cli_import_folder(app, tmp_path, project):
    from click.testing import CliRunner

    from server.cli import main

    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "ct.dcm").write_bytes(dicom_bytes())
    (folder / "ct-copy.dcm").write_bytes(dicom_bytes())
    (folder / "notes.xyz").write_bytes(b"?")
    env = {"HILUM_DATABASE_URL": app.config["DATABASE_URL"], "HILUM_INSTANCE_PATH": app.instance_path,
           "HILUM_SECRET_KEY": "x", "HILUM_AUTO_MIGRATE": "false"}
    result = CliRunner().invoke(main, ["import", str(folder), "--project", "chest", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert "stored 1, duplicate 1, skipped 1, errors 0" in result.output


def test_transcript_document_with_word_timings(client, project, admin_headers):
    r = upload(client, project.id, admin_headers, ("ct.dcm", dicom_bytes()), ("d.wav", _wav()),
               study_instance_uid="1.2.3.4")
    study_id = next(f["study_id"] for f in r.json["files"] if f["file"] == "d.wav")
    rec = client.get(f"/api/v1/studies/{study_id}", headers=admin_headers).json["recordings"][0]["id"]
    words = [{"word": "No", "start": 0.0, "end": 0.2, "prob": 0.9}, {"word": "effusion", "start": 0.2, "end": 0.5}]
    doc = client.post(f"/api/v1/studies/{study_id}/documents", headers=admin_headers,
                      json={"text": "No effusion", "kind": "transcript", "words": words, "recording_id": rec})
    assert doc.status_code == 201 and doc.json["recording_id"] == rec
    full = client.get(f"/api/v1/documents/{doc.json['id']}", headers=admin_headers).json
    assert full["words"] == words
    bad = client.post(f"/api/v1/studies/{study_id}/documents", headers=admin_headers,
                      json={"text": "x", "words": [{"word": "x", "start": 2, "end": 1}]})
    assert bad.status_code == 400 and bad.json["field"] == "words"


def test_instances_carry_the_files_default_window(client, project, admin_headers):
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(dicom_bytes("CT_small.dcm")))
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    out = io.BytesIO()
    ds.save_as(out)
    r = upload(client, project.id, admin_headers, ("windowed.dcm", out.getvalue()), ("plain.dcm", dicom_bytes()))
    assert r.status_code == 201, r.json
    detail = client.get(f"/api/v1/studies/{r.json['files'][0]['study_id']}", headers=admin_headers).json
    windows = {(i["window_center"], i["window_width"]) for se in detail["series"] for i in se["instances"]}
    assert (40.0, 400.0) in windows and (None, None) in windows


def test_uploaded_recording_starts_a_transcription_job(tmp_path, sqlite_template):
    import shutil

    from tests.conftest import Factory, build_app

    shutil.copy(sqlite_template, tmp_path / "t.sqlite3")
    app = build_app(tmp_path, f"sqlite:///{tmp_path / 't.sqlite3'}", AUTO_TRANSCRIBE=True)
    queued = []

    class QueueOnly:  # the subject is the wiring; the engine has tests of its own
        def dispatch(self, job_id):
            queued.append(job_id)

        def shutdown(self):
            pass

    real, app.extensions["hilum.runner"] = app.extensions["hilum.runner"], QueueOnly()
    try:
        f = Factory(app)
        headers = f.headers(f.user("boss", admin=True))
        p = f.project("dictations")
        r = upload(app.test_client(), p.id, headers, ("d.wav", _wav()), ("r.txt", b"No effusion."),
                   accession_number="ACC-9")
        audio = next(x for x in r.json["files"] if x["file"] == "d.wav")
        assert audio["job_id"] in queued and len(queued) == 1
        job = app.test_client().get(f"/api/v1/jobs/{audio['job_id']}", headers=headers).json
        assert job["kind"] == "transcribe.recording" and job["status"] == "queued"
    finally:
        real.shutdown()
        app.extensions["hilum.engine"].dispose()


# ------------------------------------------------------------------ worker processes for big batches

def _mixed_batch() -> list[tuple[str, bytes]]:
    root = os.path.join(os.path.dirname(get_testdata_file("CT_small.dcm", download=False)), "dicomdirtests")
    with open(os.path.join(root, "DICOMDIR"), "rb") as f:
        dicomdir = f.read()
    return [
        ("a/ct.dcm", dicom_bytes("CT_small.dcm")),
        ("a/ct-again.dcm", dicom_bytes("CT_small.dcm")),  # same instance under another name
        ("a/mr.dcm", dicom_bytes("MR_small.dcm")),
        ("a/us", dicom_bytes("examples_ybr_color.dcm")),  # no extension, multi-frame
        ("b/truncated.dcm", _truncated()),
        ("b/empty.dcm", b""),
        ("b/junk.dcm", b"junk" * 50),
        ("b/DICOMDIR", dicomdir),
        ("c/report.txt", b"Report for the CT."),
    ]


def _verdicts(body):
    return sorted((f["file"], f["status"], f.get("kind"), f.get("code")) for f in body["files"])


@pytest.mark.parametrize("local_bytes", [None, 20_000], ids=["all-in-workers", "big-files-in-process"])
def test_worker_processes_give_the_same_verdicts_as_in_process(app, client, make, admin_headers, monkeypatch,
                                                               local_bytes):
    """A batch prepared by worker processes (HILUM_INGEST_WORKERS > 1) answers exactly as one handled in
    process: stored, duplicates, errors with their codes, the DICOMDIR skipped, the report paired; and stores
    the same rows and blobs. Files too big to copy to a worker (here: over 20 kB) are handled in process
    within the same batch."""
    from server.ingest import parallel

    if local_bytes:
        monkeypatch.setattr(parallel, "LOCAL_BYTES", local_bytes)
    answers, instances = [], []
    for workers in (1, 2):
        app.config.update(INGEST_WORKERS=workers, INGEST_PARALLEL_MIN=2)
        project = make.project(f"batch-{workers}")
        r = upload(client, project.id, admin_headers, *_mixed_batch(), accession_number="ACC-9")
        assert r.status_code == 201, r.json
        answers.append(_verdicts(r.json))
        rows = []
        for s in _studies(client, project, admin_headers)["items"]:
            detail = client.get(f"/api/v1/studies/{s['id']}", headers=admin_headers).json
            rows += [(i["sop_instance_uid"], i["sha256"], i["frame_count"])
                     for se in detail["series"] for i in se["instances"]]
            for inst in (i for se in detail["series"] for i in se["instances"]):  # packed by workers or not
                with client.get(f"/api/v1/instances/{inst['id']}/file", headers=admin_headers) as r:
                    assert hashlib.sha256(r.data).hexdigest() == inst["sha256"]
                r = client.get(f"/api/v1/instances/{inst['id']}/frames/0.png", headers=admin_headers)
                assert r.status_code == 200 and r.data[:8] == b"\x89PNG\r\n\x1a\n"
        instances.append(sorted(rows))
    assert answers[0] == answers[1]
    assert instances[0] == instances[1] and len(instances[0]) == 3
    by_file = {f: (status, code) for f, status, _kind, code in answers[1]}
    assert sorted([by_file["a/ct.dcm"], by_file["a/ct-again.dcm"]]) == [("duplicate", None), ("stored", None)]
    assert by_file["b/truncated.dcm"] == ("error", "malformed_dicom")
    assert by_file["b/empty.dcm"] == ("error", "empty_file")
    assert by_file["b/DICOMDIR"] == ("skipped", "dicomdir")


def test_ingest_workers_do_not_hold_the_callers_descriptors(app, client, project, admin_headers):
    """Workers must not inherit the server's open files: a pipe the server closes must reach end-of-file at once
    (with forked workers it stayed open for as long as the pool lived, and so would database sockets)."""
    import select

    from server.ingest import parallel

    parallel.shutdown()  # a fresh pool, started while the pipe is open
    read_end, write_end = os.pipe()
    try:
        app.config.update(INGEST_WORKERS=2, INGEST_PARALLEL_MIN=2)
        r = upload(client, project.id, admin_headers, ("a.dcm", dicom_bytes("CT_small.dcm")),
                   ("b.dcm", dicom_bytes("MR_small.dcm")))
        assert r.status_code == 201 and r.json["stored"] == 2
        os.close(write_end)
        ready, _, _ = select.select([read_end], [], [], 10)
        assert ready and os.read(read_end, 1) == b""
    finally:
        os.close(read_end)


def test_a_big_batch_finds_the_studies_a_report_created_by_accession(app, client, project, admin_headers):
    """Worker-prepared batches look their studies up in bulk: images whose AccessionNumber a report already
    created a study for land in that study (which adopts their StudyInstanceUID), the others in new ones."""
    from pydicom import dcmread
    from pydicom.uid import generate_uid

    r = upload(client, project.id, admin_headers, ("r.txt", b"No acute findings."), accession_number="ACC-7")
    report_study = r.json["files"][0]["study_id"]

    def instance(accession: str, study_uid: str) -> bytes:
        ds = dcmread(io.BytesIO(dicom_bytes("CT_small.dcm")))
        ds.AccessionNumber, ds.StudyInstanceUID = accession, study_uid
        ds.SeriesInstanceUID = ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        out = io.BytesIO()
        ds.save_as(out)
        return out.getvalue()

    app.config.update(INGEST_WORKERS=2, INGEST_PARALLEL_MIN=2)
    uid_a, uid_b = generate_uid(), generate_uid()
    files = [(f"a{i}.dcm", instance("ACC-7", uid_a)) for i in range(3)] + [("b.dcm", instance("ACC-8", uid_b))]
    r = upload(client, project.id, admin_headers, *files)
    assert r.status_code == 201 and r.json["stored"] == 4
    by_file = {f["file"]: f["study_id"] for f in r.json["files"]}
    assert {by_file[f"a{i}.dcm"] for i in range(3)} == {report_study}
    assert by_file["b.dcm"] != report_study
    detail = client.get(f"/api/v1/studies/{report_study}", headers=admin_headers).json
    assert detail["study_instance_uid"] == uid_a and len(detail["documents"]) == 1


def _instance(study_uid: str, series_uid: str, accession: str, number: int) -> bytes:
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(io.BytesIO(dicom_bytes("CT_small.dcm")))
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.AccessionNumber = study_uid, series_uid, accession
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.InstanceNumber = number
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


def test_worker_batches_join_studies_known_by_accession_and_make_each_new_one_once(app, client, project,
                                                                                   admin_headers):
    """Studies and series a worker-prepared batch needs are created group by group (`create_missing`): a study
    first known from its report by accession adopts the images' UID instead of getting a twin, and a new study
    spread over two series is one study with two series."""
    from pydicom.uid import generate_uid

    app.config.update(INGEST_WORKERS=2, INGEST_PARALLEL_MIN=2)
    r = upload(client, project.id, admin_headers, ("report.txt", b"No acute disease."), accession_number="ACC-1")
    assert r.status_code == 201, r.json
    known, new = generate_uid(), generate_uid()
    series = [generate_uid() for _ in range(3)]
    files = [(f"k{i}.dcm", _instance(known, series[0], "ACC-1", i)) for i in range(3)]
    files += [(f"n{i}.dcm", _instance(new, series[1 + i % 2], "ACC-2", i)) for i in range(4)]
    r = upload(client, project.id, admin_headers, *files)
    assert r.status_code == 201 and r.json["stored"] == 7, r.json
    items = _studies(client, project, admin_headers)["items"]
    assert sorted(s["study_instance_uid"] for s in items) == sorted([known, new])
    by_uid = {s["study_instance_uid"]: client.get(f"/api/v1/studies/{s['id']}", headers=admin_headers).json
              for s in items}
    assert by_uid[known]["accession_number"] == "ACC-1" and len(by_uid[known]["documents"]) == 1
    assert [len(se["instances"]) for se in by_uid[known]["series"]] == [3]
    assert sorted(len(se["instances"]) for se in by_uid[new]["series"]) == [2, 2]
