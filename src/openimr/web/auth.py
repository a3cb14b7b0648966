"""Users, passwords, sessions, CSRF tokens and sign-in rate limiting.

Passwords are hashed with argon2id. A session is a random token in an HttpOnly,
SameSite=Lax cookie (Secure when the request came over TLS); the database keeps only the
token's SHA-256. Every state-changing request carries the session's CSRF token, in the
form field `csrf_token` or the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openimr.web import parts, ratelimit
from openimr.web.tables import ROLES, User, WebSession, utcnow

SESSION_COOKIE = "openimr_session"
LOGIN_CSRF_COOKIE = "openimr_login_csrf"
SESSION_HOURS = 12
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20
FAILURE_WINDOW = timedelta(minutes=15)


class AuthError(Exception):
    """A sign-in or permission problem, with the HTTP status it maps to."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Principal:
    """The signed-in user as routes see it."""

    id: int
    username: str
    display_name: str
    role: str
    csrf: str
    panel_reviewer_id: str | None = None
    may_sign: bool = False  # the panel's registry: on the panel, active, licensed (at sign-in or request)

    @property
    def reviewer_key(self) -> str | None:
        """How the case part names this user as a case's reviewer: their panel reviewer id
        (None when the user is not linked to the panel: never a case's reviewer)."""
        return self.panel_reviewer_id if self.role == "reviewer" else None

    @property
    def sees_all_cases(self) -> bool:
        """QA and admin see every case; a reviewer only the cases assigned to them."""
        return self.role in ("qa", "admin")

    @property
    def may_see_reviewers(self) -> bool:
        """Reviewer identities never reach intake users."""
        return self.role != "intake"


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash (never raises on a mismatch)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    return _DUMMY_HASH


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    panel_reviewer_id: str | None = None,
) -> User:
    """Add a user; raises ValueError naming the field when something is wrong. An expert
    reviewer is linked to their record on the panel (`panel_reviewer_id`, which must be
    there: `openimr panel add`); that record says what they are licensed in and whether
    they may sign, never the account."""
    username = username.strip()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-@" for c in username):
        raise ValueError("username: 1-64 characters, letters, digits and . _ - @ only")
    if role not in ROLES:
        raise ValueError(f"role: must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < 8:
        raise ValueError("password: at least 8 characters")
    if panel_reviewer_id and role != "reviewer":
        raise ValueError("panel_id: only a reviewer is linked to the panel")
    if panel_reviewer_id and parts.registry(session, panel_reviewer_id) is None:
        raise ValueError(f"panel_id: {panel_reviewer_id!r} is not on the panel (add it first: openimr panel add)")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise ValueError(f"username: {username!r} already exists")
    if panel_reviewer_id and session.scalar(select(User).where(User.panel_reviewer_id == panel_reviewer_id)):
        raise ValueError(f"panel_id: {panel_reviewer_id!r} is already linked to another user")
    user = User(
        username=username,
        display_name=(display_name or username).strip(),
        password_hash=hash_password(password),
        role=role,
        panel_reviewer_id=panel_reviewer_id or None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_rate_limit(session: Session, username: str, ip: str) -> int:
    """Reserve a sign-in attempt, or refuse (429) when this username or address failed too
    often in the last 15 minutes; atomic across requests and processes (web.ratelimit)."""
    try:
        return ratelimit.reserve(session, username, ip, MAX_FAILURES_PER_USER, MAX_FAILURES_PER_IP, FAILURE_WINDOW)
    except ratelimit.Refused as refused:
        raise AuthError(429, str(refused)) from None


def sign_in(session: Session, username: str, password: str, ip: str) -> tuple[str, Principal]:
    """Check the password (rate-limited) and open a session: (cookie token, principal)."""
    username = (username or "").strip()[:64]
    attempt = check_rate_limit(session, username, ip)
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    ok = verify_password(user.password_hash if user else _dummy_hash(), password or "")
    ratelimit.settle(session, attempt, bool(user and ok))  # a failure counts from the reservation on
    if not (user and ok):
        raise AuthError(401, "wrong username or password")
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_token_hash(token),
        user_id=user.id,
        csrf=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=SESSION_HOURS),
    )
    session.add(row)
    session.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
    session.flush()
    return token, principal_of(session, user, row.csrf)


def principal_of(session: Session, user: User, csrf: str) -> Principal:
    """The Principal for a user row and session CSRF token; whether they may sign is the
    panel registry's answer for their linked record."""
    linked = user.panel_reviewer_id if user.role == "reviewer" else None
    entry = parts.registry(session, linked) if linked else None
    return Principal(user.id, user.username, user.display_name, user.role, csrf, linked,
                     bool(entry and entry["may_sign"]))


def user_of(session: Session, who: Principal) -> User:
    """The user row of a signed-in principal; AuthError 401 when it is gone since."""
    user = session.get(User, who.id)
    if user is None:
        raise AuthError(401, "this account no longer exists; sign in again")
    return user


def session_principal(session: Session, token: str | None) -> Principal | None:
    """The user behind a session cookie, or None when absent, unknown or expired."""
    if not token:
        return None
    row = session.get(WebSession, _token_hash(token))
    if row is None or _aware(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return principal_of(session, user, row.csrf)


def sign_out(session: Session, token: str | None) -> None:
    """Forget the session behind this cookie."""
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens (both must be present)."""
    return bool(expected and given and hmac.compare_digest(expected, given))
