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
from datetime import date, datetime, timezone

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


def _day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _adopt(session, web) -> None:
    """A case-part record for a case the workbench held alone, from the workbench's copy."""
    from openimr.cases import audit, store
    from openimr.cases.intake import Application
    from openimr.cases.tables import CaseRow

    application = web.application or {}
    try:
        parsed = Application.model_validate(application)
        employee, physician = store.employee_key(parsed), store.physician_key(parsed)
    except ValueError:  # an application the case part's rules would not read: keep it apart
        employee, physician = hashlib.sha256(f"web:{web.case_number}".encode()).hexdigest(), ""
    eligibility = web.eligibility or {}
    status = {"ineligible": "ineligible", "deferred": "deferred"}.get(web.status, "eligible")
    received = _day(web.received) or date.today()
    row = CaseRow(
        case_number=web.case_number, status=status, review_type=web.priority or "standard",
        employee_key=employee, physician_key=physician,
        date_of_injury=_day(web.date_of_injury) or received, received=received,
        application=json.dumps(application), reasons=json.dumps(eligibility.get("reasons") or []),
        assumptions="[]", determination_due=_day(web.determination_due),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    session.add(row)
    session.flush()
    audit.append(session, "adopt", "case", row.case_number, None, store.snapshot(row), ACTOR)


def _reconcile(session, web, keys: dict[int, str]) -> None:
    """The workbench's assignment and signing recorded in the case part (one audit entry)."""
    from openimr.cases import store

    row = store.get(session, web.case_number)
    changes: dict = {}
    if web.assigned_user_id is not None and row.reviewer_id != keys.get(web.assigned_user_id):
        changes["reviewer_id"] = keys.get(web.assigned_user_id)
    wanted = {"assigned": "assigned", "in_review": "assigned", "superseding": "superseding",
              "signed": "determined"}.get(web.status)
    if wanted == "assigned" and row.status == "eligible":
        changes["status"] = "assigned"
    elif wanted in ("superseding", "determined") and row.status not in (wanted, "published"):
        changes["status"] = wanted
    if changes:
        store.update("", web.case_number, "adopt_workbench", changes, ACTOR, session)


def upgrade() -> None:
    from sqlalchemy.orm import Session

    from openimr.cases.tables import CaseRow

    bind = op.get_bind()
    keys = {uid: pid or f"web:{uid}" for uid, pid in bind.execute(sa.select(USERS.c.id, USERS.c.panel_reviewer_id))}
    session = Session(bind=bind)
    try:
        known = set(session.scalars(sa.select(CaseRow.case_number)))
        for web in bind.execute(sa.select(OLD).order_by(OLD.c.id)).all():
            if web.case_number not in known:
                _adopt(session, web)
            _reconcile(session, web, keys)
        session.flush()
    finally:
        session.close()
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
