"""Jobs for real: the in-process runner, recovery of jobs whose runner died (a row written as a dead runner
leaves it, and a process SIGKILLed mid-job), Celery workers on the Redis at HILUM_TEST_REDIS_URL (db 15),
and the export job end to end."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server import db, job_runners, jobs
from server.models import Job, JobStatus
from tests.conftest import REDIS_URL, build_app, service_unavailable

REPO = Path(__file__).resolve().parents[2]
FINAL = {"succeeded", "failed"}


def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail the test naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def row(app: Any, job_id: str) -> Job:
    with app.app_context(), db.new_session() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def submit(app: Any, params: dict[str, Any], **kw: Any) -> str:
    with app.app_context():
        return jobs.submit("hilum.selftest", params, **kw).id


def poll_api(client: Any, job_id: str, headers: dict[str, str], timeout: float = 20) -> list[dict[str, Any]]:
    """Every state GET /api/v1/jobs/{id} showed, until a final one."""
    seen: list[dict[str, Any]] = []

    def final() -> bool:
        r = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
        assert r.status_code == 200, r.json
        seen.append(r.json)
        return r.json["status"] in FINAL

    until(final, timeout, f"job {job_id} to finish")
    return seen


def dead_runner_row(app: Any, *, attempts: int, heartbeat_age: float, status: JobStatus = JobStatus.RUNNING,
                    params: dict[str, Any] | None = None) -> str:
    """A job row as a runner that died mid-job leaves it: written directly, nobody is running it."""
    then = datetime.now(UTC) - timedelta(seconds=heartbeat_age)
    job_id = str(uuid.uuid4())
    with app.app_context(), db.new_session() as s:
        s.add(Job(id=job_id, kind="hilum.selftest", params=params or {"steps": 2, "seconds": 0.01},
                  status=status, attempts=attempts, progress=0.5, created_at=then,
                  started_at=then if status is JobStatus.RUNNING else None,
                  heartbeat_at=then if status is JobStatus.RUNNING else None))
        s.commit()
    return job_id


# --- 1. the in-process runner, through the API -------------------------------------------------------------

def test_selftest_job_goes_queued_running_succeeded(app, client, make):
    owner, project = make.user(), make.project()
    make.member(project, owner, "annotator")
    headers = make.headers(owner)
    job_id = submit(app, {"steps": 5, "seconds": 0.1}, project_id=project.id, user_id=owner.id)

    seen = poll_api(client, job_id, headers)
    assert seen[0]["status"] in {"queued", "running"}
    assert any(s["status"] == "running" and 0 < s["progress"] < 1 for s in seen), "no progress while running"
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)
    done = seen[-1]
    assert done["status"] == "succeeded" and done["progress"] == 1.0 and done["attempts"] == 1
    assert done["result"] == {"steps": 5, "pid": os.getpid()}  # in-process: this very process ran it
    assert done["finished_at"] and done["started_at"] and done["project_id"] == project.id


def test_failing_job_ends_failed_with_a_message_and_no_traceback(app, client, make):
    owner, project = make.user(), make.project()
    make.member(project, owner, "reviewer")
    headers = make.headers(owner)
    job_id = submit(app, {"steps": 1, "seconds": 0, "fail": True}, project_id=project.id, user_id=owner.id)

    done = poll_api(client, job_id, headers)[-1]
    assert done["status"] == "failed" and done["result"] is None and done["finished_at"]
    assert done["message"] == "RuntimeError: the job failed"
    body = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_data(as_text=True)
    for leak in ("Traceback", 'File "', "selftest asked to fail", "job_kinds.py"):
        assert leak not in body


def test_unknown_job_is_404_with_the_error_shape(client, admin_headers):
    r = client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=admin_headers)
    assert r.status_code == 404
    assert r.json["error"] == "not_found" and r.json["message"]


def test_only_project_members_and_the_creator_see_a_job(app, client, make):
    owner, outsider, project = make.user(), make.user(), make.project()
    make.member(project, owner, "annotator")
    in_project = submit(app, {"steps": 1, "seconds": 0}, project_id=project.id, user_id=owner.id)
    personal = submit(app, {"steps": 1, "seconds": 0}, user_id=owner.id)
    with app.app_context():
        jobs.wait(in_project), jobs.wait(personal)

    for job_id in (in_project, personal):
        assert client.get(f"/api/v1/jobs/{job_id}", headers=make.headers(owner)).status_code == 200
        r = client.get(f"/api/v1/jobs/{job_id}", headers=make.headers(outsider))
        assert r.status_code == 404 and r.json["error"] == "not_found"
        admin = make.headers(make.user(admin=True))
        assert client.get(f"/api/v1/jobs/{job_id}", headers=admin).status_code == 200
    assert client.get(f"/api/v1/jobs/{in_project}").status_code == 401


# --- 2. recovery of a job whose runner died ----------------------------------------------------------------

def test_recover_reruns_a_job_whose_runner_stopped_beating(app):
    dead = dead_runner_row(app, attempts=1, heartbeat_age=600)
    alive = dead_runner_row(app, attempts=1, heartbeat_age=1)  # a live runner's job: left alone
    with app.app_context():
        assert jobs.recover() == [dead]
        job = jobs.wait(dead)
    assert job.status is JobStatus.SUCCEEDED and job.attempts == 2 and job.progress == 1.0
    assert job.result == {"steps": 2, "pid": os.getpid()}
    still = row(app, alive)
    assert still.status is JobStatus.RUNNING and still.attempts == 1


def test_recover_dispatches_a_queued_job_nobody_picked_up(app):
    # e.g. submitted by a CLI process that exited before its in-process runner got to it
    job_id = dead_runner_row(app, attempts=0, heartbeat_age=600, status=JobStatus.QUEUED)
    with app.app_context():
        assert jobs.recover() == [job_id]
        job = jobs.wait(job_id)
    assert job.status is JobStatus.SUCCEEDED and job.attempts == 1


def test_a_job_out_of_attempts_is_given_up_not_rerun(app):
    max_attempts = app.config["JOB_MAX_ATTEMPTS"]
    by_redelivery = dead_runner_row(app, attempts=max_attempts, heartbeat_age=600)
    with app.app_context():
        jobs.execute(by_redelivery)  # what a redelivered Celery message does: must not run a 4th time
    by_sweep = dead_runner_row(app, attempts=max_attempts, heartbeat_age=600)
    with app.app_context():
        assert jobs.recover() == []
    for job_id in (by_sweep, by_redelivery):
        job = row(app, job_id)
        assert job.status is JobStatus.FAILED and job.attempts == max_attempts
        assert job.message == f"interrupted {max_attempts} times; giving up" and job.result is None


def test_a_runner_given_up_for_dead_can_no_longer_write_the_job(app):
    job_id = dead_runner_row(app, attempts=2, heartbeat_age=0)  # attempt 2 now owns it
    with app.app_context():
        jobs.JobContext(job_id, attempt=1).progress(0.9, "zombie")
        jobs.JobContext(job_id, attempt=2).progress(0.6, "owner")
    job = row(app, job_id)
    assert (job.progress, job.message) == (0.6, "owner")


def test_a_live_job_is_never_taken_for_dead(tmp_path, database_url):
    # one step longer than the stale window, no progress meanwhile: only the heartbeat says it is alive
    # (a 2 s window leaves room for a busy CI machine delaying one beat; 1 s was seen to flake under load)
    app = build_app(tmp_path, database_url, JOB_STALE_SECONDS=2)
    try:
        jobs.start_background(app)  # the sweeper looks every second
        job_id = submit(app, {"steps": 1, "seconds": 4.5})
        with app.app_context():
            job = jobs.wait(job_id, timeout=20)
        assert job.status is JobStatus.SUCCEEDED and job.attempts == 1
    finally:
        app.extensions["hilum.runner"].shutdown()
        app.extensions["hilum.engine"].dispose()


# --- 3. a real crash: the process running the job is SIGKILLed -------------------------------------------

CRASHING_SERVER = """
import json, sys, time
from server import create_app, job_runners, jobs
app = create_app(json.loads(sys.argv[1]))
with app.app_context():
    print(jobs.submit("hilum.selftest", {"steps": 20, "seconds": 0.1}).id, flush=True)
