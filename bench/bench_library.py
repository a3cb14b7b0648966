"""Precedent library benchmark: ingest rate from text (SQLite and PostgreSQL, side by side)
and search latency (full text, semantic, fused; unfiltered and filtered) at 1,000,000 items
on both databases, side by side.

Sizes can be lowered for a quick look: OPENIMR_BENCH_LETTERS (default 100000) and
OPENIMR_BENCH_ITEMS (default 1000000).
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

LETTERS = int(os.environ.get("OPENIMR_BENCH_LETTERS", "100000"))
ITEMS = int(os.environ.get("OPENIMR_BENCH_ITEMS", "1000000"))
QUERIES = [
    "opioid weaning", "MRI of the lumbar spine", "acupuncture sessions", "chiropractic manipulation",
    "nerve conduction study of the arms", "shoulder arthroscopy surgery", "cold therapy unit after surgery",
    "topical analgesic cream", "muscle relaxant for spasm", "proton pump inhibitor", "preoperative blood tests",
    "knee MRI", "TENS unit", "wheelchair", "x-rays of the spine", "physical therapy for the knee",
    "NSAID anti-inflammatory", "epidural steroid injection", "psychological treatment", "medical clearance",
    "functional improvement not documented", "red flags for serious pathology", "urine drug screen",
    "compounded cream", "home health aide", "gym membership", "trigger point injection", "sleep aid insomnia",
    "radiculopathy on examination", "exceeds recommended number of visits",
]


def _synth_part(args) -> int:
    from openimr.library.synth import default_sources, load_pool, synthesize, write

    out, count, start = args
    return write(synthesize(load_pool(default_sources()), count, seed=start, start=start), Path(out), "text")


def make_letters(folder: Path, count: int) -> float:
    """Write `count` synthetic text letters in two processes; seconds taken."""
    started = time.perf_counter()
    half = count // 2
    with ProcessPoolExecutor(2) as pool:
        written = sum(pool.map(_synth_part, [(str(folder), half, 0), (str(folder), count - half, half)]))
    assert written == count
    return time.perf_counter() - started


def ingest_rate(folder: Path, url: str) -> tuple[float, int]:
    """Letters per second of `openimr ingest` (2 workers) into an empty database."""
    from openimr.library.ingest import ingest

    started = time.perf_counter()
    summary = ingest([folder], url, workers=2)
    seconds = time.perf_counter() - started
    assert not summary.failed, summary.failed[:3]
    return summary.added / seconds, summary.added


def scale_to(url: str, items: int) -> int:
    """Copy the stored letters and items (new ids and keys) until there are `items` items."""
    from sqlalchemy import text

    from openimr.db import engine_for

    engine = engine_for(url)
    with engine.begin() as c:
        base_items = c.execute(text("SELECT max(id) FROM library_items")).scalar()
        base_letters = c.execute(text("SELECT max(id) FROM library_letters")).scalar()
        count = c.execute(text("SELECT count(*) FROM library_items")).scalar()
    letter_cols = "letter_key, case_number, content_hash, source_hash, source_name, layout, date_assigned, date_of_injury, decision_date, ur_denial_date, application_received, priority, review_organization, credentials_statement, documents_reviewed, clinical_case_summary, item_count, ingested_at"
    item_cols = "position, request, original_request, authorized, disputed_request, decision, overturned, rationale, category, category_group, body_region, drug, dose, quantity, frequency, duration, guideline, decision_date, embedding"
    copy = 0
    while count < items:
        copy += 1
        need = items - count
        with engine.begin() as c:
            c.execute(text(
                f"INSERT INTO library_letters (id, {letter_cols}) SELECT id + :lo, letter_key || '-copy{copy}', "
                + letter_cols.split(", ", 1)[1] + " FROM library_letters WHERE id <= :base"
            ), {"lo": copy * base_letters, "base": base_letters})
            c.execute(text(
                f"INSERT INTO library_items (id, letter_id, {item_cols}) SELECT id + :io, letter_id + :lo, {item_cols} "
                "FROM library_items WHERE id <= :base AND id <= (SELECT min(id) FROM library_items) + :need - 1"
            ), {"io": copy * base_items, "lo": copy * base_letters, "base": base_items, "need": need})
            count = c.execute(text("SELECT count(*) FROM library_items")).scalar()
    return count


def latencies(url: str) -> dict[str, tuple[float, float, float]]:
    """(p50, p95, max) milliseconds per search mode, the index already in memory."""
    from openimr.db import session_scope
    from openimr.library.search import Filters, ranked_ids

    results = {}
    filtered = Filters(decision="Upheld", category="pharmaceuticals")
    for label, mode, filters in (
        ("fulltext", "fulltext", None), ("semantic", "semantic", None), ("fused", "fused", None),
        ("fulltext, filtered (decision and category group)", "fulltext", filtered),
        ("semantic, filtered (decision and category group)", "semantic", filtered),
        ("fused, filtered (decision and category group)", "fused", filtered),
    ):
        times = []
        with session_scope(url) as session:  # one session, as a request or a command has
            ranked_ids(session, "warm up", filters, mode=mode, limit=10)
            for _repeat in range(2):
                for query in QUERIES:
                    started = time.perf_counter()
                    ranked_ids(session, query, filters, mode=mode, limit=10)
                    times.append((time.perf_counter() - started) * 1000)
        times.sort()
        results[label] = (statistics.median(times), times[int(0.95 * (len(times) - 1))], times[-1])
    return results


def searched(url: str) -> tuple[float, float, dict[str, tuple[float, float, float]]]:
    """(seconds to scale to ITEMS, seconds to load the vector index, latencies) of one database;
    the index is dropped from memory afterwards."""
    from openimr.db import session_scope
    from openimr.library import search

    started = time.perf_counter()
    scale_to(url, ITEMS)
    _analyze(url)
    scale_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with session_scope(url) as session:
        search.vector_index(session)
        key = search.database_key(session)
    load_seconds = time.perf_counter() - started
    try:
        return scale_seconds, load_seconds, latencies(url)
    finally:
        search._INDEXES.pop(key, None)


def _analyze(url: str) -> None:
    """Fresh planner statistics after the bulk copy (PostgreSQL; autovacuum would do it later)."""
    from sqlalchemy import text

    from openimr.db import engine_for

    engine = engine_for(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE library_items"))


def run() -> str:
    from openimr.db import migrate
    from openimr.library.embed import build_model
    from tests.support import pgserver

    build_model()
    root = Path(tempfile.mkdtemp(prefix="openimr-bench-library-"))
    server = pgserver.start()
    try:
        letters = root / "letters"
        synth_seconds = make_letters(letters, LETTERS)
        sqlite_url = f"sqlite:///{root / 'library.sqlite'}"
        pg_url = server.create_database("bench_library")
        migrate(sqlite_url)
        migrate(pg_url)
        sqlite_rate, added = ingest_rate(letters, sqlite_url)
        pg_rate, _ = ingest_rate(letters, pg_url)
        measured = {"SQLite": searched(sqlite_url), "PostgreSQL": searched(pg_url)}
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    lines = [
        "## Precedent library",
        "",
        f"{added:,} synthetic letters (`openimr synth`, drawn from the 129 real letters; made in {synth_seconds:.0f} s) "
        "ingested from text with `--workers 2` into an empty database: parsing, classifying, embedding and storing.",
        "",
        "| database | letters/s | goal |",
        "| --- | ---: | ---: |",
        f"| SQLite | {sqlite_rate:,.0f} | 1,000 |",
        f"| PostgreSQL 15 (throw-away server on the same 2 cores) | {pg_rate:,.0f} | 1,000 |",
        "",
        f"Search latency at {ITEMS:,} items: the ingested items copied under new ids to reach that size "
        f"(SQLite {measured['SQLite'][0]:.0f} s, PostgreSQL {measured['PostgreSQL'][0]:.0f} s, with VACUUM ANALYZE); "
        f"vector index loaded into memory once (SQLite {measured['SQLite'][1]:.1f} s, PostgreSQL {measured['PostgreSQL'][1]:.1f} s); "
        f"{2 * len(QUERIES)} queries per mode (each query twice), top 10; milliseconds:",
        "",
        "| mode | SQLite p50 | SQLite p95 | SQLite max | PostgreSQL p50 | PostgreSQL p95 | PostgreSQL max | goal p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, (p50, p95, top) in measured["SQLite"][2].items():
        q50, q95, qtop = measured["PostgreSQL"][2][mode]
        lines.append(f"| {mode} | {p50:.1f} | {p95:.1f} | {top:.1f} | {q50:.1f} | {q95:.1f} | {qtop:.1f} | 50 |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
