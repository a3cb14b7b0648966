"""The records of a case in the workbench: the notice of assignment and request for
information, the receipt of the records, what is still missing and the follow-up request
(intake and admin). The same face functions as `openimr case notice` / `case missing`
(openimr.cases.records), in the request's transaction."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from openimr.cases import records
from openimr.web import workflow
from openimr.web.app import current_user, get_db, writer
from openimr.web.auth import Principal
from openimr.web.limits import CaseId, Message

api = APIRouter(prefix="/api", tags=["records"])
pages = APIRouter(include_in_schema=False)
ROLES = ("intake", "admin")


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["mail", "electronic"] = "mail"
    day: date | None = None


class DayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date | None = None


def _pdf(pdf: bytes, name: str) -> Response:
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


def _notice(db: Session, user: Principal, case_id: CaseId, method: str, day: date | None) -> Response:
    case = workflow.load_case(db, user, case_id)
    workflow.require_role(user, *ROLES)
    pdf, _after = records.send_notice(db, case.case_number, day or date.today(), method, workflow.actor(user),
                                      role=user.role)
    db.commit()
    return _pdf(pdf, f"{case.case_number}-notice-of-assignment.pdf")


def _follow_up(db: Session, user: Principal, case_id: CaseId, day: date | None) -> Response:
    case = workflow.load_case(db, user, case_id)
    workflow.require_role(user, *ROLES)
    pdf, _wanted = records.follow_up(db, case.case_number, day or date.today(), workflow.actor(user), role=user.role)
    db.commit()
    return _pdf(pdf, f"{case.case_number}-records-request.pdf")


def _received(db: Session, user: Principal, case_id: CaseId, day: date | None) -> dict:
    case = workflow.load_case(db, user, case_id)
    workflow.require_role(user, *ROLES)
    after = records.receive(db, case.case_number, day or date.today(), workflow.actor(user), role=user.role)
    db.commit()
    return after


@api.get("/cases/{case_id}/records")
def records_status(case_id: CaseId, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """The case's records: events, records due, documents and duplicates, what is missing."""
    case = workflow.load_case(db, user, case_id)
    return records.status(db, case.case_number)


@api.post("/cases/{case_id}/records/notice", response_class=Response)
def send_notice(case_id: CaseId, body: NoticeIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Send the notice of assignment and request for information (PDF); the notice_sent event."""
    return _notice(db, user, case_id, body.method, body.day)


@api.post("/cases/{case_id}/records/received")
def records_received(case_id: CaseId, body: DayIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """The records arrived: the records_received event, the determination's due date recomputed."""
    after = _received(db, user, case_id, body.day)
    return {"case_id": case_id, "status": after["status"], "determination_due": after["determination_due"]}


@api.post("/cases/{case_id}/records/follow-up", response_class=Response)
def follow_up(case_id: CaseId, body: DayIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """The request for the records still missing (PDF); 400 when nothing is missing."""
    return _follow_up(db, user, case_id, body.day)


# ---------------------------------------------------------------- the page
@pages.get("/cases/{case_id}/records", response_class=HTMLResponse)
def records_page(case_id: CaseId, request: Request, message: Message = "", user: Principal = Depends(current_user),
                 db: Session = Depends(get_db)):
    from openimr.bounds import MAX_CASEFILE_BYTES
    from openimr.web.routes_casefile import casefile_view, job_view
    from openimr.web.routes_pages import render

    case = workflow.load_case(db, user, case_id)
    jobs = [job_view(j) for j in request.app.state.casefile_jobs.of_case(case.case_number)]
    return render(request, "records.html", user, case=case, records=records.status(db, case.case_number),
                  may_send=user.role in ROLES, message=message, jobs=jobs, casefile=casefile_view(db, case),
                  max_mb=MAX_CASEFILE_BYTES // (1024 * 1024))


@pages.post("/cases/{case_id}/records/notice", response_class=Response)
def notice_form(case_id: CaseId, method: str = Form("mail"), user: Principal = Depends(writer),
                db: Session = Depends(get_db)):
    return _notice(db, user, case_id, method, None)


@pages.post("/cases/{case_id}/records/follow-up", response_class=Response)
def follow_up_form(case_id: CaseId, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    return _follow_up(db, user, case_id, None)


@pages.post("/cases/{case_id}/records/received")
def received_form(case_id: CaseId, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    from openimr.web.routes_pages import see_other

    _received(db, user, case_id, None)
    return see_other(f"/cases/{case_id}/records?message=Records+received")
