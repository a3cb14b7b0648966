"""Case workflow and expert reviewer panel: cases, case events, reviewers, audit log."""

import sqlalchemy as sa
from alembic import op

revision = "cases_0001"
down_revision = "base_0001"
branch_labels = ("cases",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imr_cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_number", sa.String(20), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("review_type", sa.String(10), nullable=False),
        sa.Column("employee_key", sa.String(64), nullable=False),
        sa.Column("physician_key", sa.String(200), nullable=False),
        sa.Column("date_of_injury", sa.Date, nullable=False),
        sa.Column("received", sa.Date, nullable=False),
        sa.Column("application", sa.Text, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("assumptions", sa.Text, nullable=False),
        sa.Column("filing_deadline", sa.Date),
        sa.Column("records_due", sa.Date),
        sa.Column("determination_due", sa.Date),
        sa.Column("reviewer_id", sa.String(64)),
        sa.Column("credentials", sa.Text),
        sa.Column("consolidated_into", sa.String(20)),
        sa.Column("letter", sa.Text),
        sa.Column("published", sa.Text),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_imr_cases_case_number", "imr_cases", ["case_number"])
    op.create_index("ix_imr_cases_status", "imr_cases", ["status"])
    op.create_index("ix_imr_cases_employee_key", "imr_cases", ["employee_key"])
    op.create_index("ix_imr_cases_records_due", "imr_cases", ["records_due"])
    op.create_index("ix_imr_cases_determination_due", "imr_cases", ["determination_due"])
    op.create_index("ix_imr_cases_reviewer_id", "imr_cases", ["reviewer_id"])
    op.create_table(
        "imr_case_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("imr_cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("method", sa.String(20)),
        sa.Column("recorded_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_imr_case_events_case_id", "imr_case_events", ["case_id"])
    op.create_table(
        "imr_reviewers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("profession", sa.String(40), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "imr_audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("before", sa.Text, nullable=False),
        sa.Column("after", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_imr_audit_log_entity_id", "imr_audit_log", ["entity_id"])
    head = op.create_table(
        "imr_audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    # the one head row exists from the start: every writer locks it first (serialises the chain)
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    for table in ("imr_audit_head", "imr_audit_log", "imr_reviewers", "imr_case_events", "imr_cases"):
        op.drop_table(table)
