"""One registry of expert reviewers: the workbench account only links to the panel's record.

The workbench kept its own clinical facts of a reviewer (`web_users.clinician`, `licensure`,
`specialties`) beside the panel's record (`imr_reviewers`). They move to the panel, each
move entered in the audit log with the account's values as they were (nothing is lost):
- a clinician linked to a panel record keeps it; the record stays as it is (it is the
  registry; the account's copies are in the audit entry);
- a clinician without a panel record gets one (`web-<user id>`, or the id it was linked to
  when the panel did not hold it) built from the account: its states of licensure, its
  specialties as board certifications, profession MD (assumed: the account did not say),
  years and hours of practice 0 (unknown: the panel's match excludes the record from new
  cases until an administrator completes it with `openimr panel add`; the reviewer still
  signs the cases they have);
- the cases assigned to that reviewer as `web:<user id>` move to the panel id, with the
  letter's credentials block they would have been signed with (the account's);
- a reviewer who was not a clinician but linked to the panel is unlinked (a link now lets
  its holder sign); a second user linked to the same panel record is unlinked too;
- the three columns are dropped; a panel record is linked to at most one user (unique).

SQLite drops the columns in place (ALTER TABLE DROP COLUMN): rebuilding web_users would
cascade-delete the sessions.

Revision ID: web_0004
Revises: web_0003
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "web_0004"
down_revision = "web_0003"
branch_labels = None
depends_on = ("cases_0002",)

ACTOR = "migration:web_0004"
FALLBACK_STATEMENT = ("The expert reviewer is a licensed clinician who reviewed the records and decided each "
                      "disputed item.")

USERS = sa.table("web_users", sa.column("id", sa.Integer), sa.column("username", sa.String),
                 sa.column("display_name", sa.String), sa.column("role", sa.String),
                 sa.column("clinician", sa.Boolean), sa.column("licensure", sa.JSON),
                 sa.column("specialties", sa.JSON), sa.column("panel_reviewer_id", sa.String))
REVIEWERS = sa.table("imr_reviewers", *(sa.column(c) for c in ("id", "name", "profession", "data", "active",
                                                              "created_at")))
CASES = sa.table("imr_cases", sa.column("id"), sa.column("case_number"), sa.column("reviewer_id"),
                 sa.column("credentials"))


def _listed(value) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
    return [str(v) for v in value or [] if str(v).strip()]


def _record_from(user, reviewer_id: str, licensure: list[str], specialties: list[str]) -> tuple[dict, list[str]]:
    """A panel record from the account: (the record, the states it could not read)."""
    from openimr.panel.reviewers import BoardCertification, License, Reviewer

    licenses: list[License] = []
    unread: list[str] = []
    for state in licensure:
        try:
            licenses.append(License(state=state))
        except ValueError:
            unread.append(state)
    reviewer = Reviewer(id=reviewer_id, name=user.display_name or user.username, profession="MD",
                        licenses=licenses,
                        board_certifications=[BoardCertification(board="as entered on the workbench account",
                                                                 specialty=s) for s in specialties],
                        years_active_practice=0, hours_per_week=0, active=True)
    return reviewer.model_dump(mode="json"), unread


def _free_id(bind, wanted: str) -> str:
    taken = set(bind.execute(sa.select(REVIEWERS.c.id)).scalars())
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def upgrade() -> None:
    from sqlalchemy.orm import Session

    from openimr.cases import audit
    from openimr.models import ReviewerCredentials

    bind = op.get_bind()
    session = Session(bind=bind)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    linked: set[str] = set()
    try:
        for user in bind.execute(sa.select(USERS).order_by(USERS.c.id)).all():
            licensure, specialties = _listed(user.licensure), _listed(user.specialties)
            account = {"user": user.username, "role": user.role, "clinician": bool(user.clinician),
                       "licensure": licensure, "specialties": specialties,
                       "panel_reviewer_id": user.panel_reviewer_id}
            pid = user.panel_reviewer_id
            outcome: dict = {}
            if pid and (user.role != "reviewer" or not user.clinician or pid in linked):
                outcome = {"panel_reviewer_id": None, "unlinked": pid,
                           "why": "linked already to another user" if pid in linked else "not a clinician reviewer"}
                pid = None
            elif user.role == "reviewer" and user.clinician:
                on_panel = pid is not None and bind.scalar(sa.select(REVIEWERS.c.id).where(REVIEWERS.c.id == pid))
                if not on_panel:
                    pid = _free_id(bind, pid or f"web-{user.id}")
                    data, unread = _record_from(user, pid, licensure, specialties)
                    bind.execute(REVIEWERS.insert().values(id=pid, name=data["name"], profession=data["profession"],
                                                           data=json.dumps(data), active=True, created_at=now))
                    public = {k: v for k, v in data.items() if k != "name"}
                    audit.append(session, "add", "reviewer", pid, None, public | {"from_user": user.username}, ACTOR)
                    outcome = {"panel_reviewer_id": pid, "created": True, "unread_licensure": unread}
                else:
                    outcome = {"panel_reviewer_id": pid, "created": False}
                block = ReviewerCredentials(licensure=licensure, specialties=specialties,
                                            statement=FALLBACK_STATEMENT).model_dump_json()
                for case in bind.execute(sa.select(CASES).where(CASES.c.reviewer_id == f"web:{user.id}")).all():
                    values = {"reviewer_id": pid} | ({} if case.credentials else {"credentials": block})
                    bind.execute(CASES.update().where(CASES.c.id == case.id).values(**values))
                    audit.append(session, "reviewer_linked", "case", case.case_number,
                                 {"reviewer_id": case.reviewer_id}, {"reviewer_id": pid}, ACTOR)
            if pid:
                linked.add(pid)
            if outcome or licensure or specialties or user.clinician:
                if pid != user.panel_reviewer_id:
                    bind.execute(USERS.update().where(USERS.c.id == user.id).values(panel_reviewer_id=pid))
                audit.append(session, "account_credentials_moved", "reviewer", pid or f"user:{user.username}",
                             account, outcome | {"panel_reviewer_id": pid}, ACTOR)
        session.flush()
    finally:
        session.close()
    for column in ("clinician", "licensure", "specialties"):
        op.drop_column("web_users", column)
    op.create_index("ix_web_users_panel_reviewer_id", "web_users", ["panel_reviewer_id"], unique=True)


def downgrade() -> None:
    raise NotImplementedError("web_0004 cannot be undone: restore a backup taken before the upgrade")
