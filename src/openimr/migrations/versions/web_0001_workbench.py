"""Workbench tables: users, sessions, login attempts, letters and cases kept by the web app,
the reviewer's decisions, signed determinations and the workbench audit log.

Revision ID: web_0001
Revises: base_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "web_0001"
down_revision = "base_0001"
branch_labels = ("web",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("clinician", sa.Boolean, nullable=False),
        sa.Column("licensure", sa.JSON, nullable=False),
        sa.Column("specialties", sa.JSON, nullable=False),
        sa.Column("panel_reviewer_id", sa.String(64)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "web_login_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("ip", sa.String(64), nullable=False, index=True),
        sa.Column("at", TS, nullable=False, index=True),
        sa.Column("success", sa.Boolean, nullable=False),
    )
    op.create_table(
        "web_letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_number", sa.String(32), index=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("layout", sa.String(32), nullable=False),
        sa.Column("decision_date", sa.Date),
        sa.Column("letter", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "web_cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_number", sa.String(32), nullable=False, unique=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("received", sa.Date, nullable=False),
        sa.Column("date_of_injury", sa.Date),
        sa.Column("ur_denial_date", sa.Date),
        sa.Column("determination_due", sa.Date),
        sa.Column("application", sa.JSON, nullable=False),
        sa.Column("eligibility", sa.JSON, nullable=False),
        sa.Column("documents", sa.JSON, nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("assigned_user_id", sa.Integer, sa.ForeignKey("web_users.id"), index=True),
        sa.Column("assignment", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "web_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("web_cases.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("item_index", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("guideline", sa.Text, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("web_users.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "web_determinations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("web_cases.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("letter", sa.JSON, nullable=False),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("signed_by", sa.Integer, sa.ForeignKey("web_users.id"), nullable=False),
        sa.Column("signed_at", TS, nullable=False),
        sa.Column("superseded_by", sa.Integer),
        sa.Column("supersede_reason", sa.Text),
        sa.UniqueConstraint("case_id", "version"),
    )
    op.create_table(
        "web_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, index=True),
        sa.Column("user_id", sa.Integer),
        sa.Column("at", TS, nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("web_audit", "web_determinations", "web_decisions", "web_cases",
                  "web_letters", "web_login_attempts", "web_sessions", "web_users"):
        op.drop_table(table)
