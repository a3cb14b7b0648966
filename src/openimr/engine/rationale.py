"""The rationale of a draft determination, in the manner of the letters and for a physician to
sign: the decision first; then the deciding criterion with its quote from the records (or what
the records do not document) and the arithmetic where there is one; the exact guideline
section relied on, and why the MTUS was left when it was; the conclusion."""

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


def _sentence(text: str) -> str:
    text = " ".join(text.split()).strip()
    return (text[0].upper() + text[1:]) if text else text


def mtus_edition(g) -> str:
    """An MTUS guideline of the knowledge base by its full name, chapter and year, as the
    rationale and the edition note name it."""
    if g.chapter:
        return f"the MTUS ACOEM Practice Guidelines, Chapter {g.chapter} {g.name}" + (f" ({g.year})" if g.year else "")
    return f"the MTUS {g.name} Guidelines" + (f" ({g.year})" if g.year else "")


def guideline_sentence(feat, on=None) -> str:
    """The guideline relied on, its exact section and pages, and (for a non-MTUS guideline)
    why the MTUS was left (the evidence search sequence, 8 CCR 9792.21.1). For a UR decision
    dated `on` after the MTUS replaced the entry's guideline: the successor, and that the
    criteria applied are the earlier edition's."""
    entry = feat.match.kb_entry
    if entry is None:
        return ("No entry of the draft's knowledge base addresses this request. A treatment may not be denied "
                "solely because the MTUS does not address it (8 CCR 9792.21(d)); the expert reviewer should search "
                "ACOEM or ODG, then other evidence-based guidelines and studies, before signing.")
    g, e = entry.guideline, entry.entry
    rule = feat.outcome.rule if feat.outcome else None
    sections = [rule.section] if rule is not None and rule.section else list(e.sections)
    if g.scope == "MTUS":
        where = mtus_edition(g)
        if sections:
            where += ", " + "; ".join(sections)
        if e.pages and not (rule is not None and rule.section):
            where += ", page" + ("s " if len(e.pages) > 1 else " ") + "-".join([e.pages[0], e.pages[-1]] if len(e.pages) > 1 else e.pages)
        from openimr.engine.kb import superseded_on

        successor = superseded_on(entry, on)
        if successor:
            now = f"the MTUS {successor[0]}" + (f" ({successor[1]})" if successor[1] else "")
            out = (f"Guideline relied on: {now} (evidence search sequence, step 1); the criteria applied are those of "
                   f"{where}, which it replaced on 1 December 2017, and are to be checked against it. {_sentence(e.summary)}")
        else:
            out = f"Guideline relied on: {where} (evidence search sequence, step 1). {_sentence(e.summary)}"
    else:
        from openimr.engine.kb import odg_chapter

        name = (e.title or g.name).replace("{odg_chapter}", odg_chapter(feat.match.region))
        where = name + (", " + "; ".join(sections) if sections else "")
        step = feat.match.kb_entry.evidence_step[0] if feat.match.kb_entry else 2
        out = (f"Guideline relied on: {where} (evidence search sequence, step {step}: the MTUS was searched first and "
               f"{(feat.match.left_mtus_because or 'does not address this request').rstrip('.')}). {_sentence(e.summary)}")
    return out


def _evidence_phrase(case: Case, evidence, limit: int = 2) -> str:
    quotes = []
    for ev in evidence[:limit]:
        q = _quote(case, ev)
        if q not in quotes:
            quotes.append(q)
    return "; ".join(quotes)


