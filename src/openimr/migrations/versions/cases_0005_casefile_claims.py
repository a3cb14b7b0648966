"""Which process runs each case-file indexing job.

The jobs themselves are files (casefile/jobs.py: the uploaded file, its manifest, its pages);
this table only says who runs one, so that several workbench processes sharing a jobs folder
never run the same job: a process claims a job with one UPDATE whose WHERE holds only while
nobody else has it (or the holder stopped renewing its claim), which the database makes atomic
(SQLite: its write lock; PostgreSQL: the row's lock, the condition checked again after it).

Revision ID: cases_0005
Revises: cases_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0005"
down_revision = "cases_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imr_casefile_claims",
        sa.Column("job", sa.String(24), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=True),
        sa.Column("renewed_at", sa.Float, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("imr_casefile_claims")
