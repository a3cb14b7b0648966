"""The precedent library's tables and the one-transaction write of a batch of letters.

Tables (Alembic branch "library"): letters (with the source file's hash and the letter's
content hash), items (with their classification and embedding), citations (every guideline
named, normalised) and reviewer credentials. Full-text search uses an FTS5 table kept in
step by triggers on SQLite and a generated tsvector column on PostgreSQL (see the
migration).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, cast

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from openimr.db import Base
from openimr.models import Decision, Item, Layout, Letter, Priority, ReviewerCredentials

log = logging.getLogger("openimr.library")


class LibraryLetter(Base):
    """One Final Determination letter in the library (its latest version)."""

    __tablename__ = "library_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_key: Mapped[str] = mapped_column(String(128), unique=True)
    case_number: Mapped[str | None] = mapped_column(String(64), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    source_name: Mapped[str | None] = mapped_column(String(512))
    layout: Mapped[str] = mapped_column(String(32))
    date_assigned: Mapped[date | None] = mapped_column(Date)
    date_of_injury: Mapped[date | None] = mapped_column(Date)
    decision_date: Mapped[date | None] = mapped_column(Date, index=True)
    ur_denial_date: Mapped[date | None] = mapped_column(Date)
    application_received: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str | None] = mapped_column(String(16))
    review_organization: Mapped[str | None] = mapped_column(String(200))
    credentials_statement: Mapped[str] = mapped_column(Text, default="")
    documents_reviewed: Mapped[str | None] = mapped_column(Text)
    clinical_case_summary: Mapped[str] = mapped_column(Text, default="")
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    ingested_at: Mapped[datetime] = mapped_column(DateTime)


class LibraryCredential(Base):
    """A state of licensure or a certification/specialty of a letter's expert reviewer."""

    __tablename__ = "library_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("library_letters.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "licensure" | "specialty"
    value: Mapped[str] = mapped_column(String(200), index=True)


class LibraryItem(Base):
    """One disputed item, its decision, rationale, classification and embedding."""

    __tablename__ = "library_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("library_letters.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16), index=True)
    overturned: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str] = mapped_column(String(48), index=True)
    category_group: Mapped[str] = mapped_column(String(48))
    body_region: Mapped[str | None] = mapped_column(String(48), index=True)
    guideline: Mapped[str | None] = mapped_column(String(120), index=True)
    decision_date: Mapped[date | None] = mapped_column(Date, index=True)
    drug: Mapped[str | None] = mapped_column(String(80))
    dose: Mapped[str | None] = mapped_column(String(60))
    quantity: Mapped[str | None] = mapped_column(String(60))
    frequency: Mapped[str | None] = mapped_column(String(60))
    duration: Mapped[str | None] = mapped_column(String(60))
    request: Mapped[str] = mapped_column(Text)
    original_request: Mapped[str | None] = mapped_column(Text)
    authorized: Mapped[str | None] = mapped_column(Text)
    disputed_request: Mapped[str | None] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text, default="")
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)


