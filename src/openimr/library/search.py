"""Search the precedent library: full text and semantic similarity, fused.

Full text uses SQLite FTS5 (BM25, the request weighted 3:1) or PostgreSQL's tsvector
(ts_rank, the request weighted 3:1, length-normalised); semantic similarity is a cosine
search over the items' embeddings held in memory (numpy); the two rankings are fused by
reciprocal rank fusion. Snippets of the rationale highlight the query's words with **…**.

Both sides bound their work so that a search of a million items stays within tens of
milliseconds: full text ranks only the newest matches (FTS_CAP, FTS_SCAN, the PG_
windows), and FTS5's bm25 only for words rarer than RANK_DF; the semantic side scores
every vector on its leading dimensions, then COARSE_POOL of them exactly. Nothing is
cached per query; the vector index (vectors and filter columns) is kept per database.
"""

from __future__ import annotations

import html
import logging
import math
import re
import threading
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, computed_field
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

Mode = Literal["fused", "fulltext", "semantic"]
RRF_K = 60
CANDIDATES = 100
FTS_CAP = 500  # full text: the newest matches ranked per step (all words, then any)
FTS_SCAN = 6000  # with filters: at most this many of the newest matches looked at
RANK_DF = 20000  # SQLite: words in at most this many items are ranked by FTS5's bm25
DF_WINDOW = 20000  # SQLite: document frequencies are estimated on the newest ids
PG_WINDOW = 4000  # PostgreSQL: the newest items read first, in id order
PG_WINDOW_MAX = 8000  # PostgreSQL: at most this many more read so
PG_GIN_ROWS = 3000  # PostgreSQL: older matches expected, at most, for the GIN index to fetch them
COARSE_DIMS = 64  # the leading (PCA) dimensions, for a first pass over every vector
COARSE_POOL = 5000
POOL = 200  # a page of search(): the hits fetched for its paging and facets (a total above is "more than POOL")
RELEVANCE_FLOOR = 0.35  # the least cosine for a semantic neighbour to be a hit (see semantic_ids)
log = logging.getLogger("openimr.library")
_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were with "
    "not no request requested patient".split()
)


