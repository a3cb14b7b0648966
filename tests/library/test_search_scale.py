"""Search's bounded work for large libraries: filters in memory and in SQL, the chunked and
windowed candidate reads, the common-word scoring and the semantic first pass's selection."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import text

from openimr.db import engine_for, session_scope
from openimr.library import search as module
from openimr.library.ingest import ingest
from openimr.library.search import Filters

from .conftest import DATA, make_letter, write_jsonl
from .relevance import evaluate, load_labels


def ranked_ids(url: str, *args, **options):
    """The library's ranking, in a session of its own."""
    with session_scope(url) as session:
        return module.ranked_ids(session, *args, **options)


def fulltext_ids(url: str, *args, **options):
    with session_scope(url) as session:
        return module.fulltext_ids(session, *args, **options)

REQUESTS = [
    ("Norco 10/325mg #90", "Upheld", "Anesthesiology"),
    ("Acupuncture 6 sessions", "Overturned", "Orthopedic Surgery"),
    ("MRI of the lumbar spine", "Upheld", "Orthopedic Surgery"),
    ("Hydrocodone 5/325mg #60", "Overturned", "Anesthesiology"),
    ("Physical therapy 12 sessions", "Upheld", "Physical Medicine"),
    ("Ibuprofen 800mg #60", "Overturned", "Orthopedic Surgery"),
    ("MRI of the cervical spine", "Overturned", "Anesthesiology"),
    ("Tramadol 50mg #60", "Upheld", "Orthopedic Surgery"),
]
# every rationale holds these words (see conftest.make_letter)
QUERY = "guidelines applied"
CASES = [
    Filters(decision="Overturned"),
    Filters(category="opioid"),
    Filters(category="pharmaceuticals", decision="Upheld"),
    Filters(region="lumbar spine"),
    Filters(date_from=date(2016, 4, 1), date_to=date(2016, 7, 31)),
    Filters(specialty="anesthesiology", decision="Overturned"),
    Filters(guideline="mtus-chronic-pain", category="diagnostics"),
]


@pytest.fixture
def library(db_url, tmp_path) -> str:
    letters = [
        make_letter(f"CM16-40000{n:02d}", [(request, decision)], specialty=specialty, decided=date(2016, n + 1, 1))
        for n, (request, decision, specialty) in enumerate(REQUESTS)
    ]
    ingest([write_jsonl(tmp_path / "letters.jsonl", letters)], db_url, workers=1)
    return db_url


def _expected(url: str, filters: Filters) -> set[int]:
    """The items passing the filters, checked here in Python on the stored columns."""
    sql = (
        "SELECT i.id, i.category, i.category_group, i.decision, i.body_region, i.decision_date, "
        "(SELECT min(c.guideline_key) FROM library_citations c WHERE c.item_id = i.id AND c.role = 'imr'), "
        "(SELECT min(r.value) FROM library_credentials r WHERE r.letter_id = i.letter_id AND r.kind = 'specialty') "
        "FROM library_items i"
    )
    with engine_for(url).connect() as connection:
        rows = connection.execute(text(sql)).all()
    passing = set()
    for item_id, category, group, decision, region, decided, guideline, specialty in rows:
        decided = date.fromisoformat(str(decided)[:10])
        if filters.category and filters.category not in (category, group):
            continue
        if filters.decision and decision != filters.decision:
            continue
        if filters.region and region != filters.region:
            continue
        if (filters.date_from and decided < filters.date_from) or (filters.date_to and decided > filters.date_to):
            continue
        if filters.guideline and not (guideline or "").startswith(filters.guideline):
            continue
        if filters.specialty and filters.specialty not in specialty.lower():
            continue
        passing.add(item_id)
    return passing


def test_every_filter_is_honoured_by_every_mode_on_both_databases(library, monkeypatch):
    # every item is to be found: no relevance floor for the semantic side here (its cosines
    # to QUERY are low; test_search.py tests the floor)
    monkeypatch.setattr(module, "RELEVANCE_FLOOR", -1.0)
    for filters in CASES:
        expected = _expected(library, filters)
        assert expected, filters  # each case keeps some items and drops others
        assert len(expected) < len(REQUESTS), filters
        for mode in ("fulltext", "semantic", "fused"):
            found = {i for i, _ in ranked_ids(library, QUERY, filters, mode=mode, limit=50)}
            assert found == expected, (mode, filters)