time.sleep(120)
"""


@pytest.fixture
def sqlite_file(tmp_path, sqlite_template) -> str:
    path = tmp_path / "shared.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def test_job_of_a_killed_server_process_is_rerun_after_the_stale_window(tmp_path, sqlite_file):
    """SQLite only: the recovery SQL runs on both databases above; this proves the process-level story."""
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": sqlite_file,
              "SECRET_KEY": "test-secret", "AUTO_MIGRATE": False, "JOB_STALE_SECONDS": 2}
    server = subprocess.Popen([sys.executable, "-c", CRASHING_SERVER, json.dumps(config)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    app = build_app(tmp_path, sqlite_file, JOB_STALE_SECONDS=2)
    try:
        job_id = server.stdout.readline().strip()
        assert job_id, "the server subprocess did not submit a job"
        until(lambda: row(app, job_id).progress > 0, 20, "the job to run in the subprocess")
        server.send_signal(signal.SIGKILL)
        assert server.wait(10) == -signal.SIGKILL
        crashed = row(app, job_id)
        assert crashed.status is JobStatus.RUNNING and crashed.progress < 1 and crashed.attempts == 1

        jobs.start_background(app)  # what `hilum serve` does: recover now, then sweep every stale/2 s
        with app.app_context():
            job = jobs.wait(job_id, timeout=20)
        assert job.status is JobStatus.SUCCEEDED and job.attempts == 2
        assert job.result == {"steps": 20, "pid": os.getpid()}  # re-run here, not by the dead process
    finally:
        server.kill()
        server.wait()
        server.stdout.close()
        app.extensions["hilum.runner"].shutdown()
        app.extensions["hilum.engine"].dispose()


# --- 4. Celery workers over Redis --------------------------------------------------------------------------

@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        client.close()
        service_unavailable("redis", type(exc).__name__)
    client.flushdb()  # only the test database (HILUM_TEST_REDIS_URL, db 15 by default)
    yield REDIS_URL
    client.flushdb()
    client.close()


class Workers:
    """`hilum worker` subprocesses, each in its own process group; all of them are killed at teardown."""

    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.tmp_path, self.env = tmp_path, env
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        n = len(self.procs)
        cmd = [str(Path(sys.executable).parent / "hilum"), "worker", "--concurrency=1", "--loglevel=INFO",
               "--name", f"hilum-test-{n}@%h"]
        with open(self.tmp_path / f"worker-{n}.log", "wb") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def crash(self, proc: subprocess.Popen) -> None:
        """kill -9 the worker and its pool children at once, as a machine dying would."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        until(lambda: not _group_alive(proc.pid), 10, "the killed worker's children to be gone")

    def stop_all(self) -> None:
        for proc in self.procs:
            if _group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def celery_setup(tmp_path, sqlite_file, redis_url) -> Iterator[Callable[..., tuple[Any, Workers]]]:
    """`setup(visibility)` → (a test app whose runner is CeleryRunner, the worker launcher); both share the
    SQLite file and the instance folder. Torn down: workers killed, the app's runner and engine closed."""
    made: list[tuple[Any, Workers]] = []

    def setup(visibility: int = 3600) -> tuple[Any, Workers]:
        settings = {"DATABASE_URL": sqlite_file, "INSTANCE_PATH": str(tmp_path / "instance"),
                    "SECRET_KEY": "test-secret", "BROKER_URL": redis_url, "JOB_STALE_SECONDS": "2",
                    "JOB_VISIBILITY_SECONDS": str(visibility)}
        env = {k: v for k, v in os.environ.items() if not k.startswith("HILUM_")}
        env.update({f"HILUM_{k}": v for k, v in settings.items()})
        app = build_app(tmp_path, sqlite_file, BROKER_URL=redis_url, JOB_STALE_SECONDS=2,
                        JOB_VISIBILITY_SECONDS=visibility)
        assert isinstance(app.extensions["hilum.runner"], job_runners.CeleryRunner)
        made.append((app, Workers(tmp_path, env)))
        return made[-1]

    yield setup
    for app, workers in made:
        workers.stop_all()
        app.extensions["hilum.runner"].shutdown()
        app.extensions["hilum.engine"].dispose()