@dataclass
class Filters:
    """Search filters; None means any."""

    category: str | None = None
    region: str | None = None
    decision: str | None = None
    guideline: str | None = None
    specialty: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        if self.region:  # a region key, label or former name ("lumbar spine") -> its key
            from openimr.vocab import region_key

            self.region = region_key(self.region) or self.region

    def any(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def in_memory(self) -> Filters:
        """The filters the vector index holds as columns (category, region, decision, dates)."""
        return Filters(category=self.category, region=self.region, decision=self.decision,
                       date_from=self.date_from, date_to=self.date_to)

    def in_sql(self) -> Filters:
        """The filters only SQL checks (guideline, specialty)."""
        return Filters(guideline=self.guideline, specialty=self.specialty)


_BOLD = re.compile(r"\*\*(.+?)\*\*")


class Hit(BaseModel):
    """One search result: the item, its letter, and a snippet of its rationale with the
    query's words in **bold** (`snippet_html`: the same as escaped HTML with <mark>). The
    row of `openimr search --json` and of the workbench's /api/search."""

    model_config = ConfigDict(extra="forbid")
    id: int
    letter_id: int | None = None
    case_number: str | None
    request: str
    decision: str
    category: str
    category_label: str = ""
    guideline: str | None
    guideline_key: str | None = None
    date: str | None
    snippet: str
    score: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def snippet_html(self) -> str:
        return _BOLD.sub(r"<mark>\1</mark>", html.escape(self.snippet))

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


class SearchPage(BaseModel):
    """One page of a search with the facets of its first POOL hits (decision, category and
    guideline keys with their counts, from the vocabularies only). `total` is the hits
    counted when `total_exact`; otherwise there are more than `total` (POOL)."""

    model_config = ConfigDict(extra="forbid")
    items: list[Hit]
    total: int
    total_exact: bool = True
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = Field(default_factory=dict)


def terms(query: str) -> list[str]:
    """The query's words, lower-cased, without stop words."""
    return [w for w in (m.lower() for m in _WORD.findall(query)) if w not in _STOP]


def guideline_key_prefix(value: str) -> str:
    """A guideline filter as a key prefix: a key ("mtus-acoem") as given, a name
    ("Chronic Pain", "ODG") through the alias file."""
    from openimr.library.classify import _guidelines, normalise_guideline

    value = value.strip()
    keys = [alias.key for alias, _ in _guidelines()[0]]
    if any(key.startswith(value.lower()) for key in keys) or value.lower().startswith("other:"):
        return value.lower()
    name = normalise_guideline(value)
    return name.key if name else value.lower()


def _filter_sql(filters: Filters, params: dict[str, Any]) -> str:
    clauses = []
    if filters.category:
        clauses.append("(i.category = :f_category OR i.category_group = :f_category)")
        params["f_category"] = filters.category
    if filters.region:
        clauses.append("i.body_region = :f_region")
        params["f_region"] = filters.region
    if filters.decision:
        clauses.append("i.decision = :f_decision")
        params["f_decision"] = filters.decision.capitalize()
    if filters.guideline:
        clauses.append("i.id IN (SELECT c.item_id FROM library_citations c WHERE c.role = 'imr' AND c.guideline_key LIKE :f_guideline)")
        params["f_guideline"] = guideline_key_prefix(filters.guideline) + "%"
    if filters.specialty:
        clauses.append(
            "i.letter_id IN (SELECT r.letter_id FROM library_credentials r WHERE r.kind = 'specialty' AND lower(r.value) LIKE :f_specialty)"
        )
        params["f_specialty"] = "%" + filters.specialty.lower() + "%"
    if filters.date_from:
        clauses.append("i.decision_date >= :f_from")
        params["f_from"] = filters.date_from
    if filters.date_to:
        clauses.append("i.decision_date <= :f_to")
        params["f_to"] = filters.date_to
    return "".join(" AND " + c for c in clauses)


def fulltext_ids(session: Session, query: str, filters: Filters, limit: int = CANDIDATES) -> list[int]:
    """Item ids ranked by full-text relevance: items with all the words first, then any.

    At most FTS_CAP matches (the most recently stored) are ranked per step, which bounds
    the time of a query whose words are in most of a large library.
    """
    words = terms(query)
    if not words:
        return []
    ranked: list[int] = []
    operators = ["AND", "OR"] if len(words) > 1 else ["AND"]
    sqlite = session.get_bind().dialect.name == "sqlite"
    # PostgreSQL's planner settings are set for the search alone: in a savepoint rolled back after
    savepoint = None if sqlite else session.begin_nested()
    try:
        connection = session.connection()
        for operator in operators:
            if sqlite:
                rows = _sqlite_step(session, connection, words, operator, filters)
            else:
                rows = _postgres_step(connection, words, operator, filters)
            for item_id, _score in rows:
                if item_id not in ranked:
                    ranked.append(item_id)
                    if len(ranked) >= limit:
                        return ranked
    finally:
        if savepoint is not None:
            savepoint.rollback()
    return ranked


def _postgres_step(connection, words: list[str], operator: str, filters: Filters) -> list[tuple[int, float]]:
    """(id, ts_rank) of the newest FTS_CAP items matching the words (all or any), best first."""
    params: dict[str, Any] = {"q": (" & " if operator == "AND" else " | ").join(words)}
    where = _filter_sql(filters, params)
    ids = _postgres_candidates(connection, params, where)
    if not ids:
        return []
    rank = (
        "SELECT i.id, ts_rank('{0.1, 0.2, 0.33, 1.0}', i.search_tsv, to_tsquery('english', :q), 1) "
        "FROM library_items i WHERE i.id = ANY(:ids)"
    )
    rows = connection.execute(text(rank), {"q": params["q"], "ids": ids}).all()
    return sorted(rows, key=lambda r: (-r[1], -r[0]))


def _postgres_candidates(connection, params: dict[str, Any], where: str) -> list[int]:
    """The newest FTS_CAP items matching the tsquery and the filters.

    The GIN index names every match, and fetching them all from the table is what takes
    long when the words are in many items (a bitmap scan cannot stop at the newest). So
    the newest PG_WINDOW items are read first, in id order, checking the match on each;
    the share that matched (and passed the filters) sizes a second window read the same
    way (at most PG_WINDOW_MAX items). The GIN index is used, for the older items, only
    when the words are in none of the newest PG_WINDOW items (rare words: few rows to
    fetch). Like SQLite's FTS_SCAN this bounds the work, and may miss older matches.
    """
    # in this transaction: no JIT (compiling costs more than these queries take), and the
    # windows read in id order rather than through the GIN index
    top = connection.execute(
        text("SELECT set_config('jit', 'off', true), set_config('enable_bitmapscan', 'off', true), max(id) FROM library_items")
    ).one()[2] or 0
    words = "i.search_tsv @@ to_tsquery('english', :q) AND i.id > :floor AND i.id <= :ceiling"
    floor = max(top - PG_WINDOW, 0)
    first = connection.execute(
        text(f"SELECT i.id, (1 = 1{where}) FROM library_items i WHERE {words} ORDER BY i.id DESC"), {**params, "floor": floor, "ceiling": top}
    ).all()
    ids = [item_id for item_id, passes in first if passes][:FTS_CAP]
    if len(ids) >= FTS_CAP or floor == 0:
        return ids
    if len(first) / (top - floor) * floor > PG_GIN_ROWS:
        share = (len(ids) + 0.25) / (top - floor)  # of the items, matching and passing the filters
        second = max(min(int(1.5 * (FTS_CAP - len(ids)) / share), PG_WINDOW_MAX, floor), 1)
        if share * second < 1:  # not one more expected: the filters leave out what the words find
            return ids
        ceiling, floor = floor, floor - second
    else:  # few older items hold the words (at the newest items' rate): the index names them
        connection.execute(text("SELECT set_config('enable_bitmapscan', 'on', true)"))
        ceiling, floor = floor, 0
    # the filters first: PostgreSQL checks the conditions in the order written, and the
    # tsvector match (decompressing the vector) costs more than a column comparison
    sql = f"SELECT i.id FROM library_items i WHERE 1 = 1{where} AND {words} ORDER BY i.id DESC LIMIT :cap"
    ids += [r[0] for r in connection.execute(text(sql), {**params, "floor": floor, "ceiling": ceiling, "cap": FTS_CAP - len(ids)})]
    return ids


def _phrases(words: list[str], operator: str) -> str:
    return "(" + f" {operator} ".join(f'"{w}"' for w in words) + ")"


def _rowids(connection, sql: str, params: dict[str, Any]) -> np.ndarray:
    """The first column of an SQLite query as int64, read by the driver itself (these
    queries return thousands of row ids, each costly through the SQLAlchemy result)."""
    rows = connection.connection.driver_connection.execute(sql, params).fetchall()
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


def _sqlite_step(session: Session, connection, words: list[str], operator: str, filters: Filters) -> list[tuple[int, float]]:
    """(id, relevance) of the newest FTS_CAP items matching the words (all or any), best first."""
    ids = _sqlite_candidates(session, connection, words, operator, filters)
    if not ids:
        return []
    scores = _sqlite_scores(connection, words, operator, ids)
    return sorted(((i, scores.get(i, 0.0)) for i in ids), key=lambda r: (-r[1], -r[0]))


def _sqlite_candidates(session: Session, connection, words: list[str], operator: str, filters: Filters) -> list[int]:
    """The newest FTS_CAP items matching the words and the filters (no ranking: cheap).

    Without filters: the newest FTS_CAP matches. With filters: the newest matches are
    read in growing chunks, at most FTS_SCAN in all, and kept when they pass category,
    group, region, decision and dates (checked in memory, on the vector index's columns)
    and guideline and specialty (SQL), until FTS_CAP have passed.
    """
    params: dict[str, Any] = {"q": "{request rationale}: " + _phrases(words, operator)}
    matches = "SELECT rowid FROM library_items_fts WHERE library_items_fts MATCH :q AND rowid < :before ORDER BY rowid DESC LIMIT :scan"
    if not filters.any():
        return _rowids(connection, matches, {**params, "scan": FTS_CAP, "before": 2**62}).tolist()
    rest, memory = filters.in_sql(), filters.in_memory()
    kept: list[int] = []
    before, scanned, chunk = 2**62, 0, 2 * FTS_CAP
    while len(kept) < FTS_CAP and scanned < FTS_SCAN:
        chunk = min(chunk, FTS_SCAN - scanned)
        ids = _rowids(connection, matches, {**params, "scan": chunk, "before": before})
        if not len(ids):
            break
        fetched, scanned, before = len(ids), scanned + len(ids), int(ids[-1])
        if memory.any():
            ids = ids[_passing(session, connection, ids, memory)]
        if rest.any() and len(ids):
            ids = ids[np.isin(ids, _sql_passing(connection, ids, rest))]
        kept += ids.tolist()
        if fetched < chunk:  # no more matches
            break
        chunk *= 3
    return kept[:FTS_CAP]


def _sql_passing(connection, ids: np.ndarray, filters: Filters) -> np.ndarray:
    """Those of the item ids that pass the filters, checked in SQL."""
    params: dict[str, Any] = {}
    where = _filter_sql(filters, params)
    marks = ",".join(str(int(i)) for i in ids)
    rows = connection.execute(text(f"SELECT i.id FROM library_items i WHERE i.id IN ({marks}){where}"), params)
    return np.fromiter((r[0] for r in rows), dtype=np.int64)


def _passing(session: Session, connection, ids: np.ndarray, filters: Filters) -> np.ndarray:
    """Which of these item ids pass the filters: looked up in the vector index's columns,
    in SQL for an item the index lacks (stored without an embedding)."""
    passing, known = vector_index(session).passing(ids, filters)
    if not known.all():
        passing[~known] = np.isin(ids[~known], _sql_passing(connection, ids[~known], filters))
    return passing


def _sqlite_scores(connection, words: list[str], operator: str, ids: list[int]) -> dict[int, float]:
    """BM25 relevance (higher is better) of the candidate items for the words.

    FTS5's bm25 counts the items holding each of its words over the whole index, which
    takes longer the more items hold it. So the words held by at most RANK_DF items
    (estimated on the newest DF_WINDOW items; exact in a smaller library) are ranked by
    bm25 itself, and each more common word adds its BM25 term computed here: its estimated
    idf with a frequency of 3 when it is in the item's request, else 1 (in the rationale),
    for an item of average length.
    """
    frequencies, items = _document_frequencies(connection, words)
    span = {"low": min(ids), "high": max(ids)}
    within = "SELECT rowid FROM library_items_fts WHERE library_items_fts MATCH :q AND rowid BETWEEN :low AND :high"
    scores: dict[int, float] = {}
    exact = [w for w in words if frequencies[w] <= RANK_DF]
    common = [w for w in words if frequencies[w] > RANK_DF]
    if exact:
        sql = within.replace("SELECT rowid", "SELECT rowid, -bm25(library_items_fts, 3.0, 1.0, 0.0)")
        scores.update(connection.execute(text(sql), {**span, "q": "{request rationale}: " + _phrases(exact, operator)}).all())
    requests = _in_requests(connection, ids, common) if common else {}
    candidates = np.asarray(ids, dtype=np.int64)
    for word in common:
        idf = max(math.log((items - frequencies[word] + 0.5) / (frequencies[word] + 0.5)), 1e-6)
        if operator == "AND":  # every candidate holds every word: in the request, else the rationale
            holding = candidates
        else:
            holding = candidates[np.isin(candidates, _rowids(connection, within, {**span, "q": f'"{word}"'}))]
        in_request, elsewhere = idf * _saturated(3.0), idf * _saturated(1.0)
        for item_id in holding.tolist():
            scores[item_id] = scores.get(item_id, 0.0) + (in_request if item_id in requests[word] else elsewhere)
    return scores


def _in_requests(connection, ids: list[int], words: list[str]) -> dict[str, set[int]]:
    """Which of the items hold each word in their request, tokenised as the index does
    (the requests, a few words each, are indexed in a scratch in-memory FTS5 table)."""
    import sqlite3

    marks = ",".join(str(int(i)) for i in ids)
    rows = connection.exec_driver_sql(f"SELECT id, request FROM library_items WHERE id IN ({marks})").all()
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.execute("CREATE VIRTUAL TABLE r USING fts5(request, tokenize='porter unicode61')")
        scratch.executemany("INSERT INTO r(rowid, request) VALUES (?, ?)", rows)
        return {w: {r[0] for r in scratch.execute("SELECT rowid FROM r WHERE r MATCH ?", (f'"{w}"',))} for w in words}
    finally:
        scratch.close()


def _saturated(frequency: float, k1: float = 1.2) -> float:
    """BM25's term-frequency factor for an item of average length."""
    return frequency * (k1 + 1) / (frequency + k1)


def _document_frequencies(connection, words: list[str]) -> tuple[dict[str, float], float]:
    """Estimated number of items holding each word (request or rationale), and of items.

    Counted on the newest DF_WINDOW item ids and scaled to the whole library: a few
    milliseconds whatever the library's size; exact when the library is no larger.
    """
    top = connection.execute(text("SELECT max(id) FROM library_items")).scalar() or 0
    floor = max(top - DF_WINDOW, 0)
    # FTS5's table of item sizes: one small row per item, counted quicker than the items
    window = connection.execute(text("SELECT count(*) FROM library_items_fts_docsize WHERE id > :floor"), {"floor": floor}).scalar() or 0
    if not window:
        return {w: 0.0 for w in words}, 0.0
    scale = top / (top - floor)
    count = "SELECT count(*) FROM library_items_fts WHERE library_items_fts MATCH :q AND rowid > :floor"
    # any column: the facets column's tokens (xc…, xd…) are not words of a query
    frequencies = {w: scale * (connection.execute(text(count), {"q": f'"{w}"', "floor": floor}).scalar() or 0) for w in words}
    return frequencies, scale * window


_CODED = ("category", "category_group", "body_region")


class VectorIndex:
    """Every item's embedding in memory, refreshed incrementally as items are added."""

    def __init__(self) -> None:
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, 256), dtype=np.float32)
        self.coarse = np.zeros((0, COARSE_DIMS), dtype=np.float32)
        self.max_id = 0
        self.lock = threading.Lock()
        # per row, for filtering in memory: overturned, category / group / region codes, day
        self.overturned = np.zeros(0, dtype=bool)
        self.codes: dict[str, np.ndarray] = {c: np.zeros(0, dtype=np.int32) for c in _CODED}
        self.vocabulary: dict[str, dict[str, int]] = {c: {} for c in _CODED}
        self.day = np.zeros(0, dtype=np.int32)

    def refresh(self, session: Session) -> None:
        top = session.execute(text("SELECT max(id) FROM library_items")).scalar() or 0
        if top <= self.max_id:
            return
        rows = session.execute(
            text(
                "SELECT id, embedding, overturned, category, category_group, body_region, decision_date "
                "FROM library_items WHERE id > :after AND embedding IS NOT NULL ORDER BY id"
            ),
            {"after": self.max_id},
        ).all()
        if rows:
            self._add_metadata(rows)
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            blob = b"".join(bytes(r[1]) for r in rows)
            vectors = np.frombuffer(blob, dtype=np.float16).reshape(len(rows), -1).astype(np.float32)
            self.ids = np.concatenate([self.ids, ids])
            self.matrix = np.vstack([self.matrix, vectors]) if len(self.matrix) else vectors
            self.coarse = np.ascontiguousarray(self.matrix[:, :COARSE_DIMS])
        self.max_id = top

    def _add_metadata(self, rows) -> None:
        self.overturned = np.concatenate([self.overturned, np.fromiter((bool(r[2]) for r in rows), dtype=bool, count=len(rows))])
        for position, column in enumerate(_CODED, start=3):
            vocabulary = self.vocabulary[column]
            codes = np.fromiter((vocabulary.setdefault(r[position], len(vocabulary)) for r in rows), dtype=np.int32, count=len(rows))
            self.codes[column] = np.concatenate([self.codes[column], codes])
        days = np.fromiter((_ordinal(r[6]) for r in rows), dtype=np.int32, count=len(rows))
        self.day = np.concatenate([self.day, days])

    def mask(self, filters: Filters) -> np.ndarray | None:
        """Rows passing the filters held in memory (category, region, decision, dates)."""
        mask = None

        def narrow(condition: np.ndarray) -> None:
            nonlocal mask
            mask = condition if mask is None else mask & condition

        if filters.category:
            wanted = filters.category
            narrow((self.codes["category"] == self.vocabulary["category"].get(wanted, -1))
                   | (self.codes["category_group"] == self.vocabulary["category_group"].get(wanted, -1)))
        if filters.region:
            narrow(self.codes["body_region"] == self.vocabulary["body_region"].get(filters.region, -1))
        if filters.decision:
            narrow(self.overturned == (filters.decision.capitalize() == "Overturned"))
        if filters.date_from:
            narrow(self.day >= filters.date_from.toordinal())
        if filters.date_to:
            narrow((self.day <= filters.date_to.toordinal()) & (self.day >= 0))
        return mask

    def passing(self, ids: np.ndarray, filters: Filters) -> tuple[np.ndarray, np.ndarray]:
        """(passes the filters held in memory, is in the index) for each item id."""
        rows = np.searchsorted(self.ids, ids)
        rows[rows >= len(self.ids)] = 0
        known = self.ids[rows] == ids if len(self.ids) else np.zeros(len(ids), dtype=bool)
        mask = self.mask(filters)
        passing = known.copy() if mask is None else known & mask[rows]
        return passing, known

    def nearest(
        self, vector: np.ndarray, limit: int, allowed: np.ndarray | None = None, exclude: set[int] | None = None, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(item id, cosine) of the nearest items (among `allowed` ids / `mask` rows)."""
        if not len(self.ids):
            return []
        vector = vector.astype(np.float32)
        rows = self._candidates(vector, max(COARSE_POOL, 20 * limit), allowed, exclude, mask)
        scores = self.matrix[rows] @ vector
        k = min(limit, len(rows))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self.ids[rows[i]]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _candidates(self, vector: np.ndarray, pool: int, allowed, exclude, mask=None) -> np.ndarray:
        """Rows worth an exact score: all of them in a small index, else the best of a
        first pass on the leading dimensions (filters and exclusions applied)."""
        if allowed is not None:
            inside = np.isin(self.ids, allowed)
            mask = inside if mask is None else mask & inside
        if exclude:
            keep = ~np.isin(self.ids, np.fromiter(exclude, dtype=np.int64))
            mask = keep if mask is None else mask & keep
        if mask is None:
            if len(self.ids) <= pool:
                return np.arange(len(self.ids))
            coarse = self.coarse @ vector[:COARSE_DIMS]
        else:
            passing = int(mask.sum())
            if passing <= pool:
                return np.flatnonzero(mask)
            coarse = self.coarse @ vector[:COARSE_DIMS]
            coarse[~mask] = -np.inf
        return _best_rows(coarse, pool)


def _best_rows(scores: np.ndarray, pool: int) -> np.ndarray:
    """The rows of the `pool` highest scores (in no order), as np.argpartition gives them,
    with a threshold taken from a sample first so that only the rows above it are sorted."""
    if len(scores) > 64 * pool:
        sample = scores[:: 16]
        keep = min(len(sample), 2 * (pool // 16) + 64)  # twice the share expected above the pool's floor
        floor = np.partition(sample, len(sample) - keep)[len(sample) - keep]
        above = np.flatnonzero(scores >= floor)
        if len(above) >= pool:
            return above[np.argpartition(-scores[above], pool - 1)[:pool]]
    return np.argpartition(-scores, pool - 1)[:pool]


_INDEXES: dict[str, VectorIndex] = {}


def database_key(session: Session) -> str:
    """Which database a session works on (the vector index is kept per database)."""
    bind = session.get_bind()
    return (bind.engine if isinstance(bind, Connection) else bind).url.render_as_string(hide_password=False)


def vector_index(session: Session) -> VectorIndex:
    """The in-memory vector index of the session's database (loaded on first use, then
    refreshed with the session's connection)."""
    index = _INDEXES.setdefault(database_key(session), VectorIndex())
    with index.lock:
        index.refresh(session)
    return index


def _ordinal(value) -> int:
    if value is None:
        return -1
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.toordinal()


def _allowed_ids(session: Session, filters: Filters) -> np.ndarray | None:
    """Ids passing the filters not held in memory (guideline, specialty), from SQL."""
    filters = filters.in_sql()
    if not filters.any():
        return None
    params: dict[str, Any] = {}
    where = _filter_sql(filters, params)
    ids = [r[0] for r in session.execute(text(f"SELECT i.id FROM library_items i WHERE 1 = 1{where}"), params)]
    return np.asarray(ids, dtype=np.int64)


def semantic_ids(session: Session, query: str, filters: Filters, limit: int = CANDIDATES) -> list[tuple[int, float]]:
    """Item ids ranked by cosine similarity of their embedding to the query's, above the
    relevance floor only. Embeddings always have neighbours, and a query that matches
    nothing ("zzqx qwerty") must find nothing: a neighbour needs a cosine of at least
    RELEVANCE_FLOOR, and the query at least one word the library holds (the static model
    puts words it does not know close to everything, as close as 0.55 on the real letters,
    above what some true paraphrases reach)."""
    if not query.strip() or not in_library(session, query):
        return []
    return _semantic_side(session, filters)(query, limit)


def in_library(session: Session, query: str) -> bool:
    """Whether any of the query's words is in the full text of any item (filters aside)."""
    words = terms(query)
    if not words:
        return False
    if session.get_bind().dialect.name == "sqlite":
        sql, q = "SELECT rowid FROM library_items_fts WHERE library_items_fts MATCH :q LIMIT 1", "{request rationale}: " + _phrases(words, "OR")
    else:
        sql, q = "SELECT 1 FROM library_items i WHERE i.search_tsv @@ to_tsquery('english', :q) LIMIT 1", " | ".join(words)
    return session.execute(text(sql), {"q": q}).first() is not None


def _semantic_side(session: Session, filters: Filters):
    """The semantic ranking as a function of (query, limit) that needs no database: the
    index and the SQL filters are read here, with the session, so that the embedding and
    the cosine search can run in another thread."""
    from openimr.library.embed import encode

    index = vector_index(session)
    allowed, mask = _allowed_ids(session, filters), index.mask(filters)

    def nearest(query: str, limit: int) -> list[tuple[int, float]]:
        found = index.nearest(encode([query])[0], limit, allowed, mask=mask)
        return [(item_id, score) for item_id, score in found if score >= RELEVANCE_FLOOR]

    return nearest


def fuse(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of several rankings of ids."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item_id in enumerate(ranking):
            scores[item_id] = scores.get(item_id, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def ranked_ids(session: Session, query: str, filters: Filters | None = None, mode: Mode = "fused", limit: int = 10) -> list[tuple[int, float]]:
    """(item id, score) of the best `limit` items for a query."""
    filters = filters or Filters()
    pool = max(limit, CANDIDATES)
    if mode == "fulltext":
        ids = fulltext_ids(session, query, filters, pool)
        return [(i, 1.0 / (RRF_K + r + 1)) for r, i in enumerate(ids)][:limit]
    if mode == "semantic":
        return semantic_ids(session, query, filters, limit)
    if not query.strip():
        return []
    # the two sides run side by side (SQLite and numpy both release the GIL); the semantic
    # side's database reads are made first, here, so only this thread uses the session
    semantic_future = _side_pool().submit(_semantic_side(session, filters), query, pool)
    lexical = fulltext_ids(session, query, filters, pool)
    semantic = [i for i, _ in semantic_future.result()]
    if not lexical and not in_library(session, query):  # the relevance floor (semantic_ids)
        return []
    return fuse([lexical, semantic])[:limit]


_POOL: list = []


def _side_pool():
    """One small thread pool per process for the semantic side of fused searches."""
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="openimr-search"))
    return _POOL[0]


def snippet(rationale: str, query: str, width: int = 30) -> str:
    """The window of the rationale with most query words, those words in **bold**."""
    words = rationale.split()
    if not words:
        return ""
    stems = {w[:5] for w in terms(query)}

    def hit(word: str) -> bool:
        token = re.sub(r"[^a-z0-9]", "", word.lower())
        return bool(token) and token not in _STOP and token[:5] in stems

    marks = [hit(w) for w in words]
    best, best_score = 0, -1
    for start in range(0, max(1, len(words) - width + 1), max(1, width // 3)):
        score = sum(marks[start : start + width])
        if score > best_score:
            best, best_score = start, score
    window = [_bold(w) if m else w for w, m in zip(words[best : best + width], marks[best : best + width])]
    return ("… " if best else "") + " ".join(window) + (" …" if best + width < len(words) else "")


def _bold(word: str) -> str:
    """The word with its letters and digits in **bold**, punctuation outside."""
    match = re.match(r"^(\W*)(.*?)(\W*)$", word)
    lead, core, tail = match.groups() if match else ("", word, "")
    return f"{lead}**{core}**{tail}" if core else word


def hits(session: Session, scored: list[tuple[int, float]], query: str) -> list[Hit]:
    """Full results for ranked item ids (ids no longer stored are dropped)."""
    from openimr.library.classify import category_label
    from openimr.library.records import guideline_label

    if not scored:
        return []
    ids = [i for i, _ in scored]
    params = {f"p{n}": v for n, v in enumerate(ids)}
    marks = ", ".join(f":p{n}" for n in range(len(ids)))
    sql = (
        "SELECT i.id, l.case_number, i.request, i.decision, i.category, i.guideline, i.decision_date, i.rationale, "
        f"i.letter_id FROM library_items i JOIN library_letters l ON l.id = i.letter_id WHERE i.id IN ({marks})"
    )
    rows = {r[0]: r for r in session.execute(text(sql), params)}
    results = []
    for item_id, score in scored:
        if item_id not in rows:
            continue
        _, case, request, decision, category, guideline, when, rationale, letter_id = rows[item_id]
        results.append(
            Hit(
                id=item_id,
                letter_id=letter_id,
                case_number=case,
                request=request,
                decision=decision,
                category=category,
                category_label=category_label(category),
                guideline=guideline_label(guideline),
                guideline_key=guideline,
                date=str(when) if when else None,
                snippet=snippet(rationale or "", query),
                score=round(float(score), 6),
            )
        )
    return results


def find(session: Session, query: str, filters: Filters | None = None, mode: Mode = "fused", limit: int = 10) -> list[Hit]:
    """Search the library; the best `limit` items with snippets."""
    return hits(session, ranked_ids(session, query, filters, mode, limit), query)


def search(session: Session, query: str, filters: Filters | None = None, page: int = 1, per_page: int = 20) -> SearchPage:
    """One page of a fused search (full text alone when the semantic model cannot answer),
    with the facets of its first POOL hits."""
    if not query.strip():
        return SearchPage(items=[], total=0, page=page, per_page=per_page)
    try:  # one more than POOL: whether there are more than POOL is then known, not guessed
        found = find(session, query, filters, "fused", POOL + 1)
    except Exception as error:  # the semantic side needs the model; full text alone still answers
        log.warning("fused search failed (%s); full text only", type(error).__name__)
        found = find(session, query, filters, "fulltext", POOL + 1)
    exact = len(found) <= POOL
    found = found[:POOL]
    known = facet_values()
    facets = {name: _count((getattr(h, field) for h in found), known[name])
              for name, field in (("decision", "decision"), ("category", "category"), ("guideline", "guideline_key"))}
    return SearchPage(items=found[(page - 1) * per_page: page * per_page], total=len(found), total_exact=exact,
                      page=page, per_page=per_page, facets=facets)


def facet_values() -> dict[str, frozenset[str]]:
    """The values a facet may show: the decisions, the library taxonomy's categories and
    groups, and the guideline registry's keys (never a free-text "other:" guideline)."""
    from openimr.library.classify import categories
    from openimr.vocab.guidelines import guidelines

    taxonomy = categories()
    return {"decision": frozenset(("Upheld", "Overturned")),
            "category": frozenset(taxonomy) | frozenset(group for group, _ in taxonomy.values()),
            "guideline": frozenset(g.key for g in guidelines())}


def filter_choices() -> dict[str, list[tuple[str, str, list[tuple[str, str]]]]]:
    """The search page's filter lists, from the same vocabularies as the facets: the
    taxonomy's groups with their categories, and the guideline registry (in one group)."""
    from openimr.library.classify import categories, compiled
    from openimr.vocab.guidelines import guidelines

    taxonomy = categories()
    groups = [(group, label, [(key, name) for key, (of, name) in taxonomy.items() if of == group])
              for group, label in compiled().taxonomy.groups.items()]
    return {"category": [g for g in groups if g[2]],
            "guideline": [("", "Guidelines", [(g.key, g.title) for g in guidelines()])]}


def _count(values, known: frozenset[str]) -> dict[str, int]:
    """The twelve commonest of the known values and their counts, commonest first."""
    counts: dict[str, int] = {}
    for value in values:
        if value in known:
            counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:12])


def similar(session: Session, item_id: int, limit: int = 10) -> list[Hit]:
    """The nearest precedents of one item (other letters' items), by embedding."""
    row = session.execute(
        text("SELECT letter_id, embedding, request FROM library_items WHERE id = :id"), {"id": item_id}
    ).first()
    if row is None:
        raise LookupError(f"item {item_id}: no such item in the library")
    same_letter = {r[0] for r in session.execute(text("SELECT id FROM library_items WHERE letter_id = :l"), {"l": row[0]})}
    if row[1] is None:
        raise LookupError(f"item {item_id}: has no embedding (it was ingested without embeddings)")
    vector = np.frombuffer(bytes(row[1]), dtype=np.float16).astype(np.float32)
    scored = vector_index(session).nearest(vector, limit, exclude=same_letter | {item_id})
    return hits(session, scored, row[2])


def facet_label(name: str, value: str) -> str:
    """The printable name of a facet's value (category and guideline keys)."""
    from openimr.library.classify import category_label
    from openimr.library.records import guideline_label

    if name == "category":
        return category_label(value)
    if name == "guideline":
        return guideline_label(value) or value
    return value
