"""The workbench's view of published letters: list, show, search, stats.

The precedent library (openimr.library) is the home of letters; until it is there, the
workbench keeps letters read with `openimr.read_letter` in its own table `web_letters`
and searches them itself. `openimr.web.parts` picks which one answers.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openimr.models import Letter
from openimr.web.tables import StoredLetter

WORD = re.compile(r"[A-Za-z0-9]+")
STOP = frozenset("a an and of the for to with in on at by or x mg per qty times week weeks".split())


def add_letter(session: Session, letter: Letter, content: bytes, source_name: str) -> tuple[StoredLetter, bool]:
    """Store a letter once per content hash: (row, added?)."""
    sha = hashlib.sha256(content).hexdigest()
    row = session.scalar(select(StoredLetter).where(StoredLetter.sha256 == sha))
    if row is not None:
        return row, False
    row = StoredLetter(
        case_number=letter.case_number,
        sha256=sha,
        source_name=source_name[:255],
        layout=letter.layout,
        decision_date=letter.decision_date,
        letter=letter.model_dump(mode="json"),
    )
    session.add(row)
    session.flush()
    return row, True


def count_letters(session: Session) -> int:
    """How many letters the workbench holds."""
    return session.scalar(select(func.count()).select_from(StoredLetter)) or 0


def list_letters(session: Session, page: int, per_page: int, case_number: str = "") -> tuple[list[dict], int]:
    """One page of letters, newest decision first: (summaries, total)."""
    query = select(StoredLetter)
    if case_number:
        query = query.where(StoredLetter.case_number.like(f"%{case_number.strip()}%"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(StoredLetter.decision_date.desc().nulls_last(), StoredLetter.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [letter_summary(row.id, Letter.model_validate(row.letter)) for row in rows], total


def letter_summary(letter_id: int | str, letter: Letter) -> dict:
    """The list-row view of a letter."""
    upheld = sum(1 for item in letter.items if item.decision == "Upheld")
    return {
        "id": letter_id,
        "case_number": letter.case_number,
        "layout": letter.layout,
        "decision_date": letter.decision_date,
        "items": len(letter.items),
        "upheld": upheld,
        "overturned": len(letter.items) - upheld,
    }


def get_letter(session: Session, letter_id: int) -> Letter | None:
    """One stored letter by id."""
    row = session.get(StoredLetter, letter_id)
    return Letter.model_validate(row.letter) if row else None


def all_items(session: Session):
    """Every stored item as (letter_id, letter, index, item)."""
    for row in session.scalars(select(StoredLetter).order_by(StoredLetter.id)):
        letter = Letter.model_validate(row.letter)
        for index, item in enumerate(letter.items):
            yield row.id, letter, index, item


def guideline_name(citation) -> str:
    """A short name for the guideline a citation relies on first."""
    if citation.guideline:
        return f"{citation.scope}: {citation.guideline}" if citation.scope != "none" else citation.guideline
    return citation.text.split(",")[0][:80] if citation.text else "none"


def highlight(text: str, terms: list[str], width: int = 240) -> str:
    """An HTML-escaped snippet of `text` around the first term, terms wrapped in <mark>."""
    lower = text.lower()
    positions = [lower.find(t) for t in terms if t and lower.find(t) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    piece = text[start : start + width]
    escaped = html.escape(piece)
    for term in sorted(set(terms), key=len, reverse=True):
        if term:
            escaped = re.sub(f"(?i)\\b({re.escape(html.escape(term))})", r"<mark>\1</mark>", escaped)
    return ("…" if start else "") + escaped + ("…" if start + width < len(text) else "")


def search(session: Session, query: str, filters: dict, page: int, per_page: int, category_of=None,
           require_all: bool = True):
    """Keyword search over stored items: (hits, total, facets); all terms must occur unless
    `require_all` is false (then any term, ranked by how many)."""
    terms = [t.lower() for t in WORD.findall(query)]
    if not require_all:
        terms = [t for t in terms if t not in STOP and len(t) > 1]
    hits, facets = [], {"decision": Counter(), "guideline": Counter(), "year": Counter(), "category": Counter()}
    for letter_id, letter, index, item in all_items(session):
        text = " ".join([item.request, item.rationale, item.imr_guideline.text])
        words = Counter(w.lower() for w in WORD.findall(text))
        if terms and not (all if require_all else any)(words[t] for t in terms):
            continue
        hit = _hit(letter_id, letter, index, item, terms, words, category_of)
        for facet in facets:
            facets[facet][str(hit[facet if facet != "year" else "year"] or "unknown")] += 1
        if all(not value or str(hit.get(key)) == value for key, value in filters.items()):
            hits.append(hit)
    hits.sort(key=lambda h: (-h["score"], str(h["case_number"])))
    total = len(hits)
    page_hits = hits[(page - 1) * per_page : page * per_page]
    for hit in page_hits:
        hit.pop("year")
    return page_hits, total, {k: dict(v.most_common(12)) for k, v in facets.items() if v}


def _hit(letter_id, letter: Letter, index: int, item, terms, words, category_of) -> dict:
    score = sum(1 + math.log(words[t]) for t in terms if words[t])
    score += sum(2 for t in terms if t in item.request.lower())
    return {
        "id": f"{letter_id}:{index}",
        "letter_id": letter_id,
        "case_number": letter.case_number,
        "request": item.request,
        "decision": item.decision,
        "category": category_of(item.request) if category_of else None,
        "guideline": guideline_name(item.imr_guideline),
        "decision_date": letter.decision_date,
        "year": letter.decision_date.year if letter.decision_date else None,
        "snippet": highlight(item.rationale or item.request, terms),
        "score": round(score, 3),
    }


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion."""
    if total == 0:
        return 0.0, 0.0
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def stat_rows(groups: dict[str, list[str]]) -> list[dict]:
    """StatRow dicts from {group: [decision, ...]}, largest group first."""
    rows = []
    for group, decisions in groups.items():
        overturned = sum(1 for d in decisions if d == "Overturned")
        low, high = wilson(overturned, len(decisions))
        rows.append({
            "group": group,
            "items": len(decisions),
            "upheld": len(decisions) - overturned,
            "overturned": overturned,
            "overturned_rate": overturned / len(decisions) if decisions else 0.0,
            "ci_low": low,
            "ci_high": high,
        })
    return sorted(rows, key=lambda r: (-r["items"], r["group"]))


def stats(session: Session, by: str, category_of=None) -> list[dict]:
    """Upheld/overturned counts grouped by decision, category, guideline, specialty or month."""
    groups: dict[str, list[str]] = {}
    for _letter_id, letter, _index, item in all_items(session):
        groups.setdefault(_group_of(by, letter, item, category_of), []).append(item.decision)
    return stat_rows(groups)


def _group_of(by: str, letter: Letter, item, category_of) -> str:
    if by == "decision":
        return item.decision
    if by == "guideline":
        return guideline_name(item.imr_guideline)
    if by == "month":
        return f"{letter.decision_date:%Y-%m}" if isinstance(letter.decision_date, date) else "unknown"
    if by == "specialty":
        return (letter.reviewer.specialties or ["unknown"])[0]
    if by == "category":
        return (category_of(item.request) if category_of else None) or "unclassified"
    raise ValueError(f"by: must be decision, category, guideline, specialty or month, not {by!r}")
