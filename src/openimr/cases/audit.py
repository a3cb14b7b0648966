"""The one append-only audit log of OpenIMR (cases, documents, decisions, determinations,
reviewers, assignments), chained by a keyed MAC.

Every change is one row: who, when, what (action, entity, id) and the before/after JSON.
Each row stores the MAC of the previous row and HMAC-SHA256(key, previous MAC + its own
content, sequence number included), so changing, deleting or reordering any row breaks the
chain, and so does an edit followed by recomputed MACs without the key. The head row keeps
the last sequence number and MAC under a MAC of its own, so a deleted tail is seen. The key
comes from the deployment (see `key`), never from the database.

Stored content is entered with its digest: a decision (`decision_digest`), a document
(`document_digest`) and a determination (the PDF's SHA-256 and the letter's); `verify`
checks the chain and that every stored decision, document and determination still matches
its entry. `export` writes the chain for safekeeping; `verify(..., against=rows)` then also
catches a tail deleted together with a replayed older head.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openimr.cases.tables import AuditHeadRow, AuditRow, CaseRow, DecisionRow, DeterminationRow, DocumentRow

GENESIS = "0" * 64
KEY_ENV, KEY_FILE_ENV = "OPENIMR_AUDIT_KEY", "OPENIMR_AUDIT_KEY_FILE"
MIN_KEY_CHARS = 16


class AuditKeyError(ValueError):
    """The audit key is missing or unusable (one line naming where it was looked for)."""


def default_key_file() -> Path:
    """Where the key lives when the deployment sets none: beside the default database."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("openimr", appauthor=False)) / "audit.key"


def _read_key_file(path: Path, create: bool) -> str:
    if not path.exists() and create:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise AuditKeyError(f"{path}: the audit key file cannot be read ({error.__class__.__name__})") from None


@lru_cache(maxsize=8)
def _key(env_key: str | None, env_file: str | None) -> bytes:
    if env_key:
        where, value = f"${KEY_ENV}", env_key.strip()
    elif env_file:
        where, value = env_file, _read_key_file(Path(env_file), create=False)
    else:
        path = default_key_file()
        where, value = str(path), _read_key_file(path, create=True)
    if len(value) < MIN_KEY_CHARS:
        raise AuditKeyError(f"{where}: the audit key must have at least {MIN_KEY_CHARS} characters")
    return value.encode("utf-8")


def key() -> bytes:
    """The deployment's audit key: $OPENIMR_AUDIT_KEY, else the file named by
    $OPENIMR_AUDIT_KEY_FILE, else `default_key_file()` (created with a random key on first
    use, mode 0600). Never stored in the database."""
    return _key(os.environ.get(KEY_ENV), os.environ.get(KEY_FILE_ENV))


def canonical(value: object) -> str:
    """Stable JSON text of a value: sorted keys, no spaces, dates as ISO strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def sha256(data: bytes | str) -> str:
    """The SHA-256 of bytes or UTF-8 text, in hex."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def default_actor() -> str:
    """Who is acting: $OPENIMR_ACTOR, else the operating-system user."""
    try:
        return os.environ.get("OPENIMR_ACTOR") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def row_mac(fields: dict[str, object], prev_hash: str, secret: bytes | None = None) -> str:
    """HMAC-SHA256 of a row's content and the previous row's MAC."""
    return hmac.new(secret or key(), (prev_hash + canonical(fields)).encode("utf-8"), hashlib.sha256).hexdigest()


def head_mac(seq: int, last: str, secret: bytes | None = None) -> str:
    """The MAC of the head record (the last sequence number and the last row's MAC)."""
    return hmac.new(secret or key(), f"head:{seq}:{last}".encode(), hashlib.sha256).hexdigest()


def content(row: AuditRow) -> dict[str, object]:
    """The MACed fields of an audit row."""
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


