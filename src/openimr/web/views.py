"""What a case page and /api/cases/{id} show: documents, items, drafts, decisions."""

from __future__ import annotations

import hashlib
import html
import json

from sqlalchemy.orm import Session

from openimr.cases import record
from openimr.cases.tables import CaseRow as Case
from openimr.library import search as library_search
from openimr.web import parts, workflow
from openimr.web.auth import Principal
from openimr.web.schemas import PrecedentHit

DRAFT_NOTE = "Recommendation of the determination engine: a licensed clinician decides and signs."
VERDICTS = ("met", "not_met", "not_shown", "no_entry")
VERDICT_WORDS = {"met": "met", "not_met": "not met", "not_shown": "not shown in the records",
                 "no_entry": "no guideline entry addresses this request"}


def engine_documents(docs: list) -> list:
    """The documents the determination engine reads, the one place its input is assembled:
    when the case has an indexed case file, its pages (the case-file documents that are not
    duplicates, each page marked, so that every evidence span cites its page) and the other
    records, but not a clinical summary (written from those records: its facts would count
    twice and cite no page); otherwise every document (the summary-only path of the
    evaluation on published letters)."""
    from openimr.casefile.record import is_indexed

    if not any(is_indexed(d) for d in docs):
        return list(docs)
    return [d for d in record.reviewed(docs) if d.kind != "clinical_summary"]


def case_file(session: Session, case: Case, docs: list | None = None) -> tuple[dict, list]:
    """The case as the determination engine reads it (CASE.json of issue 5), and the stored
    documents its `documents` are (the evidence's `document` index refers to them); `docs`
    the case's documents when the caller read them already."""
    ur_date = (json.loads(case.application).get("ur_decision") or {}).get("date")
    rows = engine_documents(record.documents(session, case) if docs is None else docs)
    return {
        "case_number": case.case_number,
        "date_of_injury": case.date_of_injury.isoformat() if case.date_of_injury else None,
        "ur_denial_date": ur_date,
        "priority": case.priority,
        "documents": [{"kind": d.kind, "date": d.day, "text": d.text} for d in rows],
        "disputed_items": [{"request": i["request"], "ur_guideline": i["ur_guideline"]}
                           for i in record.disputed_items(case)],
    }, rows


def _draft_view(raw: dict) -> dict:
    guideline = raw.get("imr_guideline") or {}
    criteria = []
    for c in raw.get("criteria", []) or []:
        evidence = [{k: e.get(k) for k in ("document", "start", "end", "text") if k in e}
                    for e in c.get("evidence", [])]
        criteria.append({"criterion": str(c.get("criterion", "")), "status": str(c.get("status", "")),
                         "evidence": evidence})
    verdict = raw.get("criteria_verdict")
    return {
        "decision": raw.get("decision", ""),
        "probability_overturned": raw.get("probability_overturned"),
        "guideline": guideline.get("text", "") if isinstance(guideline, dict) else str(guideline),
        "rationale": raw.get("rationale", ""),
        "criteria": criteria,
        "criteria_verdict": verdict if verdict in VERDICTS else None,
        "confidence": raw.get("confidence") if raw.get("confidence") in ("clear", "uncertain") else None,
        "drivers": [_driver_view(d) for d in raw.get("drivers", []) or []],
        "kb_entry": raw.get("kb_entry") if isinstance(raw.get("kb_entry"), str) else None,
        "region": raw.get("region") if isinstance(raw.get("region"), str) else None,
        "precedents": [],
        "precedents_scope": "",
        "guideline_note": raw.get("guideline_note") if isinstance(raw.get("guideline_note"), str) else None,
    }


def _driver_view(raw: dict) -> dict:
    return {"feature": str(raw.get("feature", "")), "label": str(raw.get("label") or raw.get("feature", "")),
            "value": float(raw.get("value", 0.0)), "weight": float(raw.get("weight", 0.0))}


def driver_words(driver: dict) -> str:
    """Which way a driver moved the estimate, in plain words."""
    from openimr.engine.rationale import direction

    return direction(driver["weight"])


