"""Packed blobs: the blob store's bulk path (server/packs.py) keeps content addressing, write-once bytes and
idempotency, survives a crash mid-write, and refuses to return damaged bytes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os

import pytest

from server import packs, storage
from server.packs import PackError
from server.storage import BlobStore


def _pack_files(root: str, ext: str) -> list[str]:
    folder = os.path.join(root, packs.PACK_DIR)
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(ext))


def test_a_packed_blob_reads_back_exactly_through_every_accessor(tmp_path):
    store = BlobStore(str(tmp_path))
    data = os.urandom(5000)
    sha, size = store.put_packed(data)
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), 5000)
    assert not os.path.exists(store._file(sha))  # no file of its own
    assert store.exists(sha)
    assert store.read(sha) == data
    with store.open(sha) as f:
        assert f.read() == data
    path = store.path(sha)  # for libraries that want a path: copied out once
    with open(path, "rb") as f:
        assert f.read() == data
    assert store.read(sha) == data


def test_packing_the_same_bytes_again_writes_nothing(tmp_path):
    store = BlobStore(str(tmp_path))
    data = os.urandom(3000)
    store.put_packed(data)
    [pack] = _pack_files(str(tmp_path), ".pack")
    before = os.path.getsize(pack)
    store.put_packed(data)
    BlobStore(str(tmp_path)).put_packed(data)  # another store (process) on the same folder knows it too
    assert [os.path.getsize(p) for p in _pack_files(str(tmp_path), ".pack")] == [before]
    loose = os.urandom(100)
    sha, _ = store.put_bytes(loose)
    store.put_packed(loose)  # stored as a file already: not packed as well
    assert sum(os.path.getsize(p) for p in _pack_files(str(tmp_path), ".pack")) == before


def test_another_store_on_the_same_folder_finds_packed_blobs(tmp_path):
    writer, reader = BlobStore(str(tmp_path)), BlobStore(str(tmp_path))
    assert not reader.exists("0" * 64)
    blobs = [os.urandom(n) for n in (10, 2000, 70000)]
    shas = [writer.put_packed(b)[0] for b in blobs]
    assert [reader.read(s) for s in shas] == blobs


def test_big_blobs_get_a_file_of_their_own(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "PACK_BLOB_MAX", 1000)
    store = BlobStore(str(tmp_path))
    sha, _ = store.put_packed(os.urandom(1001))
    assert os.path.exists(store._file(sha))
    assert not os.path.exists(os.path.join(str(tmp_path), packs.PACK_DIR))


def test_an_index_line_cut_short_by_a_crash_is_ignored(tmp_path):
    store = BlobStore(str(tmp_path))
    data = os.urandom(400)
    sha, _ = store.put_packed(data)
    [index] = _pack_files(str(tmp_path), ".idx")
    with open(index, "ab") as f:
        f.write(b"ab" * 20)  # half a line: the crash came before its bytes were all written
    fresh = BlobStore(str(tmp_path))
    assert fresh.read(sha) == data
    assert not fresh.exists("ab" * 32)


def test_damaged_packed_bytes_raise_instead_of_returning_wrong_content(tmp_path):
    store = BlobStore(str(tmp_path))
    sha, _ = store.put_packed(b"original bytes of an instance")
    [pack] = _pack_files(str(tmp_path), ".pack")
    with open(pack, "r+b") as f:
        f.write(b"X")
    with pytest.raises(PackError, match="damaged"):
        BlobStore(str(tmp_path)).read(sha)


def test_a_malformed_index_is_an_error_not_a_guess(tmp_path):
    folder = tmp_path / packs.PACK_DIR
    folder.mkdir()
    (folder / "1-x.idx").write_bytes(b"not an index line\n")
    with pytest.raises(PackError, match="malformed"):
        BlobStore(str(tmp_path)).exists("0" * 64)


def _child_packs(root: str, queue) -> None:  # noqa: ANN001
    store = _inherited[root]
    queue.put(store.put_packed(b"written by the forked child")[0])


_inherited: dict[str, BlobStore] = {}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_writes_a_pack_of_its_own(tmp_path):
    store = BlobStore(str(tmp_path))
    store.put_packed(b"written by the parent")
    _inherited[str(tmp_path)] = store
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_packs, args=(str(tmp_path), queue))
    child.start()
    sha = queue.get(timeout=30)
    child.join(30)
    assert child.exitcode == 0
    assert len(_pack_files(str(tmp_path), ".pack")) == 2
    store.put_packed(b"written by the parent again")
    assert store.read(sha) == b"written by the forked child"
    assert BlobStore(str(tmp_path)).read(store.put_packed(b"written by the parent again")[0]) == (
        b"written by the parent again"
    )


def test_check_names_what_is_wrong_with_a_stored_blob(tmp_path):
    store = BlobStore(str(tmp_path))
    packed, _ = store.put_packed(b"a packed instance")
    loose, _ = store.put_bytes(b"a report of its own")
    assert store.check(packed, 17) is None and store.check(loose, 19) is None
    assert store.check(loose, 20) == "wrong size: 19 bytes, the database says 20"
    os.chmod(store._file(loose), 0o644)
    with open(store._file(loose), "r+b") as f:
        f.write(b"A")
    assert store.check(loose).startswith("damaged")
    assert store.check("0" * 64) == "missing"
