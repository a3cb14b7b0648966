"""Precedent library: filter facets inside the SQLite full-text index.

Category, category group, decision and body region become tokens of a `facets` column
(generated from the item's columns) in the FTS5 index, so a filtered full-text query is an
intersection of posting lists instead of a row-by-row check. PostgreSQL is unchanged.
"""

from alembic import op

revision = "library_0002"
down_revision = "library_0001"
branch_labels = None
depends_on = None

FACETS = (
    "'xc' || replace(category, '_', '') || ' xg' || replace(category_group, '_', '') || "
    "' xd' || lower(decision) || ' xr' || replace(replace(coalesce(body_region, 'none'), ' ', ''), '_', '')"
)


def _drop_fts() -> None:
    for trigger in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS library_items_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS library_items_fts")


def _create_fts(columns: list[str]) -> None:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    op.execute(
        f"CREATE VIRTUAL TABLE library_items_fts USING fts5({names}, content='library_items', "
        "content_rowid='id', tokenize='porter unicode61')"
    )
    op.execute(
        "CREATE TRIGGER library_items_fts_ai AFTER INSERT ON library_items BEGIN "
        f"INSERT INTO library_items_fts(rowid, {names}) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER library_items_fts_ad AFTER DELETE ON library_items BEGIN "
        f"INSERT INTO library_items_fts(library_items_fts, rowid, {names}) VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        "CREATE TRIGGER library_items_fts_au AFTER UPDATE ON library_items BEGIN "
        f"INSERT INTO library_items_fts(library_items_fts, rowid, {names}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO library_items_fts(rowid, {names}) VALUES (new.id, {new}); END"
    )
    op.execute("INSERT INTO library_items_fts(library_items_fts) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_fts()
    op.execute(f"ALTER TABLE library_items ADD COLUMN facets TEXT GENERATED ALWAYS AS ({FACETS}) VIRTUAL")
    _create_fts(["request", "rationale", "facets"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_fts()
    op.execute("ALTER TABLE library_items DROP COLUMN facets")
    _create_fts(["request", "rationale"])