def _cite_pages(draft: dict, read: list, everything: list) -> dict:
    """Each evidence span with the page of the case file it is on, where its document came
    from an indexed case file (`[page N]` markers; casefile.record.page_at), else no page;
    its `document` made the index of the case's documents (`read` are those the engine read,
    `everything` the case's documents) and `document_id` the stored document's id."""
    from openimr.casefile.record import page_at

    where = {d.id: i for i, d in enumerate(everything)}
    for criterion in draft["criteria"]:
        for e in criterion["evidence"]:
            index = e.get("document")
            if isinstance(index, int) and 0 <= index < len(read):
                row = read[index]
                e["document"], e["document_id"] = where.get(row.id, index), row.id
                if e.get("start") is not None:
                    e["page"] = page_at(row.text, int(e["start"]))
    return draft


def drafts(session: Session, case: Case, cache: dict, docs: list | None = None) -> list[dict] | None:
    """Engine drafts per item, cached per case content (None when no engine is installed);
    `docs` the case's documents when the caller read them already."""
    everything = record.documents(session, case) if docs is None else docs
    file, read = case_file(session, case, everything)
    key = (case.id, hashlib.sha256(json.dumps(file, sort_keys=True, default=str).encode()).hexdigest(),
           tuple(d.id for d in everything))
    if key not in cache:
        raw = parts.engine_drafts(file)
        cache[key] = None if raw is None else [_cite_pages(_draft_view(r), read, everything) for r in raw]
        if len(cache) > 256:
            cache.pop(next(iter(cache)))
    return cache[key]


def _precedents(session: Session, request: str, kb_entry: str | None, region: str | None,
                exclude: frozenset[str]) -> tuple[list[PrecedentHit], str]:
    """The nearest precedents of a disputed item (the engine's one search of them: the same
    request category and, where known, knowledge-base entry) and that scope in words."""
    from openimr.engine.precedents import entry_label, nearest
    from openimr.library.classify import category_label, classify

    found = nearest(session, request, kb_entry, region, 3, exclude)
    label = entry_label(kb_entry)
    scope = f"the same request category ({category_label(classify(request).category)})" + (
        f" and guideline entry ({label})" if label else "; no guideline entry addresses the request")
    hits = [PrecedentHit(**n.hit.model_dump(exclude={"snippet_html"}), kb_entry=n.kb_entry) for n in found]
    return hits, scope


def similar_to(session: Session, item_id: int) -> tuple[library_search.Hit, list[PrecedentHit], str]:
    """A library item, its nearest precedents of the same request category and guideline
    entry (other letters only) and that scope in words: the search page's "similar letters"."""
    found = library_search.hits(session, [(item_id, 0.0)], "")
    if not found:
        raise workflow.NotFound(f"similar: item {item_id} is not in the library")
    item = found[0]
    from openimr.engine.precedents import entry_of

    others = frozenset({item.case_number} if item.case_number else set())
    hits, scope = _precedents(session, item.request, entry_of(item.request), None, others)
    return item, [h for h in hits if h.letter_id != item.letter_id], scope


def determinations(session: Session, case: Case, who: Principal, names: dict[str, str]) -> list[dict]:
    """Signed versions of the case's determination, newest first."""
    rows = record.determinations(session, case)
    versions = {d.id: d.version for d in rows}
    return [{"id": d.id, "version": d.version, "decisions_version": d.decisions_version, "signed_at": d.signed_at,
             "signed_by": names.get(d.signed_by) if who.may_see_reviewers else None,
             "superseded_by": d.superseded_by, "supersede_reason": d.supersede_reason,
             "superseded_by_version": versions.get(d.superseded_by) if d.superseded_by else None,
             "qa_returned": d.qa_returned,
             "pdf_url": f"/api/cases/{case.id}/determinations/{d.id}.pdf"} for d in rows]


def editor_rationale(draft: dict | None) -> str:
    """The draft rationale as a starting text for the reviewer, without the engine's DRAFT notice."""
    text = (draft or {}).get("rationale", "")
    cut = text.find("DRAFT RECOMMENDATION")
    return (text[:cut] if cut >= 0 else text).strip()


PARTY_ROLES = (("employee", "Employee"), ("employer", "Employer"), ("claims_administrator", "Claims administrator"),
               ("requesting_physician", "Requesting physician"), ("attorney", "Employee's attorney"))


