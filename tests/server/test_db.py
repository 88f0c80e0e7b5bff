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
