"""How `hilum serve` hands parsed requests to its threads (waitress's task dispatcher, two changes).

- Waiting saves go before waiting reads (`WritesFirst`).
- A few threads serve short requests best (Python runs one at a time; more only stretch each request), but a
  long request (an upload being parsed and stored) holds its thread for seconds. So while every thread is busy,
  requests are waiting and one of the busy threads has run its request for `LONG_REQUEST` seconds, the pool
  grows by a thread (up to `MOST_THREADS`), and it shrinks back to its size once nothing waits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from waitress.task import ThreadedTaskDispatcher

LONG_REQUEST = 0.5  # seconds a request runs before it counts as long (the budget of a page of tasks: 0.3 s)
MOST_THREADS = 16  # per process, however many long requests run
WATCH_EVERY = 0.2  # seconds between looks at the pool


class WritesFirst:
    """waitress's queue of parsed requests waiting for a free thread, with writes served ahead of reads.

    Under load every request waits here; a save is what an annotator waits on with their hands still (the
    issue's budget: 50 ms), a page of tasks or a frame can wait longer (300 ms). So a waiting write goes first,
    unless the oldest waiting read has waited `patience` seconds: then that read goes, so reads are delayed by
    writes, never starved by them. Order within writes and within reads stays first come, first served.
    """

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, patience: float = 0.25) -> None:
        self.patience = patience
        self.writes: deque[Any] = deque()
        self.reads: deque[tuple[float, Any]] = deque()

    def append(self, task: Any) -> None:
        if _method(task) in self.SAFE:
            self.reads.append((time.monotonic(), task))
        else:
            self.writes.append(task)

    def popleft(self) -> Any:
        overdue = bool(self.reads) and time.monotonic() - self.reads[0][0] >= self.patience
        if self.writes and not overdue:
            return self.writes.popleft()
        if self.reads:
            return self.reads.popleft()[1]
        raise IndexError("pop from an empty queue")

    def __len__(self) -> int:
        return len(self.writes) + len(self.reads)


def _method(task: Any) -> str:
    """The HTTP method of the request a task will serve: waitress queues a connection (its next request is the
    first of `requests`) or an error task (its `request`); unknown counts as a read."""
    queued = getattr(task, "requests", None)
    request = queued[0] if queued else getattr(task, "request", None)
    return str(getattr(request, "command", None) or "GET").upper()


class _Timed:
    """A queued task that notes in `started` when its service begins and removes the note when it ends."""

    def __init__(self, task: Any, started: dict[int, float]) -> None:
        self.task = task
        self.started = started

    def service(self) -> None:
        self.started[id(self)] = time.monotonic()
        try:
            self.task.service()
        finally:
            self.started.pop(id(self), None)

    def cancel(self) -> None:
        self.task.cancel()

    def __getattr__(self, name: str) -> Any:  # request, requests: what `WritesFirst` reads
        return getattr(self.task, name)


class Dispatcher(ThreadedTaskDispatcher):  # type: ignore[misc]
    """waitress's dispatcher with the `WritesFirst` queue and a pool that grows while requests run long."""

    def __init__(self, threads: int, most: int = MOST_THREADS, long_after: float = LONG_REQUEST) -> None:
        super().__init__()
        self.queue = WritesFirst()
        self.base = threads
        self.most = max(threads, most)
        self.long_after = long_after
        self.started: dict[int, float] = {}  # id of a running task → when it started
        self.set_thread_count(threads)
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="hilum-threads", daemon=True)
        self._watcher.start()

    @property
    def size(self) -> int:
        """Threads in the pool, not counting those told to leave (waitress's own count)."""
        return len(self.threads) - self.stop_count

    def add_task(self, task: Any) -> None:
        super().add_task(_Timed(task, self.started))

    def resize(self) -> int:
        """Grow by one thread when requests wait behind busy threads one of which runs long; back to the base
        size when nothing waits. The pool's size afterwards."""
        now = time.monotonic()
        with self.lock:
            waiting, size = len(self.queue), self.size
        running = list(self.started.values())
        if waiting and len(running) >= size and size < self.most and any(now - t >= self.long_after for t in running):
            self.set_thread_count(size + 1)
        elif not waiting and size > self.base:
            self.set_thread_count(self.base)  # idle threads leave now, busy ones after their request
        return self.size

    def stop_growing(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_EVERY):
            self.resize()
