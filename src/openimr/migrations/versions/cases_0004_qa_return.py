"""QA before issue: `imr_determinations.qa_returned`, the reason QA gave when it returned a
signed draft before it was issued (such a version was never issued and is never in force).
Nullable: every existing determination was issued and keeps NULL.

Revision ID: cases_0004
Revises: cases_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0004"
down_revision = "cases_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imr_determinations") as batch:
        batch.add_column(sa.Column("qa_returned", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imr_determinations") as batch:
        batch.drop_column("qa_returned")
