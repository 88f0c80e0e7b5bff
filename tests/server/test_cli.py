"""The `hilum` command line: users, projects, migrations, demo, serve."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from click.testing import CliRunner

from server.cli import main


def _env(tmp_path):
    return {"HILUM_INSTANCE_PATH": str(tmp_path / "inst"), "HILUM_SECRET_KEY": "cli-test"}


def test_fresh_instance_user_project_member(tmp_path):
    env = _env(tmp_path)
    run = CliRunner().invoke
    from alembic.script import ScriptDirectory

    from server.db import alembic_config, make_engine

    head = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://"))).get_current_head()
    assert run(main, ["db", "upgrade"], env=env).output.strip() == f"database at revision {head}"
    r = run(main, ["user", "create", "--username", "alice", "--password", "a long passphrase", "--admin"], env=env)
    assert r.exit_code == 0 and "site admin" in r.output
    dup = run(main, ["user", "create", "--username", "alice", "--password", "a long passphrase"], env=env)
    assert dup.exit_code == 1 and "exists" in dup.output and "Traceback" not in dup.output
    weak = run(main, ["user", "create", "--username", "bob", "--password", "short"], env=env)
    assert weak.exit_code == 1 and "8 characters" in weak.output
    assert run(main, ["user", "create", "--username", "bob", "--password", "bobs passphrase"], env=env).exit_code == 0
    assert run(main, ["project", "create", "chest"], env=env).exit_code == 0
    r = run(main, ["project", "add-member", "chest", "--username", "bob", "--role", "annotator"], env=env)
    assert r.exit_code == 0, r.output
    assert "chest" in run(main, ["project", "list"], env=env).output
    assert os.path.exists(tmp_path / "inst" / "hilum.sqlite3")
    assert run(main, ["audit", "verify"], env=env).exit_code == 0


def test_import_into_missing_project_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(main, ["import", str(tmp_path), "--project", "nope"], env=_env(tmp_path))
    assert r.exit_code == 1 and "no project named 'nope'" in r.output


def test_demo_is_idempotent(tmp_path):
    env = _env(tmp_path)
    first = CliRunner().invoke(main, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "'stored': 8" in first.output and "log in as demo /" in first.output
    assert (tmp_path / "inst" / "demo-credentials.txt").stat().st_mode & 0o777 == 0o600
    second = CliRunner().invoke(main, ["demo"], env=env)
    assert "'stored': 0" in second.output and "'duplicates': 8" in second.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_answers_over_http(tmp_path):
    port = _free_port()
    env = {**os.environ, **_env(tmp_path), "HILUM_DEMO_PASSWORD": "demo passphrase"}
    hilum = os.path.join(os.path.dirname(sys.executable), "hilum")
    proc = subprocess.Popen([hilum, "serve", "--demo", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.3)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/tokens", method="POST",
                                     data=b'{"username": "demo", "password": "demo passphrase"}',
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            import json

            token = json.loads(r.read())["token"]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/projects/1/studies",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert json.loads(r.read())["total"] == 4
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()


def test_blobs_verify_finds_a_missing_or_damaged_original(tmp_path):
    """`hilum blobs verify` reads every blob the database names, packed or a file of its own."""
    env = _env(tmp_path)
    run = CliRunner().invoke
    assert run(main, ["demo"], env=env).exit_code == 0
    ok = run(main, ["blobs", "verify"], env=env)
    assert ok.exit_code == 0 and "blobs intact: 8 checked" in ok.output, ok.output
    store = tmp_path / "inst" / "blobs"
    [pack] = list((store / "packs").glob("*.pack"))
    with open(pack, "r+b") as f:  # one byte of a packed DICOM instance
        f.seek(200)
        f.write(b"\x00" if f.read(1) != b"\x00" else b"\x01")
    loose = next(p for p in store.glob("??/*") if p.is_file())
    loose.chmod(0o644)
    loose.unlink()
    bad = run(main, ["blobs", "verify"], env=env)
    assert bad.exit_code == 1 and "2 of 8 blobs missing or damaged" in bad.output, bad.output
    assert "missing" in bad.output and "damaged" in bad.output and "Traceback" not in bad.output
