"""What the case file's index knows of each document, kept in the case record.

`imr_documents` gains the indexed document's type (the casefile vocabulary: `rfa`,
`progress_report`, ...), its author, its first and last page in the file it came from,
whether any of its pages was scanned (OCR'd), the lowest OCR confidence of its pages, and
`duplicate_of`: the id of the earlier document of the same case it copies (a duplicate is
kept, linked, and never counted again). Every column is nullable: a document added by hand
(a clinical summary, an uploaded record) has none of them. Existing rows keep NULLs.

Revision ID: cases_0003
Revises: cases_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0003"
down_revision = "cases_0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("doc_type", sa.String(30)),
    ("author", sa.String(200)),
    ("first_page", sa.Integer),
    ("last_page", sa.Integer),
    ("scanned", sa.Boolean),
    ("ocr_confidence", sa.Float),
    ("duplicate_of", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("imr_documents") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imr_documents") as batch:
        for name, _kind in reversed(COLUMNS):
            batch.drop_column(name)
