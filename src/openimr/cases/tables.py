"""Tables of the case workflow and the expert reviewer panel (Alembic branch "cases")."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openimr.db import Base


class CaseRow(Base):
    """One IMR case: the application, its screening, deadlines, reviewer and letter."""

    __tablename__ = "imr_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    review_type: Mapped[str] = mapped_column(String(10))
    employee_key: Mapped[str] = mapped_column(String(64), index=True)
    physician_key: Mapped[str] = mapped_column(String(200))
    date_of_injury: Mapped[date] = mapped_column(Date)
    received: Mapped[date] = mapped_column(Date)
    application: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    assumptions: Mapped[str] = mapped_column(Text, default="[]")
    filing_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    records_due: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    determination_due: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    reviewer_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    credentials: Mapped[str | None] = mapped_column(Text, nullable=True)
    consolidated_into: Mapped[str | None] = mapped_column(String(20), nullable=True)
    letter: Mapped[str | None] = mapped_column(Text, nullable=True)
    published: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[str] = mapped_column(String(40))


class CaseEventRow(Base):
    """A dated event of a case: notice of assignment sent, records received, determination sent."""

    __tablename__ = "imr_case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("imr_cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    day: Mapped[date] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(20), nullable=True)
    recorded_at: Mapped[str] = mapped_column(String(40))


class ReviewerRow(Base):
    """An expert reviewer of the panel; `name` is confidential (admin use only)."""

    __tablename__ = "imr_reviewers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    profession: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(40))


class AuditRow(Base):
    """One append-only audit event, chained to the previous one by its hash."""

    __tablename__ = "imr_audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The last sequence number and hash of the log: detects a deleted last row."""

    __tablename__ = "imr_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