class DecisionWords(Protocol):
    """What a decision's digest covers: a DecisionRow, or a migration's copy of one."""

    @property
    def case_id(self) -> int: ...
    @property
    def item_index(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def decision(self) -> str: ...
    @property
    def guideline(self) -> str: ...
    @property
    def rationale(self) -> str: ...
    @property
    def author(self) -> str: ...


class DocumentWords(Protocol):
    """What a document's digest covers: a DocumentRow, or a migration's copy of one."""

    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def text(self) -> str: ...


def decision_digest(row: DecisionWords) -> str:
    """The SHA-256 of what a decision says (its case, item, version, words and author)."""
    return sha256(canonical([row.case_id, row.item_index, row.version, row.decision, row.guideline, row.rationale,
                             row.author]))


def document_digest(row: DocumentWords) -> str:
    """The SHA-256 of a document's kind, name and text."""
    return sha256(canonical([row.kind, row.name, row.text]))


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
    secret = key()
    head = session.get(AuditHeadRow, 1, with_for_update=True)
    if head is None:
        head = AuditHeadRow(id=1, seq=0, hash=GENESIS, mac=head_mac(0, GENESIS, secret))
        session.add(head)
        session.flush()
    row = AuditRow(
        seq=head.seq + 1,
        at=datetime.now(UTC).isoformat(timespec="microseconds"),
        actor=actor or default_actor(),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=canonical(before),
        after=canonical(after),
        prev_hash=head.hash,
    )
    row.hash = row_mac(content(row), head.hash, secret)
    session.add(row)
    head.seq, head.hash, head.mac = row.seq, row.hash, head_mac(row.seq, row.hash, secret)
    session.flush()
    return row


def _chain(rows: Iterable[AuditRow], secret: bytes, problems: list[str]) -> tuple[int, str, int, dict]:
    """Walk the rows: (count, last MAC, next expected seq, the latest `after` per entry key)."""
    previous, expected_seq, count = GENESIS, 1, 0
    entries: dict[tuple[str, str], dict] = {}
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            problems.append(f"audit row {row.seq}: expected sequence {expected_seq} (a row was deleted or moved)")
        if row.prev_hash != previous:
            problems.append(f"audit row {row.seq}: link to the row before broken (a row was changed, deleted "
                            "or reordered)")
        if not hmac.compare_digest(row_mac(content(row), row.prev_hash, secret), row.hash):
            problems.append(f"audit row {row.seq}: content does not match its MAC (changed, or re-hashed "
                            "without the key)")
        previous, expected_seq = row.hash, row.seq + 1
        if row.entity in ("decision", "document", "determination"):
            try:
                after = json.loads(row.after)
                entries[(row.entity, str(after["id"]))] = after | {"_seq": row.seq}
            except (ValueError, TypeError, KeyError):
                problems.append(f"audit row {row.seq}: {row.entity} entry without its stored id")
    return count, previous, expected_seq, entries


def _stored(session: Session, entries: dict, problems: list[str]) -> None:
    """Every stored decision, document and determination against its latest audit entry."""
    numbers = dict(session.execute(select(CaseRow.id, CaseRow.case_number)).all())
    seen: set[tuple[str, str]] = set()

    def check(kind: str, row, digests: dict[str, str]) -> None:
        label = f"{kind} {row.id} of case {numbers.get(row.case_id, row.case_id)}"
        entry = entries.get((kind, str(row.id)))
        seen.add((kind, str(row.id)))
        if entry is None:
            problems.append(f"{label}: stored but never entered in the audit log")
            return
        for field, digest in digests.items():
            if entry.get(field) != digest:
                problems.append(f"{label}: {field.replace('_', ' ')} differs from audit row {entry['_seq']} "
                                "(changed after it was entered)")

    for d in session.scalars(select(DecisionRow).order_by(DecisionRow.id)):
        check("decision", d, {"sha256": decision_digest(d)})
    for doc in session.scalars(select(DocumentRow).order_by(DocumentRow.id)):
        check("document", doc, {"sha256": document_digest(doc)})
    for det in session.scalars(select(DeterminationRow).order_by(DeterminationRow.id)):
        check("determination", det, {"pdf_sha256": sha256(det.pdf), "letter_sha256": sha256(det.letter)})
        if det.pdf_sha256 != sha256(det.pdf):
            problems.append(f"determination {det.id}: the PDF no longer matches its stored SHA-256")
    for kind, ident in sorted(set(entries) - seen):
        problems.append(f"{kind} {ident}: in audit row {entries[(kind, ident)]['_seq']} but no longer stored "
                        "(deleted)")


def verify(session: Session, against: list[dict] | None = None) -> tuple[int, list[str]]:
    """Check the chain, the head, and every stored decision, document and determination
    against its entry; with `against` (rows of an earlier `export`), also that each
    exported row is still there unchanged. (rows checked, problems); no problems = intact."""
    secret = key()
    problems: list[str] = []
    rows = session.scalars(select(AuditRow).order_by(AuditRow.seq))
    count, last, expected_seq, entries = _chain(rows, secret, problems)
    head = session.get(AuditHeadRow, 1)
    last_seq = expected_seq - 1
    if head is None:
        if count:
            problems.append("audit head missing")
    else:
        if not hmac.compare_digest(head_mac(head.seq, head.hash, secret), head.mac or ""):
            problems.append("audit head: does not match its MAC (changed, or re-hashed without the key)")
        if head.seq != last_seq or head.hash != last:
            problems.append(f"audit head records row {head.seq} but the log ends at row {last_seq} "
                            "(rows at the end were deleted)")
    mismatched = sum("does not match its MAC" in p for p in problems)
    if count > 1 and mismatched == count + (head is not None):
        problems.insert(0, "no row matches its MAC: the audit key is not the one the log was written with "
                           "(see docs/workflow.md), or every row was changed")
    _stored(session, entries, problems)
    if against is not None:
        stored = {r.seq: r.hash for r in session.scalars(select(AuditRow))}
        for entry in against:
            if stored.get(int(entry.get("seq") or 0)) != entry.get("hash"):
                problems.append(f"exported audit row {entry.get('seq')}: missing or different in the database")
    return count, problems


def export_rows(session: Session) -> Iterator[dict]:
    """The chain as JSON-able rows, oldest first (for `openimr audit export`)."""
    for row in session.scalars(select(AuditRow).order_by(AuditRow.seq)):
        yield content(row) | {"prev_hash": row.prev_hash, "hash": row.hash}


def history(session: Session, entity_id: str) -> list[AuditRow]:
    """Every event of one case (its documents, decisions and determinations too) or
    reviewer, oldest first."""
    return list(session.scalars(select(AuditRow).where(AuditRow.entity_id == entity_id).order_by(AuditRow.seq)))