@pytest.mark.redis
def test_celery_worker_runs_jobs_in_another_process(celery_setup):
    app, workers = celery_setup()
    ok = submit(app, {"steps": 2, "seconds": 0.05})
    bad = submit(app, {"steps": 1, "seconds": 0, "fail": True})
    assert row(app, ok).status is JobStatus.QUEUED  # no worker yet: the message waits in Redis
    worker = workers.start()
    with app.app_context():
        done, failed = jobs.wait(ok, timeout=30), jobs.wait(bad, timeout=30)
    assert done.status is JobStatus.SUCCEEDED and done.progress == 1.0 and done.attempts == 1
    assert done.result["steps"] == 2 and done.result["pid"] not in (os.getpid(), worker.pid)  # a pool child
    assert failed.status is JobStatus.FAILED and failed.message == "RuntimeError: the job failed"


@pytest.mark.redis
@pytest.mark.parametrize("mechanism", ["redis-redelivery", "server-sweeper"])
def test_job_of_a_killed_celery_worker_still_succeeds(celery_setup, mechanism):
    """A worker (main process and pool child) is SIGKILLed mid-job; a new worker finishes the job.

    redis-redelivery: visibility timeout 3 s and nobody calls recover(): the unacked message (acks_late) is
    handed out again by Redis and the new worker claims the job because its heartbeat went stale.
    server-sweeper: visibility timeout 1 h, so Redis cannot be what saves it; the server's sweeper
    (`jobs.start_background`) sees the stale heartbeat and re-dispatches the job."""
    app, workers = celery_setup(visibility=3 if mechanism == "redis-redelivery" else 3600)
    first = workers.start()
    job_id = submit(app, {"steps": 20, "seconds": 0.1})
    until(lambda: row(app, job_id).progress > 0, 30, "the first worker to run the job")
    workers.crash(first)
    crashed = row(app, job_id)
    assert crashed.status is JobStatus.RUNNING and crashed.attempts == 1 and crashed.progress < 1

    if mechanism == "redis-redelivery":
        time.sleep(3.5)  # past both the visibility timeout and the stale window: one redelivery claims it
    else:
        jobs.start_background(app)
    second = workers.start()
    with app.app_context():
        job = jobs.wait(job_id, timeout=30)
    assert job.status is JobStatus.SUCCEEDED and job.attempts == 2, job.message
    assert job.result["pid"] not in (os.getpid(), first.pid, second.pid)
    assert _group_alive(second.pid)


