"""The SQLite engine: WAL, foreign keys, and writers of one process queued on a lock (not SQLite's sleeps)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from server.db import make_engine


def _engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)"))
    return engine


def test_a_second_writer_waits_for_the_first_to_commit_and_goes_at_once(tmp_path):
    engine = _engine(tmp_path)
    order: list[str] = []
    first = engine.connect()
    first.execute(text("INSERT INTO t (who) VALUES ('first')"))  # holds the writer lock, uncommitted
    assert first.info.get("hilum_writer") is True

    def second() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (who) VALUES ('second')"))
        order.append("second committed")

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.3)
    assert order == []  # still waiting
    with engine.connect() as reader:  # readers are never blocked (WAL)
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    order.append("first committed")
    first.commit()
    assert "hilum_writer" not in first.info
    thread.join(timeout=5)
    assert order == ["first committed", "second committed"]
    first.close()


def test_rollback_and_a_connection_returned_mid_transaction_release_the_lock(tmp_path):
    engine = _engine(tmp_path)
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO t (who) VALUES ('undone')"))
        conn.rollback()
    abandoned = engine.connect()
    abandoned.execute(text("INSERT INTO t (who) VALUES ('abandoned')"))
    abandoned.close()  # back to the pool without a commit
    done = threading.Event()

    def writer() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (who) VALUES ('kept')"))
        done.set()

    threading.Thread(target=writer).start()
    assert done.wait(timeout=5)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t")).scalars().all() == ["kept"]


def test_writers_of_two_processes_queue_on_the_lock_file(tmp_path):
    """`hilum serve --workers`, Celery workers and CLI imports write to one SQLite file from several processes:
    a writer of another process holds the lock file, and ours waits for its commit, not for SQLite's sleeps."""
    import fcntl
    import subprocess
    import sys

    engine = _engine(tmp_path)
    database = tmp_path / "w.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from sqlalchemy import text; from server.db import make_engine\n"
         f"conn = make_engine('sqlite:///{database}').connect()\n"
         "conn.execute(text(\"INSERT INTO t (who) VALUES ('other process')\"))\n"
         "print('holding', flush=True); sys.stdin.readline(); conn.commit(); print('committed', flush=True)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "holding"
        with open(f"{database}.writer-lock", "rb") as probe:  # the other process holds the file lock
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                raise AssertionError("the lock file is not locked by the writing process")
            except BlockingIOError:
                pass
        done = threading.Event()

        def ours() -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t (who) VALUES ('this process')"))
            done.set()

        thread = threading.Thread(target=ours)
        thread.start()
        assert not done.wait(0.3)  # waiting for the other process
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "committed"
        assert done.wait(5)
        thread.join()
    finally:
        child.kill() if child.poll() is None else None
        child.wait()
        child.stdin.close()
        child.stdout.close()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT who FROM t ORDER BY id")).scalars().all()
    assert rows == ["other process", "this process"]
