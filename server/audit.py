"""The audit log: append-only and hash-chained. Details carry identifiers and counts, never PHI."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from server.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _canonical(
    seq: int,
    ts: str,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    project_id: int | None,
    details: str,
) -> bytes:
    body = [seq, ts, actor, action, target_type, target_id, project_id, details]
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()


def chain_hash(prev_hash: str, body: bytes) -> str:
    """The hash of one event given the previous one."""
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    target_type: str = "",
    target_id: Any = "",
    project_id: int | None = None,
    **details: Any,
) -> dict[str, Any]:
    """Append an event in the caller's transaction, so it commits (or rolls back) with the change it records;
    the row as written."""
    # Bumping the head first takes the write lock (row lock on PostgreSQL, database lock on SQLite),
    # so concurrent appenders queue here instead of forking the chain.
    head = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one()
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    details_json = json.dumps(details, sort_keys=True, separators=(",", ":"), default=str)
    target = str(target_id)
    body = _canonical(head.seq, ts, actor, action, target_type, target, project_id, details_json)
    digest = chain_hash(head.hash, body)
    row = {
        "seq": head.seq,
        "ts": ts,
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target,
        "project_id": project_id,
        "details": details_json,
        "prev_hash": head.hash,
        "hash": digest,
    }
    session.execute(insert(AuditEvent), [row])  # a plain INSERT: no unit-of-work flush of unrelated objects
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    return row


@dataclass
class VerifyResult:
    ok: bool
    events: int
    problems: list[str]


def verify(session: Session) -> VerifyResult:
    """Recompute the chain: detects edited rows, deleted rows (gaps, broken links, a head that points past
    the last row) and inserted rows."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    count = 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    for ev in rows.yield_per(1000):
        count += 1
        if ev.seq != expected_seq:
            problems.append(f"events {expected_seq}..{ev.seq - 1} are missing")
        if ev.prev_hash != prev:
            problems.append(f"event {ev.seq}: link to the previous event is broken")
        body = _canonical(ev.seq, ev.ts, ev.actor, ev.action, ev.target_type, ev.target_id, ev.project_id, ev.details)
        if chain_hash(ev.prev_hash, body) != ev.hash:
            problems.append(f"event {ev.seq}: content does not match its hash (edited)")
        prev = ev.hash
        expected_seq = ev.seq + 1
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is None:
        problems.append("the chain head is missing")
    else:
        if head.seq != expected_seq - 1:
            problems.append(f"head says {head.seq} events, the log ends at {expected_seq - 1} (tail deleted)")
        elif head.hash != prev:
            problems.append("head hash does not match the last event")
    return VerifyResult(ok=not problems, events=count, problems=problems)


def as_dict(ev: AuditEvent) -> dict[str, Any]:
    return {
        "seq": ev.seq,
        "ts": ev.ts,
        "actor": ev.actor,
        "action": ev.action,
        "target_type": ev.target_type,
        "target_id": ev.target_id,
        "project_id": ev.project_id,
        "details": json.loads(ev.details),
        "hash": ev.hash,
    }
