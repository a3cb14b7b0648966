"""Tables of the case workflow and the expert reviewer panel (Alembic branch "cases").

The one record of a case: `imr_cases` (application, parties, screening, deadlines,
assignment, the decisions' version), its documents, its dated events, the expert reviewer's
decisions (append-only versions) and its determinations (signed PDFs with their SHA-256).
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openimr.db import Base
from openimr.models import Decision


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
    # the version of the expert reviewer's decisions: +1 on every decision recorded
    decisions_version: Mapped[int] = mapped_column(Integer, default=0)
    # the assignment's explanation and a pending supersede reason (JSON)
    assignment: Mapped[str] = mapped_column(Text, default="{}")

    @property
    def priority(self) -> str:
        """standard or expedited, as the letters say it."""
        return "expedited" if self.review_type == "expedited" else "standard"

    @property
    def eligibility(self) -> dict:
        """{eligible, status, reasons, deadlines} of the case's screening."""
        return {
            "eligible": self.status not in ("ineligible", "deferred"),
            "status": self.status,
            "reasons": json.loads(self.reasons or "[]"),
            "deadlines": {k: (getattr(self, k).isoformat() if getattr(self, k) else None)
                          for k in ("filing_deadline", "records_due", "determination_due")},
        }


class DocumentRow(Base):
    """A record of a case (clinical summary, medical record, UR decision), with its SHA-256."""

    __tablename__ = "imr_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("imr_cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    day: Mapped[str | None] = mapped_column(String(10), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    source_case_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[str] = mapped_column(String(40))
    # what the case file's index read (cases_0003); None for a document added by hand
    doc_type: Mapped[str | None] = mapped_column(String(30), nullable=True)
    author: Mapped[str | None] = mapped_column(String(200), nullable=True)
    first_page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scanned: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    ocr_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    duplicate_of: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the id of the document it copies


class CaseFileClaimRow(Base):
    """Which workbench process runs a case-file indexing job (casefile/jobs.py; cases_0005):
    `owner` None when nobody does; `renewed_at` (epoch seconds) renewed while it runs."""

    __tablename__ = "imr_casefile_claims"

    job: Mapped[str] = mapped_column(String(24), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    renewed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class DecisionRow(Base):
    """The expert reviewer's decision on one disputed item: append-only; the row with the
    highest `version` per item counts. `version` is the case's decisions version it made."""

    __tablename__ = "imr_decisions"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("imr_cases.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    item_index: Mapped[int] = mapped_column(Integer)
    decision: Mapped[Decision] = mapped_column(String(16))  # "Upheld" or "Overturned"
    guideline: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeterminationRow(Base):
    """A signed Final Determination: never changed, only superseded by a later version.
    `decisions_version` is the version of the decisions it states."""

    __tablename__ = "imr_determinations"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("imr_cases.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    decisions_version: Mapped[int] = mapped_column(Integer)
    letter: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    signed_by: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    supersede_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # QA returned this signed draft before it was issued (cases_0004): never issued, never in force
    qa_returned: Mapped[str | None] = mapped_column(Text, nullable=True)


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
    """One append-only audit event, chained to the previous one by its keyed MAC (`hash`)."""

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
    """The last sequence number and MAC of the log, itself MACed: detects a deleted tail."""

    __tablename__ = "imr_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64), default="")
