"""Configuration: defaults, validated. A bad value stops startup; nothing falls back silently."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # default: sqlite:///<instance>/hilum.sqlite3
    "STORAGE_DIR": None,  # default: <instance>/blobs
    "BROKER_URL": None,  # None: in-process jobs; redis://...: Celery workers
    "MAX_UPLOAD_BYTES": 2 * 1024**3,  # one request body
    "MAX_ARCHIVE_BYTES": 8 * 1024**3,  # total uncompressed size of one zip
    "MAX_ARCHIVE_MEMBERS": 100_000,
    "MAX_COMPRESSION_RATIO": 200,
    "SESSION_MINUTES": 30,
    "TOKEN_DAYS": 90,
    "JOB_MAX_ATTEMPTS": 3,
    "JOB_WORKERS": 2,
    "INGEST_WORKERS": min(os.cpu_count() or 1, 4),  # processes that parse DICOM in a big import; 1: in-process
    "INGEST_PARALLEL_MIN": 128,  # DICOM files in one batch before the worker processes are used
    "AUTO_MIGRATE": True,
    "PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 500,
    "AUTO_TRANSCRIBE": True,  # an uploaded recording starts a transcription job
    "TRANSCRIPTION_ENGINE": "faster-whisper",
    "TRANSCRIPTION_MODEL": "tiny.en",
    "TRANSCRIPTION_DEVICE": "cpu",
}

_CHOICES = {
    "TRANSCRIPTION_ENGINE": ("faster-whisper", "openai-whisper"),
    "TRANSCRIPTION_DEVICE": ("cpu", "cuda", "auto"),
}

_INT_KEYS = {
    "MAX_UPLOAD_BYTES",
    "MAX_ARCHIVE_BYTES",
    "MAX_ARCHIVE_MEMBERS",
    "MAX_COMPRESSION_RATIO",
    "SESSION_MINUTES",
    "TOKEN_DAYS",
    "JOB_MAX_ATTEMPTS",
    "JOB_WORKERS",
    "INGEST_WORKERS",
    "INGEST_PARALLEL_MIN",
    "PAGE_SIZE",
    "MAX_PAGE_SIZE",
}


class ConfigError(Exception):
    """A configuration value is missing or invalid; the server refuses to start."""


def finalize(config: dict[str, Any], instance_path: str) -> None:
    """Fill derived defaults and validate every known key in place."""
    for key in _INT_KEYS:
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"HILUM_{key} must be an integer, got {config[key]!r}") from exc
        if config[key] <= 0:
            raise ConfigError(f"HILUM_{key} must be positive, got {config[key]}")
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "hilum.sqlite3")
    url = config["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not url.startswith(("sqlite://", "postgresql+psycopg://")):
        raise ConfigError("HILUM_DATABASE_URL must be a sqlite:/// or postgresql:// URL")
    config["DATABASE_URL"] = url
    if not config.get("STORAGE_DIR"):
        config["STORAGE_DIR"] = os.path.join(instance_path, "blobs")
    broker = config.get("BROKER_URL")
    if broker and not str(broker).startswith(("redis://", "rediss://")):
        raise ConfigError("HILUM_BROKER_URL must be a redis:// URL (or unset for in-process jobs)")
    for key, allowed in _CHOICES.items():
        if config[key] not in allowed:
            raise ConfigError(f"HILUM_{key} must be one of {', '.join(allowed)}, got {config[key]!r}")
    if not isinstance(config["AUTO_TRANSCRIBE"], bool):
        raise ConfigError("HILUM_AUTO_TRANSCRIBE must be true or false")
    if not config.get("SECRET_KEY"):
        raise ConfigError("no SECRET_KEY: set HILUM_SECRET_KEY or let the instance folder hold one")
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=config["SESSION_MINUTES"])
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_BYTES"]
