"""Where files come from: HTTP uploads, a folder or file on disk, a zip. Each yields `Item`s; a zip is checked
for path tricks and size bombs before anything in it is read."""

from __future__ import annotations

import os
import posixpath
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from server.errors import ValidationError


@dataclass
class Item:
    """One input file. `name` is the display/relative name (never used as a storage path)."""

    name: str
    read: Callable[[], bytes]
    size: int


@dataclass(frozen=True)
class Limits:
    max_archive_bytes: int
    max_members: int
    max_ratio: int

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        """The archive limits of an app config (HILUM_MAX_ARCHIVE_BYTES, _MEMBERS, _COMPRESSION_RATIO)."""
        return cls(config["MAX_ARCHIVE_BYTES"], config["MAX_ARCHIVE_MEMBERS"], config["MAX_COMPRESSION_RATIO"])


class UnsafeArchive(ValidationError):
    status, code = 422, "unsafe_archive"


def check_filename(name: str) -> str:
    """A client-supplied file name: plain names and relative sub-paths are fine; absolute paths, `..`, drive
    letters, NUL and control characters are refused."""
    if not name or len(name) > 1024:
        raise ValidationError("file name missing or too long", code="invalid_filename")
    norm = name.replace("\\", "/")
    parts = norm.split("/")
    if (
        norm.startswith("/")
        or ".." in parts
        or (len(parts[0]) == 2 and parts[0][1] == ":")
        or any(ord(c) < 32 for c in norm)
    ):
        raise ValidationError("file names must not contain absolute paths or '..'", code="invalid_filename")
    return posixpath.normpath(norm)


def from_directory(root: str) -> Iterator[Item]:
    """Every regular file under `root` (symlinks are not followed), in sorted order."""
    root = os.path.abspath(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            path = os.path.join(dirpath, fn)
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                continue
            yield Item(os.path.relpath(path, root).replace(os.sep, "/"), _reader(path), st.st_size)


def from_path(path: str) -> Iterator[Item]:
    if os.path.isdir(path):
        yield from from_directory(path)
    else:
        yield Item(os.path.basename(path), _reader(path), os.path.getsize(path))


def _reader(path: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with open(path, "rb") as f:
            return f.read()

    return read


def is_zip(name: str, head: bytes) -> bool:
    return name.lower().endswith(".zip") or head[:4] == b"PK\x03\x04"


def from_zip(fileobj: IO[bytes], archive_name: str, limits: Limits) -> Iterator[Item]:
    """The members of a zip, after checking the whole central directory: member count, total uncompressed
    size, compression ratio, names, and symlinks. Reads are bounded by the declared sizes."""
    try:
        zf = zipfile.ZipFile(fileobj)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValidationError("not a readable zip archive", code="invalid_archive") from exc
    if len(infos) > limits.max_members:
        raise UnsafeArchive(f"archive has more than {limits.max_members} members")
    total = sum(i.file_size for i in infos)
    if total > limits.max_archive_bytes:
        raise UnsafeArchive(f"archive expands to more than {limits.max_archive_bytes} bytes")
    for info in infos:
        try:
            check_filename(info.filename)
        except ValidationError as exc:
            raise UnsafeArchive("archive member names must not contain absolute paths or '..'") from exc
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeArchive("archive contains symbolic links")
        if info.file_size > 1_000_000 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeArchive("archive member has a suspicious compression ratio (zip bomb)")
    for info in infos:
        if info.is_dir():
            continue
        yield Item(f"{archive_name}/{info.filename}", _zip_reader(zf, info), info.file_size)


def _zip_reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        with zf.open(info) as member:
            data = member.read(info.file_size + 1)
        if len(data) > info.file_size:
            raise UnsafeArchive("archive member is larger than declared")
        return data

    return read
