"""How `hilum serve` hands requests to threads (`server.scheduling`): under load a waiting save goes ahead of
waiting reads, and a read that has waited `patience` goes next, so reads are delayed, never starved; a long
request gets the pool a thread more, and the pool shrinks back when nothing waits."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from server import serving
from server.scheduling import Dispatcher, WritesFirst


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
    assert isinstance(seen["_dispatcher"], Dispatcher)
    assert isinstance(seen["_dispatcher"].queue, WritesFirst)
    assert seen["threads"] == 3


class _Job:
    def __init__(self, seconds: float, done: list[str], name: str) -> None:
        self.request = SimpleNamespace(command="GET")
        self.seconds, self.done, self.name = seconds, done, name

    def service(self) -> None:
        time.sleep(self.seconds)
        self.done.append(self.name)

    def cancel(self) -> None:
        pass


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_long_request_does_not_hold_up_the_ones_behind_it_and_the_pool_shrinks_after():
    dispatcher = Dispatcher(1, most=4, long_after=0.2)
    done: list[str] = []
    try:
        dispatcher.add_task(_Job(2.0, done, "upload"))
        time.sleep(0.05)
        dispatcher.add_task(_Job(0.0, done, "page of tasks"))
        _wait_for(lambda: "page of tasks" in done)
        assert done == ["page of tasks"], "the short request waited for the long one"
        assert dispatcher.size == 2
        _wait_for(lambda: "upload" in done)
        _wait_for(lambda: dispatcher.size == 1)
    finally:
        dispatcher.stop_growing()
        dispatcher.shutdown(timeout=3)


def test_short_requests_alone_never_grow_the_pool():
    dispatcher = Dispatcher(1, most=4, long_after=0.2)
    done: list[str] = []
    try:
        for k in range(30):
            dispatcher.add_task(_Job(0.01, done, str(k)))
        _wait_for(lambda: len(done) == 30)
        assert dispatcher.size == 1
        assert done == [str(k) for k in range(30)]
    finally:
        dispatcher.stop_growing()
        dispatcher.shutdown(timeout=3)


def test_a_connection_is_classified_by_its_next_request_and_left_as_it_was():
    """waitress queues the connection itself, again for every request on it: the dispatcher must neither
    change it (a wrapper per request would nest without end) nor read a request other than its next one."""
    dispatcher = Dispatcher(1, most=1)
    served: list[str] = []
    try:
        connection = SimpleNamespace(requests=[SimpleNamespace(command="POST")], request=None,
                                     service=lambda: served.append("served"), cancel=lambda: None)
        original = connection.service
        for _ in range(200):
            dispatcher.add_task(connection)
        _wait_for(lambda: len(served) == 200)
        assert connection.service is original
        assert WritesFirst.SAFE.isdisjoint({"POST"})
        queue = WritesFirst()
        queue.append(SimpleNamespace(requests=[], request=SimpleNamespace(command="GET"), name="read"))
        queue.append(SimpleNamespace(requests=[SimpleNamespace(command="PATCH")], request=None, name="save"))
        assert _drain(queue) == ["save", "read"]
    finally:
        dispatcher.stop_growing()
        dispatcher.shutdown(timeout=3)
