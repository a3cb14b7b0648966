"""The search relevance harness of the tests (not part of the installed package): nDCG@k of
full-text, semantic and fused rankings on a labelled set
(queries with a hand-written pattern of the requests that should come first)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import yaml
from sqlalchemy import text

from openimr.db import session_scope


def ndcg(ranked: list[int], relevant: set[int], k: int = 10) -> float:
    """Binary-relevance nDCG@k of one ranking."""
    dcg = sum(1.0 / math.log2(rank + 2) for rank, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def load_labels(path: Path) -> list[dict]:
    """The labelled queries: [{query, relevant}] (relevant: a regex over requests)."""
    rows = yaml.safe_load(Path(path).read_text())
    for n, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != {"query", "relevant"}:
            raise ValueError(f"{path}: entry {n + 1}: needs exactly 'query' and 'relevant'")
        re.compile(row["relevant"])
    return rows


def evaluate(url: str, labels: list[dict], k: int = 10) -> dict[str, float]:
    """Mean nDCG@k per mode (fulltext, semantic, fused) over the labelled queries."""
    from openimr.library.search import ranked_ids

    totals = {"fulltext": 0.0, "semantic": 0.0, "fused": 0.0}
    with session_scope(url) as session:
        requests = session.execute(text("SELECT id, request FROM library_items")).all()
        for row in labels:
            pattern = re.compile(row["relevant"], re.IGNORECASE)
            relevant = {item_id for item_id, request in requests if pattern.search(request)}
            for mode in totals:
                ranked = [i for i, _ in ranked_ids(session, row["query"], mode=mode, limit=k)]  # type: ignore[arg-type]
                totals[mode] += ndcg(ranked, relevant, k)
    return {mode: round(total / len(labels), 4) for mode, total in totals.items()}
