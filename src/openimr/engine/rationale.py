"""The rationale of a draft determination, in the manner of the letters: the guideline relied
on, what it asks for, what this case's records show (quoted), and the conclusion."""

from __future__ import annotations

import re

from openimr.engine.models import DRAFT_NOTICE, Case

_CLAUSE_END = re.compile(r"[.;\n]")


def _clause(text: str, start: int, end: int, limit: int = 140) -> str:
    """The clause around a span, trimmed to `limit` characters, whitespace collapsed."""
    lo = max(text.rfind(".", 0, start), text.rfind(";", 0, start), text.rfind("\n\n", 0, start)) + 1
    m = _CLAUSE_END.search(text, end)
    hi = m.start() if m else len(text)
    if start - lo > limit // 2:  # cut at a word boundary
        lo = text.find(" ", start - limit // 2, start) + 1 or start
    if hi - end > limit // 2:
        cut = text.rfind(" ", end, end + limit // 2)
        hi = cut if cut > end else hi
    return " ".join(text[lo:hi].split()).lstrip(",;: ").rstrip(",;: ")


def _quote(case: Case, ev) -> str:
    texts = [d.text for d in case.documents]
    if ev.document < 0:  # the case's own dates
        return f"({ev.text})"
    if 0 <= ev.document < len(texts):
        return f'"{_clause(texts[ev.document], ev.start, ev.end)}"'
    return f'"{ev.text}"'


def _guideline_phrase(feat) -> str:
    entry = feat.match.kb_entry
    if entry is None:
        return ("No entry of the knowledge base addresses this request, so the draft could not follow the "
                "evidence search sequence (8 CCR 9792.21.1). A treatment may not be denied solely because the "
                "MTUS does not address it (8 CCR 9792.21(d)): the expert reviewer must search ACOEM or ODG, then "
                "other evidence-based guidelines and studies. The decision below is the statistical default for "
                "such requests, not a finding on the merits.")
    g, e = entry.guideline, entry.entry
    if g.scope == "MTUS":
        where = f"the MTUS {g.name}" + (f" ({g.year})" if g.year else "")
        if e.sections:
            where += ", " + "; ".join(e.sections)
    else:
        where = (e.title or g.name).replace("{odg_chapter}", "ODG")
    return f"Under {where}: {e.summary}"


def write_rationale(feat, overturn: bool, case: Case, follows_surgery: bool = False, surgery_overturned: bool = False) -> str:
    """The rationale text for one item; names the case's own facts and the guideline."""
    parts = [f"Recommendation: the request for {feat.request.strip()} is "
             f"{'medically necessary' if overturn else 'not medically necessary'}."]
    parts.append(_guideline_phrase(feat))
    if feat.match.left_mtus_because:
        parts.append(f"The MTUS was searched first; this draft relies on a non-MTUS guideline because "
                     f"{feat.match.left_mtus_because}")
    met = [(c, r) for c, r in feat.criteria if r.status == "met"]
    not_met = [(c, r) for c, r in feat.criteria if r.status == "not_met"]
    missing = [(c, r) for c, r in feat.criteria if r.status == "insufficient" and c.role != "supporting"]
    for c, r in met[:3]:
        parts.append(f"Criterion met: {c.text}; the records state {_quote(case, r.evidence[0])}." if r.evidence
                     else f"Criterion met: {c.text}.")
    for c, r in not_met[:3]:
        parts.append(f"Criterion not met: {c.text}; the records state {_quote(case, r.evidence[0])}." if r.evidence
                     else f"Criterion not met: {c.text}.")
    if missing:
        parts.append("The records provided do not document: " + "; ".join(c.text for c, _ in missing) + ".")
    if follows_surgery:
        parts.append("This item serves a surgery disputed in the same application; it follows that surgery's "
                     f"outcome ({'medically necessary' if surgery_overturned else 'not medically necessary'}).")
    parts.append("Therefore, the request is " + ("medically necessary." if overturn else "not medically necessary."))
    parts.append(DRAFT_NOTICE)
    return " ".join(parts)
