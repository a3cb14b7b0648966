"""The nearest precedents of a disputed item, the one search of them (the workbench's drafts
and `openimr decide --db`): past items of the precedent library of the same request category
(the library's one classifier) and, where the knowledge base gives the past request an entry,
the same entry as the item's own; listed beside a draft, never counted as votes.

Within them, fused full-text and semantic order, those of the same entry first, then those
of the item's own engine category (a chronic opioid before a post-operative one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openimr.library.search import Hit

POOL = 12  # the search's hits looked at for `limit` precedents of the same category and entry


@dataclass(frozen=True)
class Nearest:
    """One precedent: the library's hit and the knowledge-base entry of its request (None
    when no entry addresses it)."""

    hit: Hit
    kb_entry: str | None


def entry_of(request: str, region: str | None = None) -> str | None:
    """The knowledge-base entry the engine takes for a request (`region`: the case's, used
    when the request names none), or None."""
    from openimr.engine.kb import match_request

    found = match_request(request, region).kb_entry
    return found.entry.id if found else None


def entry_label(entry_id: str | None) -> str | None:
    """The printable name of a knowledge-base entry: its guideline, title and sections."""
    from openimr.engine.kb import default_kb

    found = next((e for e in default_kb().entries if e.entry.id == entry_id), None)
    if found is None:
        return None
    name = found.entry.title or found.guideline.name or found.entry.id
    sections = ", ".join(found.entry.sections)
    return f"{found.guideline.scope} {name}" + (f" ({sections})" if sections else "")


def nearest(session, request: str, kb_entry: str | None = None, region: str | None = None, limit: int = 3,
            exclude_cases: frozenset[str] | set[str] = frozenset()) -> list[Nearest]:
    """The `limit` nearest precedents of `request`: only past items of its library category;
    when the item's entry is known (`kb_entry`, else the entry of `request`) none whose request
    the knowledge base puts under another entry; none of `exclude_cases`."""
    from openimr.engine.kb import classify_request
    from openimr.library.classify import classify
    from openimr.library.search import Filters, search

    category = classify(request).category
    own = kb_entry or entry_of(request, region)
    refined = classify_request(request)
    found = []
    for hit in search(session, request, Filters(category=category), 1, POOL).items:
        if hit.category != category or hit.case_number in exclude_cases:  # a group filter also lets a group in
            continue
        entry = entry_of(hit.request, region)
        if own and entry and entry != own:
            continue
        found.append(Nearest(hit, entry))
    found.sort(key=lambda n: (own is not None and n.kb_entry != own, classify_request(n.hit.request) != refined))
    return found[:limit]
