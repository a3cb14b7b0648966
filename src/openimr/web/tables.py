"""The workbench's own tables: users, sessions, login attempts, and the reviewer's work.

Letters live in the precedent library. A case is the case part's record (`imr_cases`:
application, status, deadlines, events, eligibility reasons, reviewer); `web_cases` holds only
what the workbench adds to it (documents, the disputed items as the reviewer works them, the
match explanation), joined on the case number. The reviewer's decisions, the signed
determinations and the workbench's audit entries are kept here too.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openimr.cases.tables import CaseRow
from openimr.db import Base

ROLES = ("intake", "reviewer", "qa", "admin")


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(timezone.utc)


class User(Base):
    """A person who signs in: intake staff, expert reviewer, QA or admin."""

    __tablename__ = "web_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    clinician: Mapped[bool] = mapped_column(Boolean, default=False)
    licensure: Mapped[list] = mapped_column(JSON, default=list)
    specialties: Mapped[list] = mapped_column(JSON, default=list)
    panel_reviewer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its hash."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """One sign-in attempt, kept to rate-limit guessing."""

    __tablename__ = "web_login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    success: Mapped[bool] = mapped_column(Boolean, default=False)


def reviewer_key(user_id: int, panel_reviewer_id: str | None) -> str:
    """The case part's `reviewer_id` of a workbench reviewer: the panel reviewer's id when
    the user is linked to the panel (`openimr user add --panel-id`), else `web:<user id>`."""
    return panel_reviewer_id or f"web:{user_id}"


class Case(Base):
    """The workbench's part of a case: documents, disputed items, the match explanation.

    Everything else (application, status, dates, eligibility reasons, reviewer) is read from
    the case part's record, `record` (imr_cases, joined on the case number).
    """

    __tablename__ = "web_cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    documents: Mapped[list] = mapped_column(JSON, default=list)
    items: Mapped[list] = mapped_column(JSON, default=list)
    assignment: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    record: Mapped[CaseRow] = relationship(
        CaseRow, primaryjoin="foreign(Case.case_number) == CaseRow.case_number", viewonly=True, lazy="joined",
        innerjoin=True, uselist=False,
    )

    @property
    def status(self) -> str:
        """The case part's status (see workflow.status_of for the workbench's refinement)."""
        return self.record.status

    @property
    def priority(self) -> str:
        """standard or expedited (from the case part's review type)."""
        return "expedited" if self.record.review_type == "expedited" else "standard"

    @property
    def received(self) -> date:
        return self.record.received

    @property
    def date_of_injury(self) -> date | None:
        return self.record.date_of_injury

    @property
    def determination_due(self) -> date | None:
        return self.record.determination_due

    @property
    def records_due(self) -> date | None:
        return self.record.records_due

    @property
    def application(self) -> dict:
        """The stored application (APPLICATION.json of the case part)."""
        return json.loads(self.record.application)

    @property
    def ur_denial_date(self) -> date | None:
        value = (self.application.get("ur_decision") or {}).get("date")
        return date.fromisoformat(value) if value else None

    @property
    def reviewer_id(self) -> str | None:
        """The case part's reviewer of the case (a panel id or `web:<user id>`)."""
        return self.record.reviewer_id

    @property
    def eligibility(self) -> dict:
        """{eligible, status, reasons, deadlines} from the case part's screening."""
        row = self.record
        return {
            "eligible": row.status not in ("ineligible", "deferred"),
            "status": row.status,
            "reasons": json.loads(row.reasons or "[]"),
            "deadlines": {k: (getattr(row, k).isoformat() if getattr(row, k) else None)
                          for k in ("filing_deadline", "records_due", "determination_due")},
            "backend": "openimr.cases",
        }


class ReviewerDecision(Base):
    """The expert reviewer's decision on one disputed item; append-only, newest counts."""

    __tablename__ = "web_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("web_cases.id", ondelete="CASCADE"), index=True)
    item_index: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))
    guideline: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Determination(Base):
    """A signed Final Determination: never changed, only superseded by a later version."""

    __tablename__ = "web_determinations"
    __table_args__ = (UniqueConstraint("case_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("web_cases.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    letter: Mapped[dict] = mapped_column(JSON)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    signed_by: Mapped[int] = mapped_column(ForeignKey("web_users.id"))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    superseded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    supersede_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditEntry(Base):
    """One change made through the workbench (who, when, what), chained by hashes."""

    __tablename__ = "web_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(48))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
