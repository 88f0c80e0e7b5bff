"""Workspace speed: opening the next task and rendering a 512×512 frame, against the health check (the floor of
the HTTP stack) in the same run.

    .venv/bin/python bench/ui.py [--tasks 30] [--frames 60] [--spans 20] [--no-browser]

Seeds (not timed) a project with `--tasks` studies, each a synthetic 512×512 CT slice (int16, rescale slope and
intercept, pixel spacing), a report with `--spans` proposed spans, and an annotate task for one annotator. The
real app serves on a free loopback port (waitress in a thread). Measured, one client, back to back:

  next_cold   what "next task" costs when nothing was prefetched: PATCH the task done, POST tasks/next, then
              the page's reads (study, annotations, project, each document, first frame PNG)
  next_warm   what it costs when the workspace prefetched the next study while the annotator worked on the
              current one (the UI's path): PATCH done + POST tasks/next + the reads that are the audited views
              (study, annotations, each document) + the view report of the first frame, shown from the prefetched
              copy (POST .../frames/0/views); the prefetch (study and first frame marked `?prefetch=1`, the
              project) ran in the background, untimed. The page sends those reads in parallel; here they go one
              after another, so this is an upper bound
  frame512    GET /api/v1/instances/{id}/frames/0.png?center=C&width=W with a new window each time (no cache)
  health      GET /api/v1/health
  browser     (Chromium present) in the real page: press Shift+N → next study rendered with its frame on the
              canvas, from the prefetch, timed in the page (performance.now)

Targets from the issue: next task < 1 s, 512×512 frame < 100 ms (p95).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import threading
import time
from typing import Any

import _common

TARGETS_MS = {"next_cold": 1000.0, "next_warm": 1000.0, "browser": 1000.0, "frame512": 100.0}
REPORT = ("FINDINGS: There is a {size} mm spiculated nodule in the right upper lobe. No pleural effusion. "
          "Mild emphysema. The heart is normal in size. Degenerative changes of the thoracic spine.\n"
          "IMPRESSION: {size} mm right upper lobe nodule, suspicious for malignancy.\n")


def ct_slice(i: int) -> bytes:
    """A 512×512 CT image as DICOM bytes (explicit VR little endian)."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    yy, xx = np.mgrid[0:512, 0:512]
    body = ((xx - 256) ** 2 / 200**2 + (yy - 256) ** 2 / 150**2) < 1
    pixels = np.where(body, 1040 + (xx * 7 + yy * 3 + i) % 80, 24).astype(np.int16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.AccessionNumber, ds.Modality, ds.PatientID = f"BENCH{i:05d}", "CT", f"P{i}"
    ds.Rows = ds.Columns = 512
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelSpacing = [0.7, 0.7]
    ds.PixelData = pixels.tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def seed(app: Any, n: int, spans: int) -> dict[str, Any]:
    """The annotator `bench` (token), an admin token for uploads, and a project of `n` tasks."""
    from server import db, projects
    from server.auth import issue_token

    with app.app_context():
        s = db.session()
        user = projects.create_user(s, "bench", "bench passphrase", actor="bench")
        admin = projects.create_user(s, "bench-admin", "bench passphrase", admin=True, actor="bench")
        _, token = issue_token(user)
        _, admin_token = issue_token(admin)
        s.commit()
    seeded = {"token": token, "admin_token": admin_token}
    return {**seeded, **seed_project(app, seeded, "ui bench", n, spans)}


def seed_project(app: Any, seeded: dict[str, Any], name: str, n: int, spans: int) -> dict[str, Any]:
    """A project with `n` studies (512×512 CT + report + proposed spans), each an annotate task for `bench`."""
    from server import annotating, db, projects, tasks
    from server.ingest import store
    from server.models import DocumentKind, Study, User
    from server.storage import blobs

    with app.app_context():
        s = db.session()
        project = projects.create_project(s, name, actor="bench")
        projects.add_member(s, project, "bench", projects.parse_role("annotator"), actor="bench")
        s.commit()
        pid = project.id
    client = app.test_client()
    ids = []
    for i in range(n):
        r = client.post(f"/api/v1/projects/{pid}/uploads", headers={"Authorization": f"Bearer {seeded['admin_token']}"},
                        content_type="multipart/form-data",
                        data={"files": [(io.BytesIO(ct_slice(pid * 1000 + i)), f"{i}.dcm")]})
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json()["files"][0]["study_id"])
    with app.app_context():  # reports and spans through the services (not timed)
        s = db.session()
        user = s.query(User).filter_by(username="bench").one()
        for i, sid in enumerate(ids):
            study = s.get(Study, sid)
            text = REPORT.format(size=10 + i % 20)
            sha, size = blobs().put_bytes(text.encode())
            store.ensure_blob(s, sha, size, "text/plain")
            doc, _ = store.add_document(s, study, text, sha, DocumentKind.REPORT, source="bench")
            s.flush()
            for k in range(spans):
                start = (k * 7) % (len(text) - 10)
                annotating.create(s, study, {"kind": "span", "label": "FINDING", "document_id": doc.id,
                                             "start": start, "end": start + 8, "source": "hilum_ner@0.1.0"}, user)
        tasks.assign(s, pid, ids, "bench", "annotate", actor="bench")
        s.commit()
    return {"project_id": pid, "studies": ids}


class Client:
    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
        r = self.conn.getresponse()
        data = r.read()
        assert r.status < 400, (method, path, r.status, data[:200])
        return json.loads(data) if data and r.getheader("Content-Type", "").startswith("application/json") else data


