"""Drop web_letters: letters live in the precedent library only.

Revision ID: web_0002
Revises: web_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "web_0002"
down_revision = "web_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("web_letters")


def downgrade() -> None:
    op.create_table(
        "web_letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_number", sa.String(32), index=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("layout", sa.String(32), nullable=False),
        sa.Column("decision_date", sa.Date),
        sa.Column("letter", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
