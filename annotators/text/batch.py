"""Annotate many texts on every core: batches of `(id, text)` go to worker processes, each of which builds the
pipeline once; results come back in input order as JSON-ready records `{"id", "spans": [...]}`."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

from annotators.text.pipeline import TextSpan, annotate, get_pipeline

_CONFIG: Path | None = None


def usable_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def annotate_batch(batch: list[tuple[Any, str]], config: Path | None = None) -> list[tuple[Any, list[TextSpan]]]:
    """(id, spans) for each (id, text) of `batch`, with the pipeline of `config` (built once per process)."""
    nlp = get_pipeline(config or _CONFIG)
    return list(zip((doc_id for doc_id, _ in batch), annotate([text for _, text in batch], nlp), strict=True))


def _worker_init(config: Path | None) -> None:
    global _CONFIG
    _CONFIG = config
    get_pipeline(config)


def _batches(records: Iterable[tuple[Any, str]], size: int) -> Iterator[list[tuple[Any, str]]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def annotate_many(
    records: Iterable[tuple[Any, str]],
    workers: int | None = None,
    batch_size: int = 32,
    config: Path | None = None,
) -> Iterator[tuple[Any, list[TextSpan]]]:
    """(id, spans) for each (id, text), in input order; `workers` processes (default: every core; 1 = here)."""
    workers = workers or usable_cores()
    if workers <= 1:
        for batch in _batches(records, batch_size):
            yield from annotate_batch(batch, config)
        return
    get_pipeline(config)  # built (and knowledge bases built) once here; the forked workers share it
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init, initargs=(config,)) as pool:
        pending: list[Any] = []
        for batch in _batches(records, batch_size):
            pending.append(pool.submit(annotate_batch, batch))
            if len(pending) >= workers * 3:  # bounded memory: at most a few batches in flight per worker
                yield from pending.pop(0).result()
        for future in pending:
            yield from future.result()
