"""Parse, validate, hash and store DICOM files in worker processes, so that a large import uses every core.

Only the pure-file work runs in the workers (pydicom parsing holds the GIL, so threads would not help); the
database work stays in the calling process and sees the files in their original order. The pool starts once per
worker count and is reused. Workers come from a fork server (a clean interpreter with this module preloaded), not
from forking the caller: a forked child would inherit the caller's open descriptors (database sockets, pipes to
other programs) and keep them open after the caller closes them. Like any multiprocessing pool, the calling
program's `__main__` must be import-safe (the `hilum` command is; a script needs `if __name__ == "__main__":`).

    with Prefetcher(items, blob_root, workers=2) as files:
        for item, prepared in files:      # Prepared; the HilumError raised reading the item; or None for a
            ...                           # file too big to copy to a worker (handle it in process)
"""

from __future__ import annotations

import atexit
import enum
import multiprocessing
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from annotators import dicom
from annotators.errors import EngineError
from server.errors import HilumError
from server.ingest.sources import Item
from server.storage import BlobStore

CHUNK = 16  # files per task: amortises the cost of a task hand-off (~0.1 ms) over many files
WINDOW = 8  # tasks in flight per worker
MAX_INFLIGHT_BYTES = 256 * 1024**2  # ... and never more than this many bytes of files read ahead
LOCAL_BYTES = 64 * 1024**2  # a file this big is handled in the calling process, not copied to a worker


@dataclass(frozen=True)
class Prepared:
    """The outcome of the file work on one DICOM file: its header info and stored blob, or why it failed."""

    info: dicom.DicomInstanceInfo | None = None
    sha256: str | None = None
    size: int = 0
    dicomdir: bool = False
    code: str | None = None  # set on failure, with message
    message: str | None = None


def prepare(data: bytes, store: BlobStore) -> Prepared:
    """Validate one DICOM file and store its bytes by content (idempotent). Never raises for bad input."""
    if not data:
        return Prepared(code="empty_file", message="the file is empty")
    try:
        info = dicom.read_info(data)
    except dicom.DicomDirError:
        return Prepared(dicomdir=True)
    except (EngineError, HilumError) as exc:
        return Prepared(code=getattr(exc, "code", "invalid_file"), message=getattr(exc, "message", None) or str(exc))
    sha, size = store.put_packed(data)
    return Prepared(info, sha, size)


_stores: dict[str, BlobStore] = {}


def _prepare_chunk(blob_root: str, chunk: list[bytes]) -> list[Prepared]:
    """Worker entry point."""
    store = _stores.get(blob_root) or _stores.setdefault(blob_root, BlobStore(blob_root))
    return [prepare(data, store) for data in chunk]


_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def pool(workers: int) -> ProcessPoolExecutor:
    """The shared pool of `workers` spawned processes, started on first use."""
    with _pools_lock:
        if workers not in _pools:
            if "forkserver" in multiprocessing.get_all_start_methods():
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload([__name__])
            else:
                context = multiprocessing.get_context("spawn")
            _pools[workers] = ProcessPoolExecutor(workers, mp_context=context)
        return _pools[workers]


def _discard(workers: int) -> None:
    with _pools_lock:
        executor = _pools.pop(workers, None)
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)


@atexit.register
def shutdown() -> None:
    """Stop the worker processes (also called at interpreter exit)."""
    with _pools_lock:
        for executor in _pools.values():
            executor.shutdown(cancel_futures=True)
        _pools.clear()


Outcome = Prepared | HilumError | None


class WorkerSays(enum.Enum):
    """Placeholder for an outcome the worker process will give."""

    WORKER = "worker"


WORKER = WorkerSays.WORKER


class Prefetcher:
    """Yields (item, outcome) in input order while the workers prepare the files ahead of the consumer."""

    def __init__(self, items: Iterable[Item], blob_root: str, workers: int):
        self.items = iter(items)
        self.blob_root = blob_root
        self.workers = workers
        self.queue: deque[tuple[list[Item], list[Outcome | WorkerSays], int, Future[list[Prepared]] | None]] = deque()
        self.inflight = 0  # bytes read ahead

    def __enter__(self) -> Iterator[tuple[Item, Outcome]]:
        return self._run()

    def __exit__(self, *_exc: object) -> None:
        for *_rest, future in self.queue:
            if future is not None:
                future.cancel()
        self.queue.clear()

    def _submit(self) -> bool:
        """Read the next chunk of files and hand it to a worker; False when there is nothing left."""
        items: list[Item] = []
        early: list[Outcome | WorkerSays] = []  # an outcome known without the worker, or WORKER
        payload: list[bytes] = []
        size = 0
        for item in self.items:
            outcome: Outcome | WorkerSays = WORKER
            try:
                data = item.read()
            except HilumError as exc:
                data, outcome = b"", exc
            if len(data) > LOCAL_BYTES:
                data, outcome = b"", None
            items.append(item)
            early.append(outcome)
            payload.append(data)
            size += len(data)
            if len(items) == CHUNK or size > MAX_INFLIGHT_BYTES // (WINDOW * self.workers):
                break
        if not items:
            return False
        needed = any(outcome is WORKER for outcome in early)
        future = pool(self.workers).submit(_prepare_chunk, self.blob_root, payload) if needed else None
        self.queue.append((items, early, size, future))
        self.inflight += size
        return True

    def _fill(self) -> None:
        while len(self.queue) < WINDOW * self.workers and self.inflight < MAX_INFLIGHT_BYTES and self._submit():
            pass

    def _run(self) -> Iterator[tuple[Item, Outcome]]:
        self._fill()
        while self.queue:
            items, early, size, future = self.queue.popleft()
            self.inflight -= size
            self._fill()
            try:
                outcomes = future.result() if future is not None else early  # no worker needed: all known
            except BrokenProcessPool:  # a worker died (killed, out of memory): the next batch starts a new pool
                _discard(self.workers)
                raise
            for item, known, prepared in zip(items, early, outcomes, strict=True):
                yield item, (prepared if known is WORKER else known)