class LibraryCitation(Base):
    """One guideline named by the claims administrator or the expert reviewer for an item."""

    __tablename__ = "library_citations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("library_items.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(24))  # "claims_administrator" | "imr"
    position: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(16))
    guideline: Mapped[str | None] = mapped_column(String(300))
    guideline_key: Mapped[str | None] = mapped_column(String(120), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    chapter: Mapped[int | None] = mapped_column(Integer)
    sections: Mapped[str] = mapped_column(Text, default="[]")
    pages: Mapped[str] = mapped_column(Text, default="[]")
    text: Mapped[str] = mapped_column(Text, default="")


LETTERS = cast(Table, LibraryLetter.__table__)
ITEMS = cast(Table, LibraryItem.__table__)
CITATIONS = cast(Table, LibraryCitation.__table__)
CREDENTIALS = cast(Table, LibraryCredential.__table__)


def _chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def known_source_hashes(session: Session, hashes: list[str]) -> set[str]:
    """Which of these source-file hashes are already stored (those files need no parsing)."""
    found: set[str] = set()
    for chunk in _chunks(sorted(set(hashes))):
        found.update(session.scalars(select(LETTERS.c.source_hash).where(LETTERS.c.source_hash.in_(chunk))))
    return found


def store_records(session: Session, records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Write prepared letter records in the caller's transaction; return what happened.

    A record whose key (case number, else content hash) is stored with the same content
    hash is left alone ("unchanged"); with another hash the stored letter is replaced
    ("replaced"); otherwise it is added. Within one batch the last record of a key wins.
    """
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        latest[record["letter"]["letter_key"]] = record
    existing = {
        key: (letter_id, content_hash)
        for chunk in _chunks(list(latest))
        for key, letter_id, content_hash in session.execute(
            select(LETTERS.c.letter_key, LETTERS.c.id, LETTERS.c.content_hash).where(LETTERS.c.letter_key.in_(chunk))
        )
    }
    outcome: dict[str, list[str]] = {"added": [], "replaced": [], "unchanged": []}
    to_write, to_delete = [], []
    for key, record in latest.items():
        if key in existing and existing[key][1] == record["letter"]["content_hash"]:
            outcome["unchanged"].append(record["source_name"])
            continue
        if key in existing:
            to_delete.append(existing[key][0])
            outcome["replaced"].append(record["source_name"])
        else:
            outcome["added"].append(record["source_name"])
        to_write.append(record)
    if not to_write:
        return outcome
    if _dialect(session) == "sqlite":
        session.execute(text("UPDATE library_letters SET id = id WHERE 0"))  # take the write lock now
    # ids are reserved before deleting, so an id is never used twice (caches key on ids)
    letter_ids = _reserve_ids(session, LETTERS, len(to_write))
    item_ids = _reserve_ids(session, ITEMS, sum(len(r["items"]) for r in to_write))
    _delete_letters(session, to_delete)
    _insert_records(session, to_write, letter_ids, item_ids)
    return outcome


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _delete_letters(session: Session, letter_ids: list[int]) -> None:
    for chunk in _chunks(letter_ids):
        item_ids = list(session.scalars(select(ITEMS.c.id).where(ITEMS.c.letter_id.in_(chunk))))
        for items in _chunks(item_ids):
            session.execute(delete(CITATIONS).where(CITATIONS.c.item_id.in_(items)))
            session.execute(delete(ITEMS).where(ITEMS.c.id.in_(items)))
        session.execute(delete(CREDENTIALS).where(CREDENTIALS.c.letter_id.in_(chunk)))
        session.execute(delete(LETTERS).where(LETTERS.c.id.in_(chunk)))


def _reserve_ids(session: Session, table, count: int) -> list[int]:
    """Ids for `count` new rows of a table, taken in the caller's transaction.

    PostgreSQL: from the table's sequence (safe with concurrent writers). SQLite: after the
    largest id, under the write lock the transaction holds once it has written.
    """
    if count == 0:
        return []
    if _dialect(session) == "postgresql":
        sql = f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)"
        return [r[0] for r in session.execute(text(sql), {"n": count})]
    top = session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table.name}")).scalar() or 0
    return list(range(top + 1, top + 1 + count))


def _insert_records(session: Session, records: list[dict[str, Any]], letter_ids: list[int], item_ids: list[int]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    letter_rows, item_rows, citation_rows, credential_rows = [], [], [], []
    items = [(letter_id, item) for letter_id, record in zip(letter_ids, records) for item in record["items"]]
    for letter_id, record in zip(letter_ids, records):
        letter_rows.append({**record["letter"], "id": letter_id, "ingested_at": now})
        credential_rows += [{"letter_id": letter_id, **c} for c in record["credentials"]]
    for item_id, (letter_id, item) in zip(item_ids, items):
        row = {k: v for k, v in item.items() if k != "citations"}
        item_rows.append({**row, "id": item_id, "letter_id": letter_id})
        citation_rows += [{**citation, "item_id": item_id} for citation in item["citations"]]
    for table, rows in ((LETTERS, letter_rows), (ITEMS, item_rows), (CITATIONS, citation_rows), (CREDENTIALS, credential_rows)):
        if rows:
            session.execute(insert(table), rows)


def dumps(values: list[str] | None) -> str | None:
    """JSON text of a list (None stays None)."""
    return None if values is None else json.dumps(values, ensure_ascii=False)


# ---------------------------------------------------------------- the face: letters
class LetterSummary(BaseModel):
    """One stored letter in a list: its number, layout, date and item counts."""

    model_config = ConfigDict(extra="forbid")
    id: int
    case_number: str | None
    layout: str
    decision_date: date | None
    items: int
    upheld: int
    overturned: int


class LetterList(BaseModel):
    """One page of the stored letters, newest decision first, and how many there are."""

    model_config = ConfigDict(extra="forbid")
    items: list[LetterSummary]
    total: int


class AddedLetter(BaseModel):
    """What `add_letter` did: the stored letter's id, and whether it was new or changed."""

    model_config = ConfigDict(extra="forbid")
    id: int
    case_number: str | None
    added: bool
    items: int


def list_letters(session: Session, page: int = 1, per_page: int = 30, case_number: str = "") -> LetterList:
    """The stored letters (those whose case number holds `case_number`), newest decision first."""
    overturned = (
        select(func.count()).select_from(ITEMS)
        .where(ITEMS.c.letter_id == LETTERS.c.id, ITEMS.c.overturned.is_(True)).scalar_subquery()
    )
    query = select(LETTERS.c.id, LETTERS.c.case_number, LETTERS.c.layout, LETTERS.c.decision_date,
                   LETTERS.c.item_count, overturned)
    counted = select(func.count()).select_from(LETTERS)
    if case_number.strip():
        wanted = LETTERS.c.case_number.like(f"%{case_number.strip()}%")
        query, counted = query.where(wanted), counted.where(wanted)
    rows = session.execute(query.order_by(LETTERS.c.decision_date.desc(), LETTERS.c.id)
                           .limit(per_page).offset((max(page, 1) - 1) * per_page))
    items = [LetterSummary(id=r[0], case_number=r[1], layout=r[2], decision_date=r[3], items=r[4],
                           upheld=r[4] - r[5], overturned=r[5]) for r in rows]
    return LetterList(items=items, total=session.execute(counted).scalar() or 0)


def get_letter(session: Session, letter_id: int) -> Letter | None:
    """One stored letter as the letter model (the reviewer's credentials, never a name)."""
    from openimr.letters.read.citations import parse_citation

    row = session.get(LibraryLetter, letter_id)
    if row is None:
        return None
    creds = session.execute(select(CREDENTIALS.c.kind, CREDENTIALS.c.value)
                            .where(CREDENTIALS.c.letter_id == letter_id).order_by(CREDENTIALS.c.id)).all()
    items = []
    for item in session.scalars(select(LibraryItem).where(LibraryItem.letter_id == letter_id).order_by(LibraryItem.position)):
        cites = dict(session.execute(select(CITATIONS.c.role, CITATIONS.c.text)
                                     .where(CITATIONS.c.item_id == item.id, CITATIONS.c.position == 0)).all())
        items.append(Item(
            request=item.request, decision=cast(Decision, item.decision), medically_necessary=item.decision == "Overturned",
            rationale=item.rationale or "", original_request=item.original_request, authorized=item.authorized,
            disputed_request=item.disputed_request,
            claims_administrator_guideline=parse_citation(cites.get("claims_administrator", "")),
            imr_guideline=parse_citation(cites.get("imr", ""))))
    return Letter(
        layout=cast(Layout, row.layout), case_number=row.case_number, date_assigned=row.date_assigned,
        date_of_injury=row.date_of_injury, decision_date=row.decision_date, ur_denial_date=row.ur_denial_date,
        application_received=row.application_received, priority=cast(Priority | None, row.priority),
        review_organization=row.review_organization or "MAXIMUS Federal Services",
        reviewer=ReviewerCredentials(licensure=[v for k, v in creds if k == "licensure"],
                                     specialties=[v for k, v in creds if k == "specialty"],
                                     statement=row.credentials_statement or ""),
        documents_reviewed=json.loads(row.documents_reviewed) if row.documents_reviewed else None,
        clinical_case_summary=row.clinical_case_summary or "", items=items)


def add_letter(session: Session, letter: Letter, content: bytes, source_name: str) -> AddedLetter:
    """Store one letter in the caller's transaction (with its embedding when the semantic
    model is there; without, full-text search still finds it)."""
    import hashlib

    from openimr.library.records import embed_records, letter_record

    record = letter_record(letter, source_name, hashlib.sha256(content).hexdigest())
    try:
        embed_records([record])
    except Exception as error:  # the semantic model is optional for one letter
        log.warning("letter stored without embedding: %s", type(error).__name__)
    outcome = store_records(session, [record])
    session.flush()
    letter_id = session.scalar(select(LETTERS.c.id).where(LETTERS.c.letter_key == record["letter"]["letter_key"]))
    return AddedLetter(id=int(letter_id or 0), case_number=letter.case_number,
                       added=bool(outcome["added"] or outcome["replaced"]), items=len(letter.items))
