"""Storing cases: create, record events, assign, attach letters, consolidate, list.

The face of the case record: every function takes the caller's session and works in its
transaction (the caller commits or rolls back all it wrote together); a change takes the
audit log's lock first (`writing`) and is logged with its audit event (audit.append). The
command line opens its session with `transaction(url)`, the workbench has one per request.
Case numbers follow the letters' form, CM<yy>-<7 digits>.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from openimr import bounds, db
from openimr.cases import audit, lifecycle
from openimr.cases.deadlines import CaseEvents, compute
from openimr.cases.eligibility import Eligibility, check
from openimr.cases.errors import CaseConflict, CaseError  # noqa: F401  (the store's errors, re-exported)
from openimr.cases.intake import Application
from openimr.cases.settings import Settings
from openimr.cases.tables import CaseEventRow, CaseRow

OPEN_STATUSES = lifecycle.states("open")  # a determination pending: the lifecycle's open states
CLI_ROLE = "admin"  # the command line acts as the operator of the system
EVENT_KINDS = ("notice_sent", "records_received", "converted_expedited")
_migrated: set[str] = set()




def ready(url: str) -> str:
    """Bring the schema up to date once per process; returns the URL."""
    if url not in _migrated:
        db.migrate(url)
        _migrated.add(url)
    return url


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session of its own on `url` (schema brought up to date first), committed at the end
    of the block or rolled back on error: how the command line calls the faces."""
    with db.session_scope(ready(url)) as session:
        yield session


def run(url: str, face, *args, **kwargs):
    """`face(session, *args, **kwargs)` in a transaction of its own on `url`: how the command
    line calls a face (one transaction per command)."""
    with transaction(url) as session:
        return face(session, *args, **kwargs)


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """The caller's transaction, about to change cases or reviewers: takes the audit log's
    lock first, so concurrent writers of a case run one after the other."""
    audit.lock(session)
    yield session


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _norm(text: str | None) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", (text or "").lower()))


def employee_key(app: Application) -> str:
    """An opaque key of the worker (name and date of birth), for finding the same worker."""
    basis = f"{_norm(app.employee.name)}|{app.employee.date_of_birth or ''}"
    return hashlib.sha256(basis.encode()).hexdigest()


def physician_key(app: Application) -> str:
    """The requesting physician's name, normalised (consolidation compares it)."""
    return _norm(app.requesting_physician.name)[:200]


def application_of(row: CaseRow) -> Application:
    """The stored application of a case."""
    return Application.model_validate_json(row.application)


def snapshot(row: CaseRow) -> dict:
    """A case as JSON-able data (the before/after of audit events)."""
    return {
        "case_number": row.case_number,
        "status": row.status,
        "review_type": row.review_type,
        "received": row.received,
        "date_of_injury": row.date_of_injury,
        "application": json.loads(row.application),
        "reasons": json.loads(row.reasons),
        "filing_deadline": row.filing_deadline,
        "records_due": row.records_due,
        "determination_due": row.determination_due,
        "reviewer_id": row.reviewer_id,
        "credentials": json.loads(row.credentials) if row.credentials else None,
        "consolidated_into": row.consolidated_into,
        "decisions_version": row.decisions_version or 0,
        "has_letter": row.letter is not None,
        "published": row.published is not None,
    }


def get(session: Session, case_number: str, fresh: bool = False) -> CaseRow:
    """The case with that number, or CaseError. `fresh` reads it again from the database
    (after taking the audit lock: the state every concurrent writer has committed)."""
    query = select(CaseRow).where(CaseRow.case_number == case_number.strip())
    if fresh:
        query = query.execution_options(populate_existing=True)
    row = session.scalar(query)
    if row is None:
        raise CaseError(f"case {case_number}: no such case")
    return row


def _next_number(session: Session, received: date) -> str:
    count = session.scalar(select(func.count()).select_from(CaseRow)) or 0
    prefix = f"CM{received.year % 100:02d}-"
    while True:
        count += 1
        number = f"{prefix}{count:07d}"
        if session.scalar(select(CaseRow.id).where(CaseRow.case_number == number)) is None:
            return number


def prior_requests(session: Session, app: Application, exclude: str | None = None) -> list[str]:
    """Treatments of the same worker in other cases not found ineligible (duplicates)."""
    rows = session.scalars(
        select(CaseRow).where(CaseRow.employee_key == employee_key(app), CaseRow.status != "ineligible")
    )
    return [item.request for row in rows if row.case_number != exclude for item in application_of(row).ur_decision.items]


def status_of(result: Eligibility) -> str:
    """eligible, deferred (a liability dispute only) or ineligible."""
    if result.eligible:
        return "eligible"
    return "deferred" if all(r.code == "liability_dispute" for r in result.reasons) else "ineligible"


