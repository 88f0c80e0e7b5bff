"""`hilum serve --workers N`: N processes on one port, restarted when one dies, stopped together; their writes
share one database and one audit chain."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner

from server.cli import main

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc") or not hasattr(os, "fork"), reason="needs fork and /proc")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers(supervisor: int) -> set[int]:
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[1] == str(supervisor):
                    found.add(int(pid))
        except OSError:
            continue
    return found


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting for whoever adopted it to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _two_workers(supervisor: int, gone: int | None = None) -> set[int] | None:
    found = _workers(supervisor)
    return found if len(found) == 2 and gone not in found else None


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _login(port: int) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/tokens", method="POST",
                                 data=b'{"username": "ann", "password": "a long passphrase"}',
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert "token" in json.loads(r.read())
        return r.status


def test_workers_share_the_port_restart_when_killed_and_stop_together(tmp_path):
    env = {"HILUM_INSTANCE_PATH": str(tmp_path / "inst"), "HILUM_SECRET_KEY": "serving-test"}
    run = CliRunner().invoke
    made = run(main, ["user", "create", "--username", "ann", "--password", "a long passphrase"], env=env)
    assert made.exit_code == 0, made.output
    port = _free_port()
    hilum = os.path.join(os.path.dirname(sys.executable), "hilum")
    log = open(tmp_path / "serve.log", "w+")  # a file, not a pipe: reading it never waits on a worker
    proc = subprocess.Popen([hilum, "serve", "--port", str(port), "--workers", "2", "--threads", "4"],
                            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        _wait(lambda: proc.poll() is None and _health(port), 60, "the server did not come up")
        first = _wait(lambda: _two_workers(proc.pid), 30, "two workers expected")

        with ThreadPoolExecutor(8) as pool:  # concurrent writers (logins are audited) on fresh connections
            assert list(pool.map(lambda _: _login(port), range(24))) == [201] * 24

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        again = _wait(lambda: _two_workers(proc.pid, gone=victim), 30, "the killed worker was not replaced")
        assert len(again & first) == 1
        _wait(lambda: _health(port), 30, "no answer after the restart")
        assert _login(port) == 201

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not _workers(proc.pid) and not any(map(_running, again))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        output = log.read()
        log.close()
    assert "2 worker processes" in output and "exited with signal 9" in output, output
    verified = run(main, ["audit", "verify"], env=env)  # 25 logins from two processes: one unbroken chain
    assert verified.exit_code == 0, verified.output


def test_workers_leave_when_their_supervisor_is_killed(tmp_path):
    env = {**os.environ, "HILUM_INSTANCE_PATH": str(tmp_path / "inst"), "HILUM_SECRET_KEY": "serving-test"}
    port = _free_port()
    hilum = os.path.join(os.path.dirname(sys.executable), "hilum")
    proc = subprocess.Popen([hilum, "serve", "--port", str(port), "--workers", "2", "--threads", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        _wait(lambda: proc.poll() is None and _health(port), 60, "the server did not come up")
        workers = _wait(lambda: _two_workers(proc.pid), 30, "two workers expected")
        proc.kill()  # SIGKILL: the supervisor cannot pass anything on
        proc.wait()
        _wait(lambda: not any(map(_running, workers)), 30, "orphaned workers kept running")
        assert not _health(port)
    finally:
        for pid in filter(_running, workers):
            os.kill(pid, signal.SIGKILL)


def test_a_worker_that_keeps_dying_at_start_stops_the_supervisor():
    """A crash loop (here: the app cannot be built) is reported and ends `hilum serve` with status 1."""
    script = ("import logging, sys; logging.basicConfig()\n"
              "from server import serving\n"
              "def broken():\n    raise RuntimeError('no app today')\n"
              "sys.exit(serving.serve_workers(broken, serving.listen('127.0.0.1', 0), workers=1, threads=1))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "no app today" in done.stderr and "died 5 times" in done.stderr, done.stderr
