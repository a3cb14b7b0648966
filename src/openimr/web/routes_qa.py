"""QA before issue, the notes on a case and the publication of the redacted letter, on the
pages and the API: the case part's faces
(`openimr.cases.qa`) in the request's transaction.

QA and admin approve a signed draft waiting in `qa_review` (it is issued) or return it to the
reviewer with a reason (who may: the lifecycle file); a repeat changes nothing (`changed`
false), an act the status does not allow is 409 with one line. Notes are entries of the one
audit log, left by QA, admin and the assigned reviewer, never shown to intake users.
Publication and consolidation (admin) are `openimr case publish` and `case consolidate` through
the same faces (`cases.publish.publish`, `cases.consolidate`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from openimr import bounds
from openimr.bounds import MAX_NOTE, MAX_REASON
from openimr.cases import qa
from openimr.web import workflow
from openimr.web.app import current_user, get_db, writer
from openimr.web.auth import AuthError, Principal
from openimr.web.limits import CaseId, Filter
from openimr.web.schemas import CaseActionOut, NoteIn, NoteOut, Out, ReasonIn

api = APIRouter(prefix="/api", tags=["api"])
pages = APIRouter(include_in_schema=False)


def review(session: Session, who: Principal, case: workflow.Case, action: str, reason: str = "") -> bool:
    """QA's approve or return of the case's signed draft; whether it changed anything."""
    _after, changed = qa.review(session, case.case_number, action, workflow.actor(who), who.role, reason)
    return changed


def case_notes(session: Session, who: Principal, case: workflow.Case) -> list[dict]:
    """The notes of a case; 403 for intake users."""
    if who.role == "intake":
        raise AuthError(403, "the notes of a case are for QA, admin and the assigned reviewer")
    return qa.notes(session, case.case_number)


def add_note(session: Session, who: Principal, case: workflow.Case, text: str) -> tuple[dict, bool]:
    """Leave a note (QA, admin, the assigned reviewer: `load_case` refuses other reviewers)."""
    case_notes(session, who, case)
    return qa.add_note(session, case.case_number, text, workflow.actor(who), who.role)


@api.post("/cases/{case_id}/qa/approve", response_model=CaseActionOut)
def qa_approve(case_id: CaseId, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """QA approves the signed draft waiting for it: the Final Determination is issued (QA,
    admin). Sent again it changes nothing; 409 when no signed draft waits for QA."""
    case = workflow.load_case(db, user, case_id)
    changed = review(db, user, case, "qa_approve")
    db.commit()
    return CaseActionOut(case_id=case.id, case_number=case.case_number, status=case.status, changed=changed)


@api.post("/cases/{case_id}/qa/return", response_model=CaseActionOut)
def qa_return(case_id: CaseId, body: ReasonIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """QA returns the signed draft to the reviewer with the reason: it is never issued, the
    reviewer decides and signs again (QA, admin). Sent again it changes nothing; 409 when no
    signed draft waits for QA."""
    case = workflow.load_case(db, user, case_id)
    changed = review(db, user, case, "qa_return", body.reason)
    db.commit()
    return CaseActionOut(case_id=case.id, case_number=case.case_number, status=case.status, changed=changed)


@api.get("/cases/{case_id}/notes", response_model=list[NoteOut])
def get_notes(case_id: CaseId, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """The notes on a case, oldest first (QA, admin, the assigned reviewer; never intake)."""
    case = workflow.load_case(db, user, case_id)
    return case_notes(db, user, case)


@api.post("/cases/{case_id}/notes", response_model=NoteOut, status_code=201)
def post_note(case_id: CaseId, body: NoteIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Leave a note on a case, kept in the audit log; the same note sent again is kept once."""
    case = workflow.load_case(db, user, case_id)
    note, _added = add_note(db, user, case, body.text)
    db.commit()
    return note


def _back(case_id: int, message: str, anchor: str = "#qa-h"):
    from openimr.web.routes_pages import see_other

    return see_other(f"/cases/{case_id}?{urlencode({'message': message})}{anchor}")


DONE = {"qa_approve": ("Approved: the Final Determination is issued", "Already approved and issued"),
        "qa_return": ("Returned to the reviewer", "Already returned to the reviewer")}


def _qa_submit(db: Session, user: Principal, case_id: int, action: str, reason: str = ""):
    """A QA form: back on the case page with what was done, or the one line of a refusal."""
    case = workflow.load_case(db, user, case_id)
    try:
        changed = review(db, user, case, action, reason)
    except workflow.Conflict as error:
        db.rollback()
        return _back(case_id, str(error))
    db.commit()
    return _back(case_id, DONE[action][0 if changed else 1], "#determinations")


@pages.post("/cases/{case_id}/qa/approve")
def qa_approve_submit(case_id: CaseId, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    return _qa_submit(db, user, case_id, "qa_approve")


@pages.post("/cases/{case_id}/qa/return")
def qa_return_submit(case_id: CaseId, reason: str = Form("", max_length=MAX_REASON), user: Principal = Depends(writer),
                     db: Session = Depends(get_db)):
    return _qa_submit(db, user, case_id, "qa_return", reason)


@pages.post("/cases/{case_id}/notes")
def note_submit(case_id: CaseId, text: str = Form("", max_length=MAX_NOTE), user: Principal = Depends(writer),
                db: Session = Depends(get_db)):
    case = workflow.load_case(db, user, case_id)
    try:
        _note, added = add_note(db, user, case, text)
    except ValueError as error:  # an empty note, or a conflict: one line back on the case page
        db.rollback()
        return _back(case_id, str(error).splitlines()[0], "#notes-h")
    db.commit()
    return _back(case_id, "Note added" if added else "That note is there already", "#notes-h")


# ---------------------------------------------------------------- publication (admin)
PUBLISHED_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "text": "text/plain; charset=utf-8",
                   "json": "application/json"}


