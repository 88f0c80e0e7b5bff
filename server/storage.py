"""Content-addressed blob storage on the local file system. Originals are written once and never modified."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from typing import BinaryIO

from flask import Flask, current_app

CHUNK = 1024 * 1024


class BlobStore:
    """Blobs under `root/ab/<sha256>` (256 folders: a fresh store does not pay for creating a folder per blob);
    writes go to a temp file, are hashed, then renamed into place."""

    def __init__(self, root: str):
        self.root = root
        self._tmp = os.path.join(root, "tmp")
        self._dirs: set[str] = set()
        os.makedirs(self._tmp, exist_ok=True)

    def path(self, sha256: str) -> str:
        """Where the blob with this digest lives (it may not exist)."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 digest")
        return os.path.join(self.root, sha256[:2], sha256)

    def exists(self, sha256: str) -> bool:
        return os.path.exists(self.path(sha256))

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store `data`; return (sha256, size). Idempotent."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not os.path.exists(target):
            self._write_atomic(target, [data])
        return digest, len(data)

    def put_stream(self, stream: BinaryIO, limit: int | None = None) -> tuple[str, int]:
        """Store a stream chunk by chunk; raise OverflowError past `limit` bytes (nothing is kept)."""
        h = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise OverflowError(f"stream exceeds {limit} bytes")
                    h.update(chunk)
                    out.write(chunk)
            digest = h.hexdigest()
            target = self.path(digest)
            if os.path.exists(target):
                os.remove(tmp)
            else:
                self._makedirs(os.path.dirname(target))
                os.chmod(tmp, 0o444)
                os.replace(tmp, target)
            return digest, size
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def read(self, sha256: str) -> bytes:
        with open(self.path(sha256), "rb") as f:
            return f.read()

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def _makedirs(self, folder: str) -> None:
        if folder not in self._dirs:
            os.makedirs(folder, exist_ok=True)
            self._dirs.add(folder)

    def _write_atomic(self, target: str, chunks: list[bytes]) -> None:
        self._makedirs(os.path.dirname(target))
        # A temp name unique to this process and thread, created read-only in one call (no mkstemp, no chmod).
        tmp = os.path.join(self._tmp, f"{os.path.basename(target)}.{os.getpid()}.{threading.get_ident()}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:  # left behind by a crashed process with the same pid
            fd, tmp = tempfile.mkstemp(dir=self._tmp)
            os.chmod(tmp, 0o444)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise


def init_app(app: Flask) -> None:
    app.extensions["hilum.blobs"] = BlobStore(app.config["STORAGE_DIR"])


def blobs() -> BlobStore:
    """The current app's blob store."""
    return current_app.extensions["hilum.blobs"]
