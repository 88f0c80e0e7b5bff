"""The request queue of `hilum serve`: under load a waiting save goes ahead of waiting reads, and a read that
has waited `patience` goes next, so reads are delayed, never starved."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from server import serving
from server.serving import WritesFirst


def _task(method: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(command=method), name=name)


def _drain(queue: WritesFirst) -> list[str]:
    out = []
    while queue:
        out.append(queue.popleft().name)
    return out


def test_waiting_writes_go_before_waiting_reads_each_in_arrival_order():
    queue = WritesFirst(patience=60)
    for method, name in [("GET", "r1"), ("PATCH", "w1"), ("HEAD", "r2"), ("POST", "w2"), ("DELETE", "w3"),
                         ("OPTIONS", "r3"), ("PUT", "w4")]:
        queue.append(_task(method, name))
    assert len(queue) == 7
    assert _drain(queue) == ["w1", "w2", "w3", "w4", "r1", "r2", "r3"]


def test_a_read_that_waited_its_patience_goes_before_newer_writes():
    queue = WritesFirst(patience=0.05)
    queue.append(_task("GET", "old read"))
    time.sleep(0.06)
    queue.append(_task("PATCH", "w1"))
    queue.append(_task("GET", "new read"))
    assert queue.popleft().name == "old read"
    assert _drain(queue) == ["w1", "new read"]


def test_a_task_without_a_parsed_request_is_a_read_and_an_empty_queue_says_so():
    queue = WritesFirst()
    queue.append(SimpleNamespace(request=None, name="error task"))
    queue.append(_task("POST", "w"))
    assert _drain(queue) == ["w", "error task"]
    with pytest.raises(IndexError):
        queue.popleft()


def test_serve_gives_waitress_the_writes_first_queue(monkeypatch, app):
    seen = {}

    def fake_serve(application, **kw):
        seen.update(kw)
        kw["_dispatcher"].shutdown(timeout=1)

    monkeypatch.setattr("waitress.serve", fake_serve)
    monkeypatch.setattr("server.jobs.start_background", lambda app: None)
    serving.serve(app, threads=3, host="127.0.0.1", port=0)
    assert isinstance(seen["_dispatcher"].queue, WritesFirst)
    assert seen["threads"] == 3
