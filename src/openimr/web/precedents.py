"""Letters, search and statistics for the workbench.

The precedent library (openimr.library: store, search, stats, classify) answers; this
module is the thin adapter between it and the web app, which calls only these functions.
"""

from __future__ import annotations

import html
import json
import logging
import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from openimr.letters.read.citations import parse_citation
from openimr.models import Item, Letter, ReviewerCredentials

log = logging.getLogger("openimr.web")
STATS_BY = ("decision", "category", "guideline", "specialty", "month", "region")
POOL = 200  # search results fetched for paging and facets


def session_url(session: Session) -> str:
    """The database URL a session works on."""
    return session.info.get("url") or session.get_bind().url.render_as_string(hide_password=False)


def backend_name(session: Session) -> str:
    """Which store answers (always the precedent library)."""
    return "library"


def category_of(request: str) -> str | None:
    """The library's treatment category of a request (None without the classifier)."""
    try:
        from openimr.library.classify import classify
    except Exception:
        return None
    return classify(request).category


def category_label(key: str | None) -> str:
    """A printable category name."""
    try:
        from openimr.library.classify import category_label as label

        return label(key) if key else "unclassified"
    except Exception:
        return key or "unclassified"


def facet_label(name: str, value: str) -> str:
    """The printable name of a facet value (category and guideline keys of the library)."""
    if name == "category":
        return category_label(value)
    if name == "guideline":
        try:
            from openimr.library.records import guideline_label

            return guideline_label(value) or value
        except Exception:
            return value
    return value


# ---------------------------------------------------------------- letters
def list_letters(session: Session, page: int, per_page: int, case_number: str = ""):
    """(letter summaries, total), newest decision first."""
    where, params = "", {"limit": per_page, "offset": (page - 1) * per_page}
    if case_number.strip():
        where, params["cn"] = "WHERE l.case_number LIKE :cn", f"%{case_number.strip()}%"
    total = session.execute(text(f"SELECT COUNT(*) FROM library_letters l {where}"), params).scalar() or 0
    rows = session.execute(text(
        "SELECT l.id, l.case_number, l.layout, l.decision_date, l.item_count, "
        "(SELECT COUNT(*) FROM library_items i WHERE i.letter_id = l.id AND i.overturned) "
        f"FROM library_letters l {where} ORDER BY l.decision_date DESC, l.id LIMIT :limit OFFSET :offset"), params)
    out = [{"id": r[0], "case_number": r[1], "layout": r[2], "decision_date": r[3], "items": r[4],
            "upheld": r[4] - r[5], "overturned": r[5]} for r in rows]
    return out, total


def get_letter(session: Session, letter_id: str) -> Letter | None:
    """One letter by id, rebuilt from the library's rows."""
    if not str(letter_id).isdigit():
        return None
    row = session.execute(text(
        "SELECT layout, case_number, date_assigned, date_of_injury, decision_date, ur_denial_date, "
        "application_received, priority, review_organization, credentials_statement, documents_reviewed, "
        "clinical_case_summary FROM library_letters WHERE id = :id"), {"id": int(letter_id)}).first()
    if row is None:
        return None
    creds = session.execute(text("SELECT kind, value FROM library_credentials WHERE letter_id = :id ORDER BY id"),
                            {"id": int(letter_id)}).all()
    items = [_item(session, r) for r in session.execute(text(
        "SELECT id, request, decision, rationale, original_request, authorized, disputed_request "
        "FROM library_items WHERE letter_id = :id ORDER BY position"), {"id": int(letter_id)})]
    return Letter(
        layout=row[0], case_number=row[1], date_assigned=row[2], date_of_injury=row[3], decision_date=row[4],
        ur_denial_date=row[5], application_received=row[6], priority=row[7],
        review_organization=row[8] or "MAXIMUS Federal Services",
        reviewer=ReviewerCredentials(licensure=[v for k, v in creds if k == "licensure"],
                                     specialties=[v for k, v in creds if k == "specialty"], statement=row[9] or ""),
        documents_reviewed=json.loads(row[10]) if row[10] else None,
        clinical_case_summary=row[11] or "", items=items)


