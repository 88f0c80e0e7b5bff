"""Content-addressed blob storage on the local file system. Originals are written once and never modified.

A blob is either a file of its own (`root/ab/<sha256>`: uploads, audio, anything streamed or large) or packed
(`server.packs`: the small DICOM instances of an ingest, appended to this process's pack file, because creating a
file per instance costs more than parsing it on some file systems). Callers need not know which: `exists`,
`read`, `open` and `path` take the digest and answer for both.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import time
from typing import BinaryIO

from flask import Flask, current_app

from server.packs import PACK_DIR, PackError, PackIndex, PackWriter, read_packed

CHUNK = 1024 * 1024
PACK_BLOB_MAX = 8 * 1024 * 1024  # larger blobs get a file of their own even when packing is asked for


class BlobStore:
    """Blobs under `root/ab/<sha256>` (256 folders: a fresh store does not pay for creating a folder per blob);
    writes go to a temp file, are hashed, then renamed into place."""

    def __init__(self, root: str):
        self.root = root
        self._tmp = os.path.join(root, "tmp")
        self._dirs: set[str] = set()
        os.makedirs(self._tmp, exist_ok=True)
        packs = os.path.join(root, PACK_DIR)
        self._packer = PackWriter(packs)
        self._packed = PackIndex(packs)
        self._packed_seen = -2.0

    def _file(self, sha256: str) -> str:
        """The path of the blob's own file (which exists only for blobs that are not packed)."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 digest")
        return os.path.join(self.root, sha256[:2], sha256)

    def path(self, sha256: str) -> str:
        """A file holding exactly the blob's bytes, for libraries that want a path. A packed blob is copied to a
        file of its own on first use; an unknown digest gives the path where its file would be."""
        target = self._file(sha256)
        if not os.path.exists(target) and (packed := self._packed.get(sha256)) is not None:
            self._write_atomic(target, [read_packed(sha256, *packed)])
        return target

    def exists(self, sha256: str) -> bool:
        return os.path.exists(self._file(sha256)) or self._packed.get(sha256) is not None

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store `data` as a file of its own; return (sha256, size). Idempotent."""
        digest = hashlib.sha256(data).hexdigest()
        target = self._file(digest)
        if not os.path.exists(target):
            self._write_atomic(target, [data])
        return digest, len(data)

    def put_packed(self, data: bytes) -> tuple[str, int]:
        """Store `data` in this process's pack file (a file of its own past `PACK_BLOB_MAX`); return (sha256,
        size). Idempotent: content already stored, packed or not, is not written again."""
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > PACK_BLOB_MAX:
            return self.put_bytes(data)
        if self._packed.get(digest, refresh=False) is None and time.monotonic() - self._packed_seen > 1.0:
            self._packed.refresh()  # what other processes packed lately (at most once a second)
            self._packed_seen = time.monotonic()
        if self._packed.get(digest, refresh=False) is None and not os.path.exists(self._file(digest)):
            name, offset = self._packer.append(digest, data)
            self._packed.add(digest, name, offset, len(data))
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
            target = self._file(digest)
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
        """The blob's bytes; FileNotFoundError for an unknown digest, PackError for a damaged pack."""
        target = self._file(sha256)
        if not os.path.exists(target) and (packed := self._packed.get(sha256)) is not None:
            return read_packed(sha256, *packed)
        with open(target, "rb") as f:
            return f.read()

    def open(self, sha256: str) -> BinaryIO:
        """The blob as a binary file object (the caller closes it)."""
        target = self._file(sha256)
        if not os.path.exists(target) and (packed := self._packed.get(sha256)) is not None:
            return io.BytesIO(read_packed(sha256, *packed))
        return open(target, "rb")

    def check(self, sha256: str, size: int | None = None) -> str | None:
        """Why the stored blob is not exactly the bytes its digest names (missing, damaged, wrong size), or None
        when it is. A file of its own is hashed in chunks (it may be gigabytes); a packed blob is checked by
        `read_packed` as it is read."""
        target = self._file(sha256)
        if os.path.exists(target):
            digest, length = hashlib.sha256(), 0
            with open(target, "rb") as f:
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
                    length += len(chunk)
            if digest.hexdigest() != sha256:
                return "damaged: its bytes no longer hash to its name"
        else:
            if (packed := self._packed.get(sha256)) is None:
                return "missing"
            try:
                length = len(read_packed(sha256, *packed))
            except PackError as exc:
                return str(exc)
        if size is not None and length != size:
            return f"wrong size: {length} bytes, the database says {size}"
        return None

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
