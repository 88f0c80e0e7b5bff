"""Parse, validate, hash and store DICOM files in worker processes, so that a large import uses every core.

Only the pure-file work runs in the workers (pydicom parsing holds the GIL, so threads would not help); the
database work stays in the calling process and sees the files in their original order. The pool starts once per
worker count and is reused. Workers are forked where the platform allows it: a spawned worker re-imports the
caller's `__main__` (slow to start, and fatal in an unguarded script); a forked one touches nothing it inherits
except this module's pure file work (no database handle, no logging, no threads of its own) and leaves with
`os._exit`, so the inherited connections are never closed or used from the child.

    with Prefetcher(items, blob_root, workers=2) as files:
        for item, prepared in files:      # prepared: Prepared, or the HilumError raised reading the item
            ...
"""

from __future__ import annotations

import atexit
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
WINDOW = 8  # tasks in flight per worker: bounds memory to WINDOW * CHUNK files per worker


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
    sha, size = store.put_bytes(data)
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
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            _pools[workers] = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))
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


Outcome = Prepared | HilumError


class Prefetcher:
    """Yields (item, outcome) in input order while the workers prepare the files ahead of the consumer."""

    def __init__(self, items: Iterable[Item], blob_root: str, workers: int):
        self.items = iter(items)
        self.blob_root = blob_root
        self.workers = workers
        self.queue: deque[tuple[list[Item], list[HilumError | None], Future[list[Prepared]]]] = deque()

    def __enter__(self) -> Iterator[tuple[Item, Outcome]]:
        return self._run()

    def __exit__(self, *_exc: object) -> None:
        for _items, _errors, future in self.queue:
            future.cancel()
        self.queue.clear()

    def _submit(self) -> bool:
        items: list[Item] = []
        errors: list[HilumError | None] = []
        payload: list[bytes] = []
        for item in self.items:
            try:
                data, error = item.read(), None
            except HilumError as exc:
                data, error = b"", exc
            items.append(item)
            errors.append(error)
            payload.append(data)
            if len(items) == CHUNK:
                break
        if not items:
            return False
        self.queue.append((items, errors, pool(self.workers).submit(_prepare_chunk, self.blob_root, payload)))
        return True

    def _run(self) -> Iterator[tuple[Item, Outcome]]:
        while len(self.queue) < WINDOW * self.workers and self._submit():
            pass
        while self.queue:
            items, errors, future = self.queue.popleft()
            self._submit()
            try:
                outcomes = future.result()
            except BrokenProcessPool:  # a worker died (killed, out of memory): the next batch starts a new pool
                _discard(self.workers)
                raise
            for item, error, prepared in zip(items, errors, outcomes, strict=True):
                yield item, error or prepared
