"""The append-only audit log of cases and reviewers, chained by hashes.

Every change is one row: who, when, what (action, entity, id) and the before/after JSON.
Each row stores the hash of the previous row and the SHA-256 of its own content together
with that previous hash, so changing, deleting or reordering any row breaks the chain; the
head row (last sequence number and hash) catches a deleted last row. `verify` walks the
chain and names every broken link.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openimr.cases.tables import AuditHeadRow, AuditRow

GENESIS = "0" * 64


def canonical(value: object) -> str:
    """Stable JSON text of a value: sorted keys, no spaces, dates as ISO strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def default_actor() -> str:
    """Who is acting: $OPENIMR_ACTOR, else the operating-system user."""
    try:
        return os.environ.get("OPENIMR_ACTOR") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def row_hash(fields: dict[str, object], prev_hash: str) -> str:
    """SHA-256 of a row's content and the previous row's hash."""
    return hashlib.sha256((prev_hash + canonical(fields)).encode("utf-8")).hexdigest()


def _content(row: AuditRow) -> dict[str, object]:
    return {
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "entity": row.entity,
        "entity_id": row.entity_id,
        "before": row.before,
        "after": row.after,
    }


def lock(session: Session) -> None:
    """Take the write lock of the log first thing in a transaction (PostgreSQL row lock;
    SQLite's write lock), so that concurrent writers append one after the other."""
    session.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=AuditHeadRow.seq))


def append(
    session: Session,
    action: str,
    entity: str,
    entity_id: str,
    before: object,
    after: object,
    actor: str | None = None,
) -> AuditRow:
    """Add one event at the end of the chain (in the caller's transaction)."""
    head = session.get(AuditHeadRow, 1, with_for_update=True)
    if head is None:
        head = AuditHeadRow(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    row = AuditRow(
        seq=head.seq + 1,
        at=datetime.now(timezone.utc).isoformat(timespec="microseconds"),
        actor=actor or default_actor(),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=canonical(before),
        after=canonical(after),
        prev_hash=head.hash,
    )
    row.hash = row_hash(_content(row), head.hash)
    session.add(row)
    head.seq, head.hash = row.seq, row.hash
    session.flush()
    return row


def verify(session: Session) -> tuple[int, list[str]]:
    """Walk the chain: (rows checked, problems). No problems means the log is intact."""
    problems: list[str] = []
    previous, expected_seq, count = GENESIS, 1, 0
    for row in session.scalars(select(AuditRow).order_by(AuditRow.seq)):
        count += 1
        if row.seq != expected_seq:
            problems.append(f"row {row.seq}: expected sequence {expected_seq} (a row was deleted or moved)")
        if row.prev_hash != previous:
            problems.append(f"row {row.seq}: previous-hash link broken (a row before it was changed, deleted or reordered)")
        if row_hash(_content(row), row.prev_hash) != row.hash:
            problems.append(f"row {row.seq}: content does not match its hash (the row was changed)")
        previous, expected_seq = row.hash, row.seq + 1
    head = session.get(AuditHeadRow, 1)
    last_seq = expected_seq - 1
    if head is None and count:
        problems.append("audit head missing")
    elif head is not None and (head.seq != last_seq or head.hash != previous) and (count or head.seq):
        problems.append(f"head records row {head.seq} but the log ends at row {last_seq} (rows at the end were deleted)")
    return count, problems


def history(session: Session, entity_id: str) -> list[AuditRow]:
    """Every event of one case or reviewer, oldest first."""
    return list(session.scalars(select(AuditRow).where(AuditRow.entity_id == entity_id).order_by(AuditRow.seq)))