def parties(case: Case) -> list[dict]:
    """The parties entered at intake ({role, name, detail}), as the application stores them;
    never the expert reviewer (who is no party)."""
    application = json.loads(case.application)
    found = []
    for key, label in PARTY_ROLES:
        entry = application.get(key) or {}
        if isinstance(entry, dict) and entry.get("name"):
            detail = entry.get("specialty") or entry.get("firm") or entry.get("adjuster") or ""
            found.append({"role": label, "name": str(entry["name"]), "detail": str(detail or "")})
    for other in application.get("parties") or []:
        if isinstance(other, dict) and other.get("name"):
            found.append({"role": str(other.get("kind", "party")).replace("_", " "), "name": str(other["name"]),
                          "detail": ""})
    return found


def case_detail(session: Session, who: Principal, case: Case, cache: dict, docs: list | None = None) -> dict:
    """Everything the case page shows, as the CaseDetail model's fields (`docs`: the case's
    documents when the caller read them already; read once for the whole page)."""
    names = workflow.reviewer_names(session) if who.may_see_reviewers else {}
    detail = workflow.case_summary(case, who, names)
    docs = record.documents(session, case) if docs is None else docs
    session.commit()  # a read: hand the connection back while the engine drafts
    engine = drafts(session, case, cache, docs) if who.role != "intake" else None  # for reviewers, QA, admin
    decisions = workflow.current_decisions(session, case)
    sources = frozenset(d.source_case_number for d in docs if d.source_case_number)
    items = []
    for index, item in enumerate(record.disputed_items(case)):
        draft = dict(engine[index]) if engine and index < len(engine) else None
        if draft is not None:
            # a record taken from a published letter never shows that letter as its own precedent
            key = ("precedents", item["request"], draft["kb_entry"], draft["region"], sources)
            if key not in cache:
                cache[key] = _precedents(session, item["request"], draft["kb_entry"], draft["region"], sources)
            draft["precedents"], draft["precedents_scope"] = cache[key]
        decision = decisions.get(index)
        items.append({
            "index": index, "request": item["request"], "ur_guideline": item.get("ur_guideline", ""),
            "outcome": item.get("outcome", ""), "draft": draft,
            "decision": None if decision is None else {
                "id": decision.id, "version": decision.version, "item_index": index, "decision": decision.decision,
                "guideline": decision.guideline, "rationale": decision.rationale,
                "created_at": decision.created_at},
        })
    detail.update({
        "date_of_injury": case.date_of_injury,
        "ur_denial_date": parts._as_date((json.loads(case.application).get("ur_decision") or {}).get("date")),
        "records_due": case.records_due,
        "decisions_version": case.decisions_version,
        "events": parts.case_events(session, case),
        "eligibility": case.eligibility,
        "parties": parties(case),
        "documents": [{"index": i, "kind": d.kind, "name": d.name, "date": d.day, "text": d.text}
                      for i, d in enumerate(docs)],
        "disputed_items": items,
        "determinations": determinations(session, case, who, names),
        "assignment_explanation": record.assignment_of(case).get("why") if who.may_see_reviewers else None,
    })
    return detail


def evidence_spans(detail: dict) -> dict[int, list[tuple[int, int, str]]]:
    """{document index: [(start, end, label)]} from every draft criterion's evidence."""
    by_name = {d["name"]: d["index"] for d in detail["documents"]}
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for item in detail["disputed_items"]:
        for criterion in (item["draft"] or {}).get("criteria", []):
            for e in criterion["evidence"]:
                doc = e.get("document")
                index = doc if isinstance(doc, int) else by_name.get(doc, 0 if len(by_name) == 1 else None)
                if index is None or e.get("start") is None or e.get("end") is None:
                    continue
                spans.setdefault(index, []).append((int(e["start"]), int(e["end"]), criterion["criterion"]))
    return spans


def highlighted(text: str, spans: list[tuple[int, int, str]]) -> str:
    """The document's text, HTML-escaped, with the evidence spans wrapped in <mark>."""
    out, position = [], 0
    for start, end, label in sorted(spans):
        start, end = max(start, position), min(end, len(text))
        if start >= end:
            continue
        out.append(html.escape(text[position:start]))
        out.append(f'<mark title="{html.escape(label)}">{html.escape(text[start:end])}</mark>')
        position = end
    out.append(html.escape(text[position:]))
    return "".join(out)