def test_bounded_reads_go_past_newest_items_that_fail_the_filters(library, monkeypatch):
    # two candidates per step, read in chunks of four (SQLite) or id windows of three, then
    # three more (PostgreSQL: the first window holds one of the two items passing)
    monkeypatch.setattr(module, "FTS_CAP", 2)
    monkeypatch.setattr(module, "PG_WINDOW", 3)
    monkeypatch.setattr(module, "PG_WINDOW_MAX", 4)
    monkeypatch.setattr(module, "PG_GIN_ROWS", 0)
    filters = Filters(category="pharmaceuticals", decision="Overturned")  # not among the newest two items
    expected = _expected(library, filters)
    found = fulltext_ids(library, QUERY, filters)
    assert len(expected) == 2 and set(found) == expected
    # a word only in the oldest items: PostgreSQL leaves it to the GIN index
    assert set(fulltext_ids(library, "acupuncture", Filters())) == _expected(library, Filters(category="acupuncture"))


def test_items_without_a_vector_are_filtered_in_sql(tmp_path):
    url = f"sqlite:///{tmp_path / 'library.sqlite'}"
    letters = [make_letter(f"CM16-50000{n}", [(request, decision)]) for n, (request, decision, _) in enumerate(REQUESTS[:4])]
    ingest([write_jsonl(tmp_path / "letters.jsonl", letters)], url, workers=1)
    with engine_for(url).begin() as connection:
        norco = connection.execute(text("SELECT id FROM library_items WHERE request LIKE 'Norco%'")).scalar()
        connection.execute(text("UPDATE library_items SET embedding = NULL WHERE id = :id"), {"id": norco})
    assert norco in fulltext_ids(url, QUERY, Filters(decision="Upheld"))
    assert norco not in fulltext_ids(url, QUERY, Filters(decision="Overturned"))
    assert norco not in [i for i, _ in ranked_ids(url, QUERY, Filters(decision="Upheld"), mode="semantic", limit=50)]


def test_common_word_scoring_keeps_relevance(real_library, monkeypatch):
    # every word scored as a common one (estimated idf, request or rationale), as in a large library
    monkeypatch.setattr(module, "RANK_DF", 0)
    monkeypatch.setattr(module, "DF_WINDOW", 50)
    scores = evaluate(real_library, load_labels(DATA / "relevance.yaml"))
    assert scores["fulltext"] >= 0.84 and scores["fused"] >= 0.9, scores


def test_document_frequencies_are_estimated_on_the_newest_items(real_library, monkeypatch):
    with engine_for(real_library).connect() as connection:
        exact, items = module._document_frequencies(connection, ["acupuncture", "zzzz"])
        total = connection.execute(text("SELECT count(*) FROM library_items")).scalar()
        holding = connection.execute(
            text("SELECT count(*) FROM library_items_fts WHERE library_items_fts MATCH '\"acupuncture\"'")
        ).scalar()
        assert items == total and exact == {"acupuncture": holding, "zzzz": 0}
        monkeypatch.setattr(module, "DF_WINDOW", total // 2)
        estimated, estimated_items = module._document_frequencies(connection, ["acupuncture"])
    assert estimated_items == pytest.approx(total, rel=0.2)
    assert 0 <= estimated["acupuncture"] <= 4 * holding + 2


def test_first_pass_selection_equals_a_full_partition():
    rng = np.random.default_rng(3)
    for size, pool in ((50_000, 300), (200_000, 2_000), (1_000, 300)):
        scores = rng.normal(size=size).astype(np.float32)
        scores[rng.choice(size, size // 3, replace=False)] = -np.inf  # rows filtered out
        chosen = module._best_rows(scores, pool)
        assert len(chosen) == pool
        assert set(chosen.tolist()) == set(np.argpartition(-scores, pool - 1)[:pool].tolist())
