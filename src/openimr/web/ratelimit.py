"""Sign-in rate limit that holds under concurrent requests and across worker processes.

Counting failures and then checking the password lets every request that arrives before the
first failure is written pass the count (40 parallel guesses, 20 evaluated). Here each
attempt first *reserves* its place, in one short transaction that runs alone: it writes its
attempt row (as a failure), counts the failures in the window, its own included, and commits
only when the count is within the limit — else it rolls back and the attempt is refused
without being evaluated. Transactions run alone because SQLite has one writer at a time
(the insert takes the write lock, held to the commit) and on PostgreSQL they first take one
transaction-scoped advisory lock. So however requests interleave — threads of one server
or several server processes on one database — exactly the limit's worth of attempts get
their password evaluated; an evaluated attempt keeps its row, marked a success when the
password was right.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from openimr.web.tables import LoginAttempt, utcnow

_LOCK = 0x1A7E_5161  # the advisory lock sign-in reservations take on PostgreSQL


class Refused(Exception):
    """Too many failures; the message says which."""


def reserve(session: Session, username: str, ip: str, max_per_user: int, max_per_ip: int,
            window: timedelta) -> int:
    """Reserve an attempt for (username, ip): its id, or Refused with the reason.

    Commits on its own connection, whatever the request's transaction does."""
    engine = session.get_bind().engine
    now = utcnow()
    ip = ip[:64]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        attempt = connection.execute(
            insert(LoginAttempt).values(username=username, ip=ip, at=now, success=False).returning(LoginAttempt.id)
        ).scalar_one()
        failed = select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.success.is_(False), LoginAttempt.at >= now - window
        )
        if connection.execute(failed.where(LoginAttempt.username == username)).scalar_one() > max_per_user:
            raise Refused("too many failed sign-ins for this user; try again in 15 minutes")
        if connection.execute(failed.where(LoginAttempt.ip == ip)).scalar_one() > max_per_ip:
            raise Refused("too many failed sign-ins from this address; try again in 15 minutes")
    return attempt


def settle(session: Session, attempt: int, success: bool) -> None:
    """Record the outcome of an evaluated attempt (a failure is already counted)."""
    if success:
        with session.get_bind().engine.begin() as connection:
            connection.execute(update(LoginAttempt).where(LoginAttempt.id == attempt).values(success=True))
