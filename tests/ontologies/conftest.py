"""Shared fixtures for the ontology tests: fixture paths and throwaway cache / data folders."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ontologies"


@pytest.fixture
def fixtures() -> Path:
    """The folder of tiny invented ontology files."""
    return FIXTURES


@pytest.fixture
def hilum_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Point HILUM_CACHE_DIR and HILUM_DATA_DIR at empty temporary folders; returns (cache, data)."""
    cache, data = tmp_path / "cache", tmp_path / "data"
    monkeypatch.setenv("HILUM_CACHE_DIR", str(cache))
    monkeypatch.setenv("HILUM_DATA_DIR", str(data))
    return cache / "ontologies", data / "ontologies"
