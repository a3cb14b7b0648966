"""Case events and the late report on the pages and the API: what `openimr case event` and
`openimr case late` do, through the same face functions (`openimr.cases.store.record_event`
and `late_report`) in the request's transaction.

Who may record an event is the lifecycle file's say (intake, admin); the same event sent
again (a double-submitted form) changes nothing. The late report names the reviewer only to
users who may see reviewers.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from openimr import bounds
from openimr.cases import settings as case_settings
from openimr.cases import store
from openimr.web import workflow
from openimr.web.app import current_user, get_db, writer
from openimr.web.auth import Principal
from openimr.web.limits import CaseId

api = APIRouter(prefix="/api", tags=["api"])
pages = APIRouter(include_in_schema=False)


class EventIn(BaseModel):
    """A dated event of a case: the notice sent (mail or electronic), the records received,
    or the review converted to expedited."""
    kind: Literal["notice_sent", "records_received", "converted_expedited"]
    day: date
    method: Literal["mail", "electronic"] | None = Field(None, description="For notice_sent: mail or electronic.")


def record(session: Session, who: Principal, case: workflow.Case, kind: str, day: date, method: str | None) -> dict:
    """Record the event through the case part (its deadlines recomputed); the case as after."""
    return store.record_event(session, case.case_number, kind, day, case_settings.load_settings(), method,
                              workflow.actor(who), who.role)


def late(session: Session, who: Principal, as_of: date) -> list[dict]:
    """The late report as of a day; without the reviewer for users who may not see reviewers."""
    rows = store.late_report(session, as_of)
    return rows if who.may_see_reviewers else [{k: v for k, v in r.items() if k != "reviewer"} for r in rows]


@api.post("/cases/{case_id}/events")
def record_event(case_id: CaseId, body: EventIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Record a dated event of a case (intake, admin): the deadlines are recomputed; the same
    event again changes nothing. 422 naming the field for a bad kind, method or date."""
    case = workflow.load_case(db, user, case_id)
    after = record(db, user, case, body.kind, body.day, body.method)
    db.commit()
    return {"case_id": case.id} | after


@api.get("/late")
def late_report(as_of: date | None = None, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """Open cases whose records or determination are past due on `as_of` (default today)."""
    return late(db, user, as_of or date.today())


@pages.post("/cases/{case_id}/events")
def event_submit(case_id: CaseId, kind: str = Form(""), day: str = Form(""), method: str = Form(""),
                 user: Principal = Depends(writer), db: Session = Depends(get_db)):
    from openimr.web.routes_pages import see_other

    case = workflow.load_case(db, user, case_id)
    try:
        when = bounds.parse_day("day", day)
        if when is None:
            raise ValueError("day: the date of the event is required (YYYY-MM-DD)")
    except ValueError as error:
        return see_other(f"/cases/{case_id}?{urlencode({'message': str(error)})}")
    try:
        before = len(store.event_list(db, case))
        after = record(db, user, case, kind, when, method or None)
    except ValueError as error:  # a CaseError or conflict: one line back on the case page
        db.rollback()
        return see_other(f"/cases/{case_id}?{urlencode({'message': str(error).splitlines()[0]})}")
    db.commit()
    word = kind.replace("_", " ")
    said = f"Recorded: {word} {when}" if len(after["events"]) > before else f"Already recorded: {word} {when}"
    return see_other(f"/cases/{case_id}?{urlencode({'message': said})}")


@pages.get("/late", response_class=HTMLResponse)
def late_page(request: Request, as_of: str = "", user: Principal = Depends(current_user),
              db: Session = Depends(get_db)):
    from openimr.web.routes_pages import render

    try:
        when = bounds.parse_day("as_of", as_of, future=True) or date.today()
    except ValueError as error:
        return render(request, "late.html", user, 422, rows=[], as_of=as_of[:40], error=str(error))
    return render(request, "late.html", user, rows=late(db, user, when), as_of=when.isoformat(), error="")
