"""web_cases keeps only what the workbench adds to a case; the case part's record is the rest.

Before dropping its copies (status, priority, received, dates, application, eligibility,
assigned reviewer), every workbench case is reconciled with the case part, with an audit
entry of the case part for each change:
- a case the workbench held alone gets its case-part record from the workbench's copy;
- the workbench's assignment becomes the case part's reviewer (`web:<user id>`, or the
  panel id of a linked user) and status (assigned; determined when signed; superseding).

SQLite cannot drop a column that takes part in a foreign key without rebuilding the table,
and rebuilding web_cases would cascade-delete its decisions and determinations: there the
old `assigned_user_id` column stays, emptied and unused.

Revision ID: web_0003
Revises: web_0002
"""

import hashlib
import json
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "web_0003"
down_revision = "web_0002"
branch_labels = None
depends_on = ("cases_0001",)

ACTOR = "migration:web_0003"
COPIES = ("status", "priority", "received", "date_of_injury", "ur_denial_date", "determination_due",
          "application", "eligibility")

OLD = sa.table(
    "web_cases", sa.column("id", sa.Integer), sa.column("case_number", sa.String), sa.column("status", sa.String),
    sa.column("priority", sa.String), sa.column("received", sa.Date), sa.column("date_of_injury", sa.Date),
    sa.column("determination_due", sa.Date), sa.column("application", sa.JSON), sa.column("eligibility", sa.JSON),
    sa.column("assigned_user_id", sa.Integer),
)
USERS = sa.table("web_users", sa.column("id", sa.Integer), sa.column("panel_reviewer_id", sa.String))


CASES = sa.table(
    "imr_cases", *(sa.column(c) for c in (
        "id", "case_number", "status", "review_type", "employee_key", "physician_key", "date_of_injury", "received",
        "application", "reasons", "assumptions", "filing_deadline", "records_due", "determination_due", "reviewer_id",
        "credentials", "consolidated_into", "letter", "published", "created_at")),
)
LOG = sa.table("imr_audit_log", *(sa.column(c) for c in (
    "seq", "at", "actor", "action", "entity", "entity_id", "before", "after", "prev_hash", "hash")))