def open_next(c: Client, pid: int, task: dict[str, Any] | None, prefetched: bool) -> dict[str, Any] | None:
    if task is not None:
        c.call("PATCH", f"/api/v1/tasks/{task['id']}", {"status": "done", "version": task["version"]})
    nxt = c.call("POST", f"/api/v1/projects/{pid}/tasks/next")["task"]
    if nxt:
        load_study(c, pid, nxt["study_id"], prefetched=prefetched)
    return nxt


def load_study(c: Client, pid: int, sid: int, prefetched: bool = False) -> None:
    """The reads of opening a study; `prefetched`: the project and the first frame are at hand already."""
    study = c.call("GET", f"/api/v1/studies/{sid}")
    c.call("GET", f"/api/v1/studies/{sid}/annotations?per_page=500&page=1")
    if not prefetched:
        c.call("GET", f"/api/v1/projects/{pid}")
    for d in study["documents"]:
        c.call("GET", f"/api/v1/documents/{d['id']}")
    frame = f"/api/v1/instances/{study['series'][0]['instances'][0]['id']}/frames/0"
    if prefetched:
        c.call("POST", f"{frame}/views")
    else:
        c.call("GET", f"{frame}.png")


def prefetch_next(c: Client, pid: int, current: dict[str, Any]) -> None:
    """What the workspace reads ahead while the annotator works on `current` (not timed)."""
    mine = c.call("GET", f"/api/v1/projects/{pid}/tasks?assignee=me&stage=annotate&per_page=50")["items"]
    nxt = next((t for t in mine if t["id"] != current["id"] and t["status"] != "done"), None)
    if nxt is None:
        return
    study = c.call("GET", f"/api/v1/studies/{nxt['study_id']}?prefetch=1")
    c.call("GET", f"/api/v1/projects/{pid}")
    c.call("GET", f"/api/v1/instances/{study['series'][0]['instances'][0]['id']}/frames/0.png?prefetch=1")


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000, out


def run_http(port: int, seeded: dict[str, Any], frames: int) -> dict[str, list[float]]:
    c = Client(port, seeded["token"])
    pid = seeded["project_id"]
    times: dict[str, list[float]] = {k: [] for k in ("next_cold", "next_warm", "frame512", "health")}
    task = open_next(c, pid, None, prefetched=False)
    half = len(seeded["studies"]) // 2
    for i in range(len(seeded["studies"]) - 1):
        kind = "next_cold" if i < half else "next_warm"
        if kind == "next_warm" and task is not None:  # read ahead while the annotator works: not timed
            prefetch_next(c, pid, task)
        ms, task = timed(lambda kind=kind, task=task: open_next(c, pid, task, prefetched=kind == "next_warm"))
        times[kind].append(ms)
        if task is None:
            break
    inst = c.call("GET", f"/api/v1/studies/{seeded['studies'][0]}")["series"][0]["instances"][0]
    assert (inst["rows"], inst["columns"]) == (512, 512)
    for i in range(frames):
        ms, png = timed(lambda i=i: c.call("GET", f"/api/v1/instances/{inst['id']}/frames/0.png?center={i}&width=400"))
        times["frame512"].append(ms)
        ms, _ = timed(lambda: c.call("GET", "/api/v1/health"))
        times["health"].append(ms)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return times


def run_browser(url: str, seeded: dict[str, Any], count: int) -> list[float]:
    """Real page: Shift+N → next study rendered (text and frame), from the prefetch."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("browser: playwright is not installed; skipped")
        return []
    chromium = os.environ.get("HILUM_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        print(f"browser: {chromium} missing; skipped")
        return []
    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{url}/login")
        page.fill("#username", "bench")
        page.fill("#password", "bench passphrase")
        page.click("button[type=submit]")
        page.goto(f"{url}/projects/{seeded['project_id']}")
        page.click("[data-next-stage=annotate]")
        page.wait_for_selector("#ws[data-ready]")
        for _ in range(count):
            page.wait_for_function("window.hilum.tasks.prefetched && window.hilum.viewer.shown", timeout=20_000)
            current = page.evaluate("window.hilum.studyId")
            page.evaluate("window.__t0 = performance.now()")
            page.keyboard.press("Shift+N")
            page.wait_for_function(
                f"window.hilum.studyId !== {current} && window.hilum.viewer.shown && "
                "window.hilum.viewer.shown.naturalWidth === 512 && "
                "window.hilum.viewer.shown.src.includes('/instances/' + window.hilum.viewer.inst.id + '/')",
                timeout=20_000)
            out.append(page.evaluate("performance.now() - window.__t0"))
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--spans", type=int, default=20)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    from waitress import create_server

    with _common.instance_folder("hilum-ui-bench-") as instance:
        app = _common.build_app(instance, "sqlite:///" + os.path.join(instance, "hilum.sqlite3"),
                                SESSION_COOKIE_SECURE=False)
        seeded = seed(app, args.tasks, args.spans)
        server = create_server(app, host="127.0.0.1", port=0, threads=6)
        threading.Thread(target=server.run, daemon=True).start()
        try:
            times = run_http(server.effective_port, seeded, args.frames)
            if not args.no_browser:
                browser_seed = {**seeded, **seed_project(app, seeded, "ui bench browser", args.tasks, args.spans)}
                times["browser"] = run_browser(f"http://127.0.0.1:{server.effective_port}", browser_seed,
                                               max(1, args.tasks - 2))
        finally:
            server.close()
            _common.close_app(app)
    rows = [["measure", "n", "p50 ms", "p95 ms", "target p95 ms"]]
    for name, values in times.items():
        if not values:
            continue
        v = sorted(values)
        target = TARGETS_MS.get(name)
        rows.append([name, str(len(v)), f"{_common.percentile(v, 50):.1f}", f"{_common.percentile(v, 95):.1f}",
                     f"{target:.0f}" if target else "(floor)"])
    print(_common.table(rows))
    print(_common.machine())


if __name__ == "__main__":
    main()
