"""Export the library's items (with their letter's fields) as CSV, Parquet or JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

FORMATS = ("csv", "parquet", "jsonl")
COLUMNS = (
    "id", "case_number", "decision_date", "layout", "position", "request", "disputed_request", "decision",
    "category", "category_group", "body_region", "drug", "dose", "quantity", "frequency", "duration",
    "guideline", "specialties", "rationale",
)
_SQL = (
    "SELECT i.id, l.case_number, l.decision_date, l.layout, i.position, i.request, i.disputed_request, i.decision, "
    "i.category, i.category_group, i.body_region, i.drug, i.dose, i.quantity, i.frequency, i.duration, i.guideline, "
    "l.id AS letter_id, i.rationale FROM library_items i JOIN library_letters l ON l.id = i.letter_id ORDER BY i.id"
)


def rows(session: Session) -> Iterator[dict]:
    """Every item as a flat dict (specialties joined with '; ')."""
    specialties: dict[int, list[str]] = {}
    for letter_id, value in session.execute(text("SELECT letter_id, value FROM library_credentials WHERE kind = 'specialty' ORDER BY id")):
        specialties.setdefault(letter_id, []).append(value)
    for row in session.execute(text(_SQL), execution_options={"stream_results": True}):
        record = dict(row._mapping)
        record["specialties"] = "; ".join(specialties.get(record.pop("letter_id"), []))
        yield {column: record[column] for column in COLUMNS}


def export(session: Session, out: Path, format: str) -> int:
    """Write every item to `out` in the format; return the number of items written."""
    if format not in FORMATS:
        raise ValueError(f"--format: unknown format {format!r}; one of {', '.join(FORMATS)}")
    if format == "jsonl":
        count = 0
        with out.open("w", encoding="utf-8") as handle:
            for record in rows(session):
                handle.write(json.dumps(record, default=_plain, ensure_ascii=False) + "\n")
                count += 1
        return count
    import pandas as pd

    frame = pd.DataFrame(list(rows(session)), columns=list(COLUMNS))
    if format == "csv":
        frame.to_csv(out, index=False)
    else:
        frame["decision_date"] = pd.to_datetime(frame["decision_date"]).dt.date
        frame.to_parquet(out, index=False)
    return len(frame)


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