def _item(session: Session, r) -> Item:
    cites = session.execute(text("SELECT role, text FROM library_citations WHERE item_id = :id AND position = 0"),
                            {"id": r[0]}).all()
    by_role = {role: cite_text for role, cite_text in cites}
    return Item(request=r[1], decision=r[2], medically_necessary=r[2] == "Overturned", rationale=r[3] or "",
                original_request=r[4], authorized=r[5], disputed_request=r[6],
                claims_administrator_guideline=parse_citation(by_role.get("claims_administrator", "")),
                imr_guideline=parse_citation(by_role.get("imr", "")))


def add_letter(session: Session, letter: Letter, content: bytes, source_name: str) -> tuple[object, bool]:
    """Store one letter (the library's record, with its embedding when the model is there): (id, added?)."""
    import hashlib

    from openimr.library.records import embed_records, letter_record
    from openimr.library.store import store_records

    record = letter_record(letter, source_name, hashlib.sha256(content).hexdigest())
    try:
        embed_records([record])
    except Exception as error:  # the semantic model is optional for one upload
        log.warning("letter stored without embedding: %s", type(error).__name__)
    outcome = store_records(session, [record])
    session.flush()
    key = record["letter"]["letter_key"]
    letter_id = session.execute(text("SELECT id FROM library_letters WHERE letter_key = :k"), {"k": key}).scalar()
    return letter_id, bool(outcome.get("added") or outcome.get("replaced"))


# ---------------------------------------------------------------- search
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _marked(snippet: str) -> str:
    """The library's **word** snippet as escaped HTML with <mark>."""
    return _BOLD.sub(r"<mark>\1</mark>", html.escape(snippet))


def search(session: Session, query: str, filters: dict, page: int, per_page: int):
    """(hits, total, facets) for a precedent search: full text and semantic, fused."""
    from openimr.library.search import Filters
    from openimr.library.search import search as library_search

    url = session_url(session)
    session.commit()  # reads only: the library opens its own connection, never two per thread
    wanted = Filters(decision=filters.get("decision") or None, category=filters.get("category") or None,
                     guideline=filters.get("guideline") or None)
    found = _library_hits(url, query, wanted, library_search)
    letters = _letter_ids(session, [h.id for h in found])
    hits = [{"id": h.id, "letter_id": letters.get(h.id), "case_number": h.case_number, "request": h.request,
             "decision": h.decision, "category": category_label(h.category), "guideline": h.guideline,
             "decision_date": h.date, "snippet": _marked(h.snippet), "score": h.score} for h in found]
    facets = {"decision": _count(h["decision"] for h in hits),
              "category": _count(h.category for h in found),
              "guideline": _count(_guideline_key(session, h.id) for h in found[:POOL])}
    return hits[(page - 1) * per_page: page * per_page], len(hits), facets


def _library_hits(url: str, query: str, wanted, library_search):
    if not query.strip():
        return []
    try:
        return library_search(url, query, wanted, "fused", POOL)
    except Exception as error:  # the semantic side needs the model; full text alone still answers
        log.warning("fused search failed (%s); full text only", type(error).__name__)
        return library_search(url, query, wanted, "fulltext", POOL)


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        if value:
            counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:12])


def _letter_ids(session: Session, item_ids: list[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    marks = ", ".join(str(int(i)) for i in item_ids)
    return dict(session.execute(text(f"SELECT id, letter_id FROM library_items WHERE id IN ({marks})")).all())


def _guideline_key(session: Session, item_id: int) -> str | None:
    return session.execute(text("SELECT guideline FROM library_items WHERE id = :id"), {"id": item_id}).scalar()


def similar(session: Session, request: str, limit: int = 3) -> list[dict]:
    """Nearest precedents of one disputed item's request."""
    hits, _total, _facets = search(session, request, {}, 1, limit)
    return hits


# ---------------------------------------------------------------- stats
def stats(session: Session, by: str) -> list[dict]:
    """StatRow dicts grouped by `by` (the library's stats)."""
    if by not in STATS_BY:
        raise ValueError(f"by: must be one of {', '.join(STATS_BY)}, not {by!r}")
    from openimr.library.stats import stats as library_stats

    session.commit()  # reads only: the library opens its own connection, never two per thread
    rows = [r.as_dict() if hasattr(r, "as_dict") else dict(vars(r)) for r in library_stats(session_url(session), by)]
    for row in rows:
        row["group"] = str(row["group"]) if row["group"] is not None else "unknown"
    return rows
