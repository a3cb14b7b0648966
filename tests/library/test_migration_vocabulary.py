"""library_0003: stored facet values move to the one vocabulary, from the previous head, on
SQLite and PostgreSQL; and back on downgrade."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from openimr.db import MIGRATIONS, engine_for

ITEMS = [  # (request, stored region before, region after)
    ("MRI of the lumbar spine", "lumbar spine", "lumbar"),
    ("EMG of the upper extremities", "upper extremities", "upper_extremity"),
    ("Ankle brace", "ankle and foot", "ankle"),
    ("Orthotic insoles for the feet", "ankle and foot", "foot"),
    ("CT of the abdomen", "chest and abdomen", "abdomen"),
    ("Chest x-ray", "chest and abdomen", "chest"),
    ("Knee MRI", "knee", "knee"),
    ("Physical therapy", None, None),
]
CITATIONS = [  # (guideline printed, key before, key after)
    ("Medicare Physician Fee Schedule", "other:medicare physician fee schedule", "medicare-fee-schedule"),
    ("Drug Formulary", "mtus", "mtus-drug-formulary"),
    ("Chronic Pain Medical Treatment", "mtus-chronic-pain", "mtus-chronic-pain"),
]


def _alembic(url: str, verb: str, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    engine = engine_for(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, verb)(config, target)


def _fill(url: str) -> None:
    with engine_for(url).begin() as c:
        c.execute(text("INSERT INTO library_letters (id, letter_key, content_hash, layout, ingested_at) "
                       "VALUES (1, 'CM00-0000001', 'h', 'L2016', :now)"), {"now": dt.datetime(2026, 1, 1)})
        for i, (request, region, _after) in enumerate(ITEMS, 1):
            c.execute(text("INSERT INTO library_items (id, letter_id, position, decision, overturned, category, category_group, "
                           "body_region, guideline, request, rationale) VALUES (:id, 1, :id, 'Upheld', false, 'other', "
                           "'other', :region, :g, :request, '')"),
                      {"id": i, "region": region, "request": request,
                       "g": CITATIONS[i - 1][1] if i <= len(CITATIONS) else None})
        for i, (name, key, _after) in enumerate(CITATIONS, 1):
            c.execute(text("INSERT INTO library_citations (item_id, role, position, scope, guideline, guideline_key) "
                           "VALUES (:item, 'imr', 0, :scope, :name, :key)"),
                      {"item": i, "scope": "non-MTUS" if "Medicare" in name else "MTUS", "name": name, "key": key})


def _state(url: str):
    with engine_for(url).connect() as c:
        regions = [r[0] for r in c.execute(text("SELECT body_region FROM library_items ORDER BY id"))]
        keys = [r[0] for r in c.execute(text("SELECT guideline_key FROM library_citations ORDER BY item_id"))]
        item_keys = [r[0] for r in c.execute(text("SELECT guideline FROM library_items ORDER BY id"))][: len(CITATIONS)]
    return regions, keys, item_keys


def test_vocabulary_migration_from_the_previous_head(db_url):
    _alembic(db_url, "upgrade", "library_0002")
    _fill(db_url)
    _alembic(db_url, "upgrade", "heads")
    regions, keys, item_keys = _state(db_url)
    assert regions == [after for _r, _b, after in ITEMS]
    assert keys == item_keys == [after for _n, _b, after in CITATIONS]
    if db_url.startswith("sqlite"):  # the generated facet column and its full-text tokens follow
        with engine_for(db_url).connect() as c:
            facets = c.execute(text("SELECT facets FROM library_items WHERE id = 1")).scalar()
            hits = c.execute(text("SELECT count(*) FROM library_items_fts WHERE library_items_fts MATCH 'xrlumbar'")).scalar()
        assert facets.endswith("xrlumbar") and hits == 1
    _alembic(db_url, "downgrade", "library_0002")
    regions, keys, _ = _state(db_url)
    assert regions == [before for _r, before, _a in ITEMS]
    assert keys == [before for _n, before, _a in CITATIONS]


def test_every_stored_region_is_a_vocabulary_key(real_library):
    from openimr.vocab import region_keys

    with engine_for(real_library).connect() as c:
        stored = {r[0] for r in c.execute(text("SELECT DISTINCT body_region FROM library_items")) if r[0]}
    assert stored and stored <= set(region_keys())