def events_of(session: Session, row: CaseRow) -> CaseEvents:
    """The dated events of a case, the latest of each kind."""
    rows = session.scalars(select(CaseEventRow).where(CaseEventRow.case_id == row.id).order_by(CaseEventRow.id))
    return _folded(rows)


def _folded(rows: Iterable[CaseEventRow]) -> CaseEvents:
    """The latest event of each kind among a case's event rows (in the order recorded)."""
    events = CaseEvents()
    for event in rows:
        if event.kind == "notice_sent":
            events.notice_sent, events.notice_method = event.day, event.method  # type: ignore[assignment]
        elif event.kind == "records_received":
            events.records_received = event.day
        elif event.kind == "converted_expedited":
            events.converted_expedited = event.day
    return events


def _apply_deadlines(row: CaseRow, app: Application, settings: Settings, events: CaseEvents) -> None:
    result = compute(app, settings, events)
    row.filing_deadline = result.filing_deadline
    row.records_due = result.records_due
    row.determination_due = result.determination_due
    row.assumptions = json.dumps(result.assumptions)


def create_case(
    session: Session, app: Application, settings: Settings, actor: str | None = None, role: str = CLI_ROLE,
) -> dict:
    """Screen and store a new application (the lifecycle's `register`: received, then
    eligible, ineligible or deferred); returns the stored case (snapshot)."""
    with writing(session) as s:
        result = check(app, settings, prior_requests=prior_requests(s, app))
        row = CaseRow(
            case_number=_next_number(s, app.received),
            status=lifecycle.load().initial,
            review_type=app.review_type,
            employee_key=employee_key(app),
            physician_key=physician_key(app),
            date_of_injury=app.date_of_injury,
            received=app.received,
            application=app.model_dump_json(),
            reasons=json.dumps([r.as_json() for r in result.reasons]),
            assumptions="[]",
            created_at=_now(),
            decisions_version=0,
            assignment="{}",
        )
        event = lifecycle.apply(row, "register", role, to=status_of(result))
        _apply_deadlines(row, app, settings, CaseEvents())
        s.add(row)
        s.flush()
        after = snapshot(row)
        audit.append(s, event, "case", row.case_number, None, after, actor)
        return after


def record_event(
    session: Session, case_number: str, kind: str, day: date, settings: Settings, method: str | None = None,
    actor: str | None = None, role: str = CLI_ROLE, detail: dict | None = None,
) -> dict:
    """Record a dated event (notice sent, records received) and recompute the deadlines.

    `detail`, e.g. the notice letter's SHA-256, goes into the audit entry's after. The same event recorded again (same
    kind, day and method: a double-submitted form) changes nothing."""
    if kind not in EVENT_KINDS:
        raise CaseError(f"event kind {kind!r}: expected one of {', '.join(EVENT_KINDS)}")
    _plausible("day", day)
    if kind == "notice_sent" and method not in ("mail", "electronic"):
        raise CaseError("--method: a notice of assignment is sent by mail or electronic")
    if kind != "notice_sent":
        method = None
    with writing(session):
        row = get(session, case_number, fresh=True)
        if day < row.received:
            raise CaseError(f"day: the {kind} date {day} of case {case_number} is before the application was received "
                            f"({row.received})")
        before = snapshot(row) | {"events": event_list(session, row)}
        if {"kind": kind, "day": day.isoformat(), "method": method} in before["events"]:
            lifecycle.require_role(case_number, kind, lifecycle.roles(kind), role)
            return before
        event = lifecycle.apply(row, kind, role)
        session.add(CaseEventRow(case_id=row.id, kind=kind, day=day, method=method, recorded_at=_now()))
        if kind == "converted_expedited":
            row.review_type = "expedited"
        session.flush()
        _apply_deadlines(row, application_of(row), settings, events_of(session, row))
        after = snapshot(row) | {"events": event_list(session, row)}
        audit.append(session, event, "case", case_number, before, after | (detail or {}), actor)
        return after


def event_list(session: Session, row: CaseRow) -> list[dict]:
    """The recorded events of a case, oldest first: [{kind, day, method}]."""
    rows = session.scalars(select(CaseEventRow).where(CaseEventRow.case_id == row.id).order_by(CaseEventRow.id))
    return [{"kind": e.kind, "day": e.day.isoformat(), "method": e.method} for e in rows]


def update(
    session: Session, case_number: str, action: str, changes: dict, actor: str | None = None,
    role: str = CLI_ROLE, detail: dict | None = None, to: str | None = None,
) -> dict:
    """Make the lifecycle's `action` on a case (its status moved by the lifecycle, never set
    here; `to` picks the target where the transition allows several), set the other columns
    it changes, and log it (with `detail`, e.g. the reason, in the entry's after); returns
    the new snapshot."""
    if "status" in changes:
        raise ValueError("update: the status is the lifecycle's to set (name the action instead)")
    with writing(session) as s:
        row = get(s, case_number, fresh=True)
        before = snapshot(row)
        event = lifecycle.apply(row, action, role, to)
        if changes.get("reviewer_id") is not None:  # only a reviewer who can sign it is assigned a case
            from openimr.panel.reviewers import signer

            signer(s, changes["reviewer_id"])
        for column, value in changes.items():
            setattr(row, column, value)
        s.flush()
        after = snapshot(row)
        audit.append(s, event, "case", case_number, before, after | (detail or {}), actor)
        return after


