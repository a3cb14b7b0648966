"""The workbench's own tables: users, sessions and sign-in attempts; nothing else.

A user who reviews is linked to their record on the expert reviewer panel
(`panel_reviewer_id`); their licences, specialties and whether they may sign are the panel's.

Letters live in the precedent library; a case (its documents, decisions, determinations and
audit entries) is the case part's one record (`openimr.cases.tables`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openimr.db import Base

ROLES = ("intake", "reviewer", "qa", "admin")


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


class User(Base):
    """A person who signs in: intake staff, expert reviewer, QA or admin."""

    __tablename__ = "web_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # the expert reviewer's record on the panel (`imr_reviewers`, the one registry of
    # reviewers: licences, certifications, practice, affiliations, whether they may sign)
    panel_reviewer_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True, index=True)
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
