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


def _criteria_sentences(feat, case: Case) -> list[str]:
    """What the records show for each criterion: required and sufficient ones first."""
    order = {"required": 0, "sufficient": 1, "supporting": 2}
    crits = sorted(feat.criteria, key=lambda cr: order[cr[0].role])
    out = []
    met = [(c, r) for c, r in crits if r.status == "met"]
    for c, r in met[:3]:
        out.append(f"Criterion met: {c.text}; the records state {_quote(case, r.evidence[0])}." if r.evidence
                   else f"Criterion met: {c.text}.")
    not_met = [(c, r) for c, r in crits if r.status == "not_met"]
    for c, r in not_met[:3]:
        # a sufficient criterion that is absent is no reason to deny: it only cannot decide alone
        head = "Not present" if c.role == "sufficient" else "Criterion not met"
        out.append(f"{head}: {c.text}; the records state {_quote(case, r.evidence[0])}." if r.evidence
                   else f"{head}: {c.text}.")
    missing = [c for c, r in crits if r.status == "insufficient" and c.role == "required"]
    if missing:
        out.append("The records provided do not document: " + "; ".join(c.text for c in missing) + ".")
    return out


def direction(weight: float) -> str:
    """Which way a driver's weight moved the estimate, in plain words."""
    return "toward overturning" if weight > 0 else "toward upholding"


def _reasons(drivers, toward_overturn: bool | None) -> str:
    chosen = [d for d in drivers if toward_overturn is None or (d.weight > 0) == toward_overturn] or list(drivers)
    return "; ".join(f"{d.label} ({direction(d.weight)})" for d in chosen)


def _basis(verdict: str | None, overturn: bool, probability: float | None, threshold: float | None, drivers,
           trained_on: dict | None = None) -> list[str]:
    """How the recommendation follows from the criteria and the calibrated estimate; says so
    plainly when the two disagree."""
    if probability is None:
        return []
    chance = (f"the estimated chance that an expert reviewer finds this request medically necessary is "
              f"{probability:.0%}" + (f" (the draft recommends overturning at {threshold:.0%} or more)" if threshold else ""))
    weighed = f"; what weighed most: {_reasons(drivers, None)}" if drivers else ""
    if verdict == "met" and not overturn:
        base = ""
        if trained_on:
            base = (f" The estimate starts from how rarely reviewers overturned in the published determinations "
                    f"it was fitted on ({trained_on['overturned']} of {trained_on['items']} items), and the criteria "
                    f"moved it only a little{weighed}.")
        return [f"The criteria read as met, yet the draft recommends upholding: {chance}.{base} The expert reviewer "
                "should judge whether the findings quoted are as clear as the guideline requires."]
    if verdict in ("not_met", "not_shown") and overturn:
        return [f"Although the records do not show every required criterion, the draft recommends overturning: "
                f"{chance}, mostly because of: {_reasons(drivers, True)}. The expert reviewer should confirm the "
                "missing criteria in the records before relying on this."]
    return [chance[0].upper() + chance[1:] + weighed + "."]


def write_rationale(feat, overturn: bool, case: Case, follows_surgery: bool = False, surgery_overturned: bool = False,
                    verdict: str | None = None, probability: float | None = None, drivers=(),
                    threshold: float | None = None, trained_on: dict | None = None) -> str:
    """The rationale text for one item: the guideline relied on, what the case's own records
    show for each criterion, how the recommendation follows (criteria and calibrated estimate,
    and where they disagree), and the conclusion."""
    parts = [f"Recommendation: the request for {feat.request.strip()} is "
             f"{'medically necessary' if overturn else 'not medically necessary'}."]
    parts.append(_guideline_phrase(feat))
    if feat.match.left_mtus_because:
        parts.append(f"The MTUS was searched first; this draft relies on a non-MTUS guideline because "
                     f"{feat.match.left_mtus_because}")
    parts += _criteria_sentences(feat, case)
    if follows_surgery:
        parts.append("This item serves a surgery disputed in the same application; it follows that surgery's "
                     f"outcome ({'medically necessary' if surgery_overturned else 'not medically necessary'}).")
    else:
        parts += _basis(verdict, overturn, probability, threshold, drivers, trained_on)
    parts.append("Therefore, the request is " + ("medically necessary." if overturn else "not medically necessary."))
    parts.append(DRAFT_NOTICE)
    return " ".join(parts)
