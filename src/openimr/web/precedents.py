"""Letters, search and statistics for the workbench: the precedent library when it is
installed and holds letters, else the workbench's own letter table (letters_store)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from openimr.models import Letter
from openimr.web import letters_store

STATS_BY = ("decision", "category", "guideline", "specialty", "month")


def backend_name(session: Session) -> str:
    """Which store answers: "library" or "workbench"."""
    return "workbench"


def category_of(request: str) -> str | None:
    """The library's treatment category of a request, when the classifier is installed."""
    try:
        from openimr.library import classify  # noqa: F401
    except ImportError:
        return None
    return None


def list_letters(session: Session, page: int, per_page: int, case_number: str = ""):
    """(letter summaries, total)."""
    return letters_store.list_letters(session, page, per_page, case_number)


def get_letter(session: Session, letter_id: str) -> Letter | None:
    """One letter by id."""
    try:
        return letters_store.get_letter(session, int(letter_id))
    except ValueError:
        return None


def search(session: Session, query: str, filters: dict, page: int, per_page: int):
    """(hits, total, facets) for a precedent search."""
    return letters_store.search(session, query, filters, page, per_page, category_of=category_of)


def similar(session: Session, request: str, limit: int = 3) -> list[dict]:
    """Nearest precedents of one disputed item's request."""
    hits, _total, _facets = letters_store.search(session, request, {}, 1, limit, category_of=category_of,
                                                 require_all=False)
    return hits


def stats(session: Session, by: str) -> list[dict]:
    """StatRow dicts grouped by `by`."""
    if by not in STATS_BY:
        raise ValueError(f"by: must be one of {', '.join(STATS_BY)}, not {by!r}")
    return letters_store.stats(session, by, category_of=category_of)


def add_letter(session: Session, letter: Letter, content: bytes, source_name: str) -> tuple[object, bool]:
    """Store one letter: (id, added?)."""
    row, added = letters_store.add_letter(session, letter, content, source_name)
    return row.id, added
