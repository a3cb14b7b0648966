"""The expert reviewer's work on the pages and the API: every item's decision saved from one
form (an edit on one item never discards another's), the engine's draft accepted per item as
the reviewer's own decision (audited: `accepted_draft` in the entry), and a DRAFT preview of
the letter from what is typed, before every item is saved.

Signing stays `routes_pages.sign_submit` / `POST /api/cases/{id}/sign`: the case part refuses
it (409, one line naming the items) while any item has no decision of the reviewer's.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from openimr.cases import record
from openimr.models import DECISIONS
from openimr.web import views, workflow
from openimr.web.app import get_db, writer
from openimr.web.auth import Principal
from openimr.web.limits import CaseId, ItemIndex
from openimr.web.routes_pages import see_other

api = APIRouter(prefix="/api", tags=["api"])
pages = APIRouter(include_in_schema=False)


def _draft(request: Request, db: Session, case: workflow.Case, index: int) -> dict | None:
    found = views.drafts(db, case, request.app.state.draft_cache)
    return found[index] if found and 0 <= index < len(found) else None


def typed_decisions(form, count: int) -> dict[int, tuple[str, str, str]]:
    """{item: (decision, guideline, rationale)} of the one decisions form: the items with a
    decision chosen (an item left without one stays undecided)."""
    typed: dict[int, tuple[str, str, str]] = {}
    for index in range(count):
        decision = str(form.get(f"decision-{index}", ""))
        if decision in DECISIONS:
            typed[index] = (decision, str(form.get(f"guideline-{index}", ""))[:2000],
                            str(form.get(f"rationale-{index}", ""))[:20000])
    return typed


def _same(a: str, b: str) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def edits_without_decision(request: Request, db: Session, case: workflow.Case, form, count: int,
                           typed: dict) -> list[int]:
    """The items whose guideline or rationale was edited on the form but that have no decision
    chosen: what was typed there cannot be saved, and the page says so (never a silent loss)."""
    decided = workflow.current_decisions(db, case)
    edited = []
    for index in range(count):
        if index in typed:
            continue
        sent = (form.get(f"guideline-{index}"), form.get(f"rationale-{index}"))  # None: not on the form sent
        if sent == (None, None):
            continue
        if index in decided:
            shown = (decided[index].guideline or "", decided[index].rationale or "")
        else:
            draft = _draft(request, db, case, index)
            shown = ((draft or {}).get("guideline", ""), views.editor_rationale(draft))
        if any(value is not None and not _same(str(value), was) for value, was in zip(sent, shown)):
            edited.append(index)
    return edited


@pages.post("/cases/{case_id}/decisions")
async def decisions_submit(case_id: CaseId, request: Request, user: Principal = Depends(writer),
                           db: Session = Depends(get_db)):
    """Save every item of the one decisions form; `accept=N` also accepts the engine's draft of
    item N as the reviewer's decision (what was typed for N is not used)."""
    case = workflow.load_case(db, user, case_id)
    workflow.require_assigned_reviewer(case, user)
    form = await request.form()
    count = len(record.disputed_items(case))
    accept = str(form.get("accept", ""))
    accept_index = int(accept) if accept.isdigit() and int(accept) < count else None
    typed = typed_decisions(form, count)
    unsent = [i for i in edits_without_decision(request, db, case, form, count, typed) if i != accept_index]
    try:
        for index, (decision, guideline, rationale) in typed.items():
            if index != accept_index:
                workflow.record_decision(db, user, case, index, decision, guideline, rationale)
        if accept_index is not None:
            workflow.accept_draft(db, user, case, accept_index, _draft(request, db, case, accept_index))
    except workflow.Conflict as error:
        db.rollback()
        return see_other(f"/cases/{case_id}?{urlencode({'message': str(error)})}#items-h")
    db.commit()
    db.refresh(case)
    decided = workflow.current_decisions(db, case)
    said = []
    if accept_index is not None:
        said.append(f"accepted the engine's draft of item {accept_index + 1} as your decision")
    saved = [i + 1 for i in typed if i != accept_index]
    if saved:
        said.append("saved item " + ", ".join(map(str, saved)))
    if unsent:
        said.append("not saved: what you typed for item " + ", ".join(str(i + 1) for i in unsent)
                    + " (no decision chosen: choose Upheld or Overturned, then save)")
    waiting = [i + 1 for i in range(count) if i not in decided]
    said.append("still without your decision: item " + ", ".join(map(str, waiting)) if waiting
                else "every item has your decision")
    message = "; ".join(said)
    anchor = f"#item-{accept_index}" if accept_index is not None else "#determinations"
    return see_other(f"/cases/{case_id}?{urlencode({'message': message[:1].upper() + message[1:]})}{anchor}")


@pages.post("/cases/{case_id}/preview.pdf", response_class=Response)
async def preview_submit(case_id: CaseId, request: Request, user: Principal = Depends(writer),
                         db: Session = Depends(get_db)):
    """The DRAFT letter from the decisions form as it stands (unsaved edits included, nothing
    saved); items without a decision say NOT DECIDED YET."""
    case = workflow.load_case(db, user, case_id)
    workflow.require_assigned_reviewer(case, user)
    form = await request.form()
    typed = typed_decisions(form, len(record.disputed_items(case)))
    pdf = workflow.draft_letter_pdf(db, user, case, typed)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{case.case_number}-draft.pdf"'})


@api.post("/cases/{case_id}/items/{index}/accept")
def accept(case_id: CaseId, index: ItemIndex, request: Request, user: Principal = Depends(writer),
           db: Session = Depends(get_db)):
    """The assigned reviewer accepts the engine's draft of one item as their own decision
    (audited as accepted); 409 when there is no draft to accept, or once signed."""
    case = workflow.load_case(db, user, case_id)
    workflow.require_assigned_reviewer(case, user)
    if not 0 <= index < len(record.disputed_items(case)):
        raise workflow.NotFound(f"item {index}: the case has {len(record.disputed_items(case))} disputed item(s)")
    row = workflow.accept_draft(db, user, case, index, _draft(request, db, case, index))
    db.commit()
    return {"id": row.id, "version": row.version, "decisions_version": case.decisions_version,
            "item_index": row.item_index, "decision": row.decision, "guideline": row.guideline,
            "rationale": row.rationale, "created_at": row.created_at, "accepted_draft": True}