def _deciding(feat, case: Case) -> list[str]:
    """The deciding criterion: the rule that fired with its record quote and arithmetic, or
    the criteria (met with quotes; contradicted with quotes; not documented)."""
    from openimr.engine.rules import fill

    o = feat.outcome
    if o.rule is not None:
        text = fill(o.rule.text, feat.context)
        out = [f"Deciding criterion: {text}."]
        # the phase of care has its own sentence (phase_sentence), so its note is not said twice
        phase_note = f"the {feat.context.phase} phase: " if feat.context.phase else None
        facts = [n for n in o.notes if n and n[:12] not in text and not (phase_note and n.startswith(phase_note))]
        if facts:
            out.append(_sentence("; ".join(facts)) + ".")
        if o.evidence:
            out.append(f"The records state {_evidence_phrase(case, o.evidence)}.")
        return out
    crits = o.criteria
    if o.verdict == "met":
        shown = [(c, r) for c, r in crits if r.status == "met" and c.role in ("required", "sufficient")]
        sufficient = [(c, r) for c, r in shown if c.role == "sufficient"]
        chosen = sufficient[:1] if sufficient else shown
        parts = []
        for c, r in chosen[:4]:
            parts.append(f"{c.text} (the records state {_quote(case, r.evidence[0])})" if r.evidence else c.text)
        head = "Deciding criterion met" if len(chosen) == 1 else "Deciding criteria met"
        return [f"{head}: " + "; ".join(parts) + "."]
    if o.verdict == "not_met":
        c, r = next((c, r) for c, r in crits if c.role == "required" and r.status == "not_met")
        quote = f", and the records state {_quote(case, r.evidence[0])}" if r.evidence else ""
        return [f"Deciding criterion not met: the guideline asks for {c.text}{quote}."]
    if o.verdict == "not_shown":
        missing = [c.text for c, r in crits if c.role == "required" and r.status == "insufficient"]
        if not missing:  # no required criterion is open: what would have indicated the treatment
            missing = [c.text for c, r in crits if c.role == "sufficient" and r.status != "met"]
        if not missing:
            missing = [c.text for c, r in crits if r.status != "met"]
        if not missing:
            return [f"Deciding criterion: the guideline does not give this treatment an indication the records show "
                    f"({', '.join(c.text for c, _r in crits)})."]
        return ["The records provided do not document: " + "; ".join(_undocumented(t) for t in missing) + "."]
    return []


def phase_sentence(feat) -> str | None:
    """Which phase of care the draft took and why, and, when the phase routed the item, which
    recommendations that makes apply (the chapter's initial care, the opioid guideline's acute
    and subacute sections) instead of those for chronic pain."""
    ctx = feat.context
    if ctx.phase is None:
        return None
    entry = feat.match.kb_entry
    routed = entry is not None and any(c.test == "phase_is" for c in entry.entry.route)
    out = f"Phase of care: {ctx.phase}, because {ctx.phase_why}"
    if routed:
        out += "; so the guideline's recommendations for this phase apply rather than those for chronic pain"
    return out + "."


def _what_is_decided(request: str) -> str:
    """The portion the reviewer decides, named plainly: for a request the claims administrator
    partly authorized, the disputed portion with what was asked and what was authorized beside
    it, not the letter's three sentences run together."""
    from openimr.engine.rules import parse

    text = request.strip().rstrip(".")
    p = parse(text)
    if not (p.original and p.disputed):
        return f"the request for {text}"
    if p.remainder_after_partial and p.authorized:
        return (f"the remaining portion of the request, {p.disputed} ({p.original} was requested and "
                f"{p.authorized} authorized),")
    if p.authorized:
        only = "" if re.search(r"\bonly\b", p.authorized, re.IGNORECASE) else " only"
        return f"the request for {p.disputed} (the claims administrator authorized {p.authorized}{only})"
    return f"the request for {p.disputed}"


_DOCUMENTED = re.compile(r"^documented\s+|\s+(?:(?:is|are|was|were) )?documented\b")


def _undocumented(text: str) -> str:
    """A criterion as what the records do not document ("functional improvement documented from
    prior therapy" -> "functional improvement from prior therapy")."""
    return _DOCUMENTED.sub("", text)


def write_rationale(feat, case: Case) -> str:
    """The rationale text for one decided item."""
    overturn = feat.outcome.decision == "Overturned"
    necessary = "medically necessary" if overturn else "not medically necessary"
    parts = [f"{feat.outcome.decision}: {_what_is_decided(feat.request)} is {necessary}."]
    parts += _deciding(feat, case)
    phase = phase_sentence(feat)
    if phase and phase[:40] not in " ".join(parts):
        parts.append(phase)
    parts.append(guideline_sentence(feat, case.ur_denial_date))
    parts.append(f"Therefore, the request is {necessary}.")
    parts.append(DRAFT_NOTICE)
    return " ".join(parts)


def direction(weight: float) -> str:
    """Which way a driver's weight moved a learned estimate, in plain words (drafts of the
    earlier engine, still shown by the workbench when stored)."""
    return "toward overturning" if weight > 0 else "toward upholding"