# --- 5. the export job -------------------------------------------------------------------------------------

def _export(client: Any, project_id: int, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"/api/v1/projects/{project_id}/exports", json=body, headers=headers)
    assert r.status_code == 202, r.json
    assert r.json["job"]["kind"] == "export.jsonl" and r.json["job"]["status"] in {"queued", "running"}
    return poll_api(client, r.json["job"]["id"], headers)[-1]


def test_identified_export_job_produces_a_jsonl_download(client, make, admin_headers):
    project = make.project()
    job = _export(client, project.id, admin_headers, {"deidentify": False})
    assert job["status"] == "succeeded", job["message"]
    assert job["result"]["download"] == f"/api/v1/projects/{project.id}/exports/{job['id']}"

    with client.get(job["result"]["download"], headers=admin_headers) as r:
        assert r.status_code == 200 and r.mimetype == "application/x-ndjson"
        lines = [json.loads(line) for line in r.get_data(as_text=True).splitlines()]
    assert lines[0]["type"] == "project" and lines[0]["id"] == project.id
    assert job["result"]["counts"] == {"project": 1}


def test_deidentified_export_never_falls_back_to_identified_data(client, make, admin_headers):
    from server.export import DEID_HOOKS

    project = make.project()
    job = _export(client, project.id, admin_headers, {})  # deidentify defaults to true
    with client.get(f"/api/v1/projects/{project.id}/exports/{job['id']}", headers=admin_headers) as download:
        download_status = download.status_code
    if DEID_HOOKS:
        assert job["status"] == "succeeded", job["message"]
        assert download_status == 200
    else:
        assert job["status"] == "failed"
        assert "no de-identification engine is installed" in job["message"]
        assert download_status == 404