def publish(session: Session, who: Principal, case: workflow.Case, format: str) -> bytes:
    """The redacted letter, published through the case part's face (`openimr case publish`);
    admin only; 409 from a status the lifecycle does not publish from."""
    from openimr.cases import lifecycle
    from openimr.cases import publish as publication

    workflow.require_role(who, "admin")
    if format not in PUBLISHED_TYPES:
        raise ValueError(f"format: must be {', '.join(PUBLISHED_TYPES)}")
    lifecycle.transition(case.case_number, case.status, "publish", who.role)
    output, _counts, _changed = publication.publish(session, case.case_number, format, workflow.actor(who))
    return output if isinstance(output, bytes) else output.encode("utf-8")


@api.post("/cases/{case_id}/publish", response_class=Response)
def publish_letter(case_id: CaseId, format: Filter = "pdf", user: Principal = Depends(writer),
                   db: Session = Depends(get_db)):
    """Publish the redacted letter (parties, addresses, dates of birth and claim numbers
    removed), as the DWC posts it: pdf (default), html, text or json (admin; from determined
    or published)."""
    case = workflow.load_case(db, user, case_id)
    content = publish(db, user, case, format)
    db.commit()
    return Response(content, media_type=PUBLISHED_TYPES[format], headers={
        "Content-Disposition": f'inline; filename="{case.case_number}-published.{"txt" if format == "text" else format}"'})


@pages.post("/cases/{case_id}/publish", response_class=Response)
def publish_submit(case_id: CaseId, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    case = workflow.load_case(db, user, case_id)
    try:
        content = publish(db, user, case, "pdf")
    except ValueError as error:  # a conflict, or a party's name still in the letter: one line back
        db.rollback()
        return _back(case_id, str(error).splitlines()[0], "#determinations")
    db.commit()
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{case.case_number}-published.pdf"'})


# ---------------------------------------------------------------- consolidation (admin)
class ConsolidateIn(Out):
    """The case numbers to join into this case (same worker, physician and date of injury)."""

    cases: list[str] = Field(min_length=1, max_length=bounds.MAX_ITEMS)


def consolidate(session: Session, who: Principal, case: workflow.Case, numbers: list[str]) -> bool:
    """Join `numbers` into the case (`openimr case consolidate`'s face; admin); whether it
    changed anything: cases joined into it already (a repeat) are left as they are."""
    from openimr.cases import consolidate as consolidation
    from openimr.cases.tables import CaseRow

    workflow.require_role(who, "admin")
    numbers = [n.strip()[: bounds.MAX_SHORT] for n in numbers if n.strip()]
    joined = set(session.scalars(select(CaseRow.case_number).where(CaseRow.consolidated_into == case.case_number)))
    todo = [n for n in dict.fromkeys(numbers) if n not in joined]
    if not todo:
        return False
    consolidation.consolidate(session, case.case_number, todo, workflow.actor(who))
    return True


def consolidation_candidates(session: Session, who: Principal, case: workflow.Case) -> list[str]:
    """The cases that could be joined into this one (admin)."""
    from openimr.cases import consolidate as consolidation

    workflow.require_role(who, "admin")
    return consolidation.candidates(session, case.case_number)


@api.get("/cases/{case_id}/consolidation")
def get_consolidation(case_id: CaseId, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """The cases of the same worker, physician and date of injury that could be joined into
    this one (admin)."""
    case = workflow.load_case(db, user, case_id)
    return {"case_id": case.id, "case_number": case.case_number,
            "candidates": consolidation_candidates(db, user, case)}


@api.post("/cases/{case_id}/consolidate")
def post_consolidate(case_id: CaseId, body: ConsolidateIn, user: Principal = Depends(writer),
                     db: Session = Depends(get_db)):
    """Join cases into this one (admin; 8 CCR 9792.10.4(a)): all or nothing, 422 naming a case
    that is not the same matter, 409 from a status the lifecycle does not allow; cases joined
    already change nothing (`changed` false)."""
    case = workflow.load_case(db, user, case_id)
    changed = consolidate(db, user, case, body.cases)
    db.commit()
    return {"case_id": case.id, "case_number": case.case_number, "joined": body.cases, "changed": changed}


@pages.post("/cases/{case_id}/consolidate")
async def consolidate_submit(case_id: CaseId, request: Request, user: Principal = Depends(writer),
                             db: Session = Depends(get_db)):
    case = workflow.load_case(db, user, case_id)
    numbers = [str(n) for n in (await request.form()).getlist("join")][: bounds.MAX_ITEMS]
    try:
        if not numbers:
            raise ValueError("join: tick at least one case to join")
        changed = consolidate(db, user, case, numbers)
    except ValueError as error:
        db.rollback()
        return _back(case_id, str(error).splitlines()[0], "#consolidate-h")
    db.commit()
    return _back(case_id, ("Joined " if changed else "Already joined: ") + ", ".join(numbers), "#consolidate-h")