def list_cases(session: Session, due_before: date | None = None, status: str | None = None) -> list[dict]:
    """Cases (newest first), optionally only open ones with a pending deadline before a date."""
    query = select(CaseRow).order_by(CaseRow.id.desc())
    if due_before:
        query = query.where(
            CaseRow.status.in_(OPEN_STATUSES),
            or_(CaseRow.records_due < due_before, CaseRow.determination_due < due_before),
        )
    rows = list(session.scalars(query))
    out = []
    for row in rows:
        if status and row.status != status:
            continue
        pending = next_due(session, row)
        if due_before and (pending is None or pending[1] >= due_before):
            continue
        out.append(summary(row, pending))
    return out


def next_due(session: Session, row: CaseRow) -> tuple[str, date] | None:
    """The pending deadline of an open case: records due, then determination due."""
    if row.status not in OPEN_STATUSES:
        return None
    events = events_of(session, row)
    if events.records_received is None and row.records_due:
        return "records_due", row.records_due
    if row.determination_due:
        return "determination_due", row.determination_due
    return None


def summary(row: CaseRow, pending: tuple[str, date] | None) -> dict:
    """What a case list shows (no reviewer name; the worker is not named either)."""
    return {
        "case_number": row.case_number,
        "status": row.status,
        "review_type": row.review_type,
        "received": row.received.isoformat(),
        "next_deadline": pending[0] if pending else None,
        "due": pending[1].isoformat() if pending else None,
        "reviewer": row.reviewer_id,
    }


def _plausible(field: str, day: date, future: bool = False) -> None:
    """The one date rule (bounds.check_day) as the store's CaseError."""
    try:
        bounds.check_day(field, day, future=future)
    except ValueError as error:
        raise CaseError(str(error)) from None


def late_report(session: Session, as_of: date) -> list[dict]:
    """Open cases past a deadline on `as_of`: records not received, determination not issued."""
    _plausible("as_of", as_of, future=True)
    out: list[dict] = []
    rows = list(session.scalars(select(CaseRow).where(CaseRow.status.in_(OPEN_STATUSES)).order_by(CaseRow.id)))
    by_case: dict[int, list[CaseEventRow]] = {}
    # every open case's events in one query (not one a case): the report's cost is two queries
    open_ids = select(CaseRow.id).where(CaseRow.status.in_(OPEN_STATUSES))
    for event in session.scalars(select(CaseEventRow).where(CaseEventRow.case_id.in_(open_ids))
                                 .order_by(CaseEventRow.id)):
        by_case.setdefault(event.case_id, []).append(event)
    for row in rows:
        out += _late_items(row, _folded(by_case.get(row.id, [])), as_of, _issued(session, row))
    return out


def _issued(session: Session, row: CaseRow) -> bool:
    """Whether the case's determination was issued: a letter is stored and it is not a signed
    draft held for QA (qa_review) — unless that draft supersedes a letter issued before it."""
    if row.letter is None:
        return False
    if row.status != "qa_review":
        return True
    from openimr.cases.tables import DeterminationRow

    signed = session.scalar(select(func.count()).select_from(DeterminationRow).where(
        DeterminationRow.case_id == row.id, DeterminationRow.qa_returned.is_(None)))
    return (signed or 0) > 1  # the held draft and a letter issued before it


def _late_items(row: CaseRow, events: CaseEvents, as_of: date, issued: bool) -> Iterable[dict]:
    def item(what: str, due: date, done: date | None, assumed: bool) -> dict:
        end = done or as_of
        return {
            "case_number": row.case_number,
            "late": what,
            "due": due.isoformat(),
            "done": done.isoformat() if done else None,
            "days_late": (end - due).days,
            "due_date_assumed": assumed,
            "reviewer": row.reviewer_id,
        }

    if row.records_due:
        received = events.records_received
        if (received and received > row.records_due) or (not received and as_of > row.records_due):
            yield item("records", row.records_due, received, events.notice_sent is None)
    if row.determination_due and not issued and as_of > row.determination_due:
        yield item("determination", row.determination_due, None, events.records_received is None)


def show(session: Session, case_number: str) -> dict:
    """One case in full (the application too) for intake users: no reviewer name."""
    row = get(session, case_number)
    return snapshot(row) | {
        "events": event_list(session, row),
        "assumptions": json.loads(row.assumptions),
    }