HEAD = sa.table("imr_audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))


def _day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def _snapshot(row: dict) -> dict:
    """The case part's snapshot of a case as it was at this revision."""
    return {
        "case_number": row["case_number"], "status": row["status"], "review_type": row["review_type"],
        "received": row["received"], "date_of_injury": row["date_of_injury"],
        "application": json.loads(row["application"]), "reasons": json.loads(row["reasons"]),
        "filing_deadline": row["filing_deadline"], "records_due": row["records_due"],
        "determination_due": row["determination_due"], "reviewer_id": row["reviewer_id"],
        "credentials": json.loads(row["credentials"]) if row["credentials"] else None,
        "consolidated_into": row["consolidated_into"], "has_letter": row["letter"] is not None,
        "published": row["published"] is not None,
    }


def _append(bind, action: str, number: str, before, after) -> None:
    """An audit row in the chain's format of this revision (cases_0002 re-chains every row
    under the deployment's key)."""
    head = bind.execute(sa.select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    if head is None:
        bind.execute(HEAD.insert().values(id=1, seq=0, hash="0" * 64))
        head = (0, "0" * 64)
    seq, prev = head[0] + 1, head[1]
    fields = {"seq": seq, "at": datetime.now(UTC).isoformat(timespec="microseconds"), "actor": ACTOR,
              "action": action, "entity": "case", "entity_id": number, "before": _canonical(before),
              "after": _canonical(after)}
    digest = hashlib.sha256((prev + _canonical(fields)).encode("utf-8")).hexdigest()
    bind.execute(LOG.insert().values(**fields, prev_hash=prev, hash=digest))
    bind.execute(HEAD.update().where(HEAD.c.id == 1).values(seq=seq, hash=digest))


def _case(bind, number: str) -> dict:
    return dict(bind.execute(sa.select(CASES).where(CASES.c.case_number == number)).mappings().one())


def _norm(text) -> str:
    import re

    return " ".join(re.findall(r"[a-z0-9]+", (text or "").lower()))


def _adopt(bind, web) -> None:
    """A case-part record for a case the workbench held alone, from the workbench's copy."""
    application = web.application or {}
    employee_data = application.get("employee") or {}
    if employee_data.get("name") and application.get("requesting_physician"):
        basis = f"{_norm(employee_data.get('name'))}|{employee_data.get('date_of_birth') or ''}"
        employee = hashlib.sha256(basis.encode()).hexdigest()
        physician = _norm((application.get("requesting_physician") or {}).get("name"))[:200]
    else:  # an application the case part's rules would not read: keep it apart
        employee, physician = hashlib.sha256(f"web:{web.case_number}".encode()).hexdigest(), ""
    eligibility = web.eligibility or {}
    status = {"ineligible": "ineligible", "deferred": "deferred"}.get(web.status, "eligible")
    received = _day(web.received) or date.today()
    bind.execute(CASES.insert().values(
        case_number=web.case_number, status=status, review_type=web.priority or "standard",
        employee_key=employee, physician_key=physician,
        date_of_injury=_day(web.date_of_injury) or received, received=received,
        application=json.dumps(application), reasons=json.dumps(eligibility.get("reasons") or []),
        assumptions="[]", determination_due=_day(web.determination_due),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    ))
    _append(bind, "adopt", web.case_number, None, _snapshot(_case(bind, web.case_number)))


def _reconcile(bind, web, keys: dict[int, str]) -> None:
    """The workbench's assignment and signing recorded in the case part (one audit entry)."""
    row = _case(bind, web.case_number)
    changes: dict = {}
    if web.assigned_user_id is not None and row["reviewer_id"] != keys.get(web.assigned_user_id):
        changes["reviewer_id"] = keys.get(web.assigned_user_id)
    wanted = {"assigned": "assigned", "in_review": "assigned", "superseding": "superseding",
              "signed": "determined"}.get(web.status)
    if wanted == "assigned" and row["status"] == "eligible":
        changes["status"] = "assigned"
    elif wanted in ("superseding", "determined") and row["status"] not in (wanted, "published"):
        changes["status"] = wanted
    if changes:
        bind.execute(CASES.update().where(CASES.c.id == row["id"]).values(**changes))
        _append(bind, "adopt_workbench", web.case_number, _snapshot(row), _snapshot(_case(bind, web.case_number)))


def upgrade() -> None:
    bind = op.get_bind()
    keys = {uid: pid or f"web:{uid}" for uid, pid in bind.execute(sa.select(USERS.c.id, USERS.c.panel_reviewer_id))}
    known = set(bind.scalars(sa.select(CASES.c.case_number)))
    for web in bind.execute(sa.select(OLD).order_by(OLD.c.id)).all():
        if web.case_number not in known:
            _adopt(bind, web)
        _reconcile(bind, web, keys)
    for column in COPIES:
        op.execute(f"ALTER TABLE web_cases DROP COLUMN {column}")
    op.drop_index("ix_web_cases_assigned_user_id", table_name="web_cases")
    if bind.dialect.name == "sqlite":
        op.execute("UPDATE web_cases SET assigned_user_id = NULL")
    else:
        op.drop_column("web_cases", "assigned_user_id")


def downgrade() -> None:
    """The columns come back, filled from the case part (the application and eligibility
    stay empty; the assignment is not restored)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.add_column("web_cases", sa.Column("assigned_user_id", sa.Integer, sa.ForeignKey("web_users.id")))
    op.create_index("ix_web_cases_assigned_user_id", "web_cases", ["assigned_user_id"])
    for name, kind in (("status", sa.String(24)), ("priority", sa.String(16)), ("received", sa.Date),
                       ("date_of_injury", sa.Date), ("ur_denial_date", sa.Date), ("determination_due", sa.Date),
                       ("application", sa.JSON), ("eligibility", sa.JSON)):
        op.add_column("web_cases", sa.Column(name, kind))
    imr = sa.table("imr_cases", sa.column("case_number", sa.String), sa.column("status", sa.String),
                   sa.column("review_type", sa.String), sa.column("received", sa.Date),
                   sa.column("date_of_injury", sa.Date), sa.column("determination_due", sa.Date))
    web = sa.table("web_cases", sa.column("case_number", sa.String), sa.column("status", sa.String),
                   sa.column("priority", sa.String), sa.column("received", sa.Date),
                   sa.column("date_of_injury", sa.Date), sa.column("determination_due", sa.Date))
    same = imr.c.case_number == web.c.case_number
    op.execute(web.update().values(
        status=sa.select(imr.c.status).where(same).scalar_subquery(),
        priority=sa.select(sa.case((imr.c.review_type == "expedited", "expedited"), else_="standard"))
        .where(same).scalar_subquery(),
        received=sa.select(imr.c.received).where(same).scalar_subquery(),
        date_of_injury=sa.select(imr.c.date_of_injury).where(same).scalar_subquery(),
        determination_due=sa.select(imr.c.determination_due).where(same).scalar_subquery(),
    ))
