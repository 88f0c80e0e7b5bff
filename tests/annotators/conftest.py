"""Fixtures shared by the annotator tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def whisper_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh `HILUM_CACHE_DIR` for one test module: converted whisper checkpoints go there, not to the
    user's cache."""
    folder = tmp_path_factory.mktemp("hilum-cache")
    old = os.environ.get("HILUM_CACHE_DIR")
    os.environ["HILUM_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("HILUM_CACHE_DIR", None)
    else:
        os.environ["HILUM_CACHE_DIR"] = old
