"""Precedent library: letters, items, citations, reviewer credentials, full-text index.

SQLite gets an FTS5 table over items (request, rationale) kept in step by triggers;
PostgreSQL gets a generated tsvector column with a GIN index.
"""

import sqlalchemy as sa
from alembic import op

revision = "library_0001"
down_revision = "base_0001"
branch_labels = ("library",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "library_letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("letter_key", sa.String(128), nullable=False, unique=True),
        sa.Column("case_number", sa.String(64), index=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source_hash", sa.String(64), index=True),
        sa.Column("source_name", sa.String(512)),
        sa.Column("layout", sa.String(32), nullable=False),
        sa.Column("date_assigned", sa.Date),
        sa.Column("date_of_injury", sa.Date),
        sa.Column("decision_date", sa.Date, index=True),
        sa.Column("ur_denial_date", sa.Date),
        sa.Column("application_received", sa.Date),
        sa.Column("priority", sa.String(16)),
        sa.Column("review_organization", sa.String(200)),
        sa.Column("credentials_statement", sa.Text, nullable=False, server_default=""),
        sa.Column("documents_reviewed", sa.Text),
        sa.Column("clinical_case_summary", sa.Text, nullable=False, server_default=""),
        sa.Column("item_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ingested_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "library_credentials",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("letter_id", sa.Integer, sa.ForeignKey("library_letters.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(200), nullable=False, index=True),
    )
    # small columns first: SQLite reads a row's leading columns without its overflow pages
    # (the rationale), which keeps filtering joins fast on large libraries
    op.create_table(
        "library_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("letter_id", sa.Integer, sa.ForeignKey("library_letters.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False, index=True),
        sa.Column("overturned", sa.Boolean, nullable=False),
        sa.Column("category", sa.String(48), nullable=False, index=True),
        sa.Column("category_group", sa.String(48), nullable=False),
        sa.Column("body_region", sa.String(48), index=True),
        sa.Column("guideline", sa.String(120), index=True),
        sa.Column("decision_date", sa.Date, index=True),
        sa.Column("drug", sa.String(80)),
        sa.Column("dose", sa.String(60)),
        sa.Column("quantity", sa.String(60)),
        sa.Column("frequency", sa.String(60)),
        sa.Column("duration", sa.String(60)),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("original_request", sa.Text),
        sa.Column("authorized", sa.Text),
        sa.Column("disputed_request", sa.Text),
        sa.Column("rationale", sa.Text, nullable=False, server_default=""),
        sa.Column("embedding", sa.LargeBinary),
    )
    op.create_table(
        "library_citations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("library_items.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("guideline", sa.String(300)),
        sa.Column("guideline_key", sa.String(120), index=True),
        sa.Column("year", sa.Integer),
        sa.Column("chapter", sa.Integer),
        sa.Column("sections", sa.Text, nullable=False, server_default="[]"),
        sa.Column("pages", sa.Text, nullable=False, server_default="[]"),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts()
    else:
        _postgres_tsvector()


def _sqlite_fts() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE library_items_fts USING fts5("
        "request, rationale, content='library_items', content_rowid='id', tokenize='porter unicode61')"
    )
    op.execute(
        "CREATE TRIGGER library_items_fts_ai AFTER INSERT ON library_items BEGIN "
        "INSERT INTO library_items_fts(rowid, request, rationale) VALUES (new.id, new.request, new.rationale); END"
    )
    op.execute(
        "CREATE TRIGGER library_items_fts_ad AFTER DELETE ON library_items BEGIN "
        "INSERT INTO library_items_fts(library_items_fts, rowid, request, rationale) "
        "VALUES ('delete', old.id, old.request, old.rationale); END"
    )
    op.execute(
        "CREATE TRIGGER library_items_fts_au AFTER UPDATE OF request, rationale ON library_items BEGIN "
        "INSERT INTO library_items_fts(library_items_fts, rowid, request, rationale) "
        "VALUES ('delete', old.id, old.request, old.rationale); "
        "INSERT INTO library_items_fts(rowid, request, rationale) VALUES (new.id, new.request, new.rationale); END"
    )


def _postgres_tsvector() -> None:
    op.execute(
        "ALTER TABLE library_items ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english', coalesce(request, '')), 'A') || "
        "setweight(to_tsvector('english', coalesce(rationale, '')), 'B')) STORED"
    )
    op.execute("CREATE INDEX ix_library_items_search_tsv ON library_items USING gin (search_tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS library_items_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS library_items_fts")
    for table in ("library_citations", "library_items", "library_credentials", "library_letters"):
        op.drop_table(table)
