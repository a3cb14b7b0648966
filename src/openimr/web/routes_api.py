"""The JSON API under /api: every page's data, paginated lists, OpenAPI-described."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from openimr.cases.tables import DeterminationRow
from openimr.library import search as library_search
from openimr.library import stats as library_stats
from openimr.library import store as library
from openimr.models import Letter
from openimr.web import auth, parts, uploads, views, workflow
from openimr.web.app import client_ip, current_user, get_db, set_session_cookie, writer
from openimr.web.auth import Principal
from openimr.web.limits import CaseId, DeterminationId, Filter, ItemIndex, LetterId, PageNo, PerPage, SearchText
from openimr.web.schemas import (
    ApplicationIn,
    AssignIn,
    CaseActionOut,
    CaseDetail,
    CaseSummary,
    DecisionIn,
    DecisionOut,
    DeterminationOut,
    EligibilityOut,
    IntakeOut,
    LoginIn,
    LoginOut,
    Page,
    ReasonIn,
    ReviewerOut,
    SignIn,
    SupersedeIn,
    UserOut,
)
from openimr.web.tables import User

router = APIRouter(prefix="/api", tags=["api"])


def user_out(session: Session, user: User) -> UserOut:
    """The API view of a user: a reviewer's credentials from their panel record."""
    entry = parts.registry(session, user.panel_reviewer_id) if user.panel_reviewer_id else None
    return UserOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                   panel_reviewer_id=user.panel_reviewer_id, may_sign=bool(entry and entry["may_sign"]),
                   licensure=entry["licensure"] if entry else [], specialties=entry["specialties"] if entry else [])


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, db: Session = Depends(get_db)):
    """Sign in; the session cookie is set and the CSRF token returned for later writes."""
    token, principal = auth.sign_in(db, body.username, body.password, client_ip(request))
    db.commit()
    out = LoginOut(user=user_out(db, auth.user_of(db, principal)), csrf_token=principal.csrf)
    response = JSONResponse(out.model_dump(mode="json"))
    set_session_cookie(response, request, token)
    return response


@router.post("/logout", status_code=204)
def logout(request: Request, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Sign out: the session is forgotten."""
    auth.sign_out(db, request.cookies.get(auth.SESSION_COOKIE))
    db.commit()
    response = Response(status_code=204)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserOut)
def me(user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """The signed-in user."""
    return user_out(db, auth.user_of(db, user))


# ---------------------------------------------------------------- cases
@router.get("/cases", response_model=Page[CaseSummary])
def list_cases(status: Filter = "", priority: Filter = "", due: Filter = "", sort: Filter = "due", reviewer: Filter = "",
               page: PageNo = 1, per_page: PerPage = 25, user: Principal = Depends(current_user),
               db: Session = Depends(get_db)):
    """The case queue this user may see (a reviewer: only their own cases)."""
    rows, total = workflow.case_queue(db, user, status, priority, due, sort, page, per_page, reviewer)
    names = workflow.reviewer_names(db) if user.may_see_reviewers else {}
    items = [CaseSummary.model_validate(workflow.case_summary(c, user, names)) for c in rows]
    return Page[CaseSummary](items=items, total=total,
                             page=page, per_page=per_page)


@router.post("/eligibility", response_model=EligibilityOut)
def eligibility(body: ApplicationIn, user: Principal = Depends(writer)):
    """The eligibility result of an application, without storing it."""
    workflow.require_role(user, "intake", "admin")
    return _eligibility_out(parts.check_eligibility(body.model_dump(mode="json", exclude={"documents"})))


def _eligibility_out(result: dict) -> EligibilityOut:
    return EligibilityOut(eligible=result["eligible"], reasons=result["reasons"],
                          deadlines=result.get("deadlines", {}))


@router.post("/cases", response_model=IntakeOut, status_code=201)
def create_case(body: ApplicationIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Record a new application (intake, admin); the eligibility result comes back at once."""
    documents = [d.model_dump() for d in body.documents]
    case = workflow.create_case(db, user, body.model_dump(mode="json", exclude={"documents"}), documents)
    db.commit()
    return IntakeOut(case=CaseSummary.model_validate(workflow.case_summary(case, user, {})), eligibility=_eligibility_out(case.eligibility))


@router.get("/cases/{case_id}", response_model=CaseDetail)
def get_case(case_id: CaseId, request: Request, user: Principal = Depends(current_user),
             db: Session = Depends(get_db)):
    """One case with documents, disputed items, engine drafts, decisions and determinations."""
    case = workflow.load_case(db, user, case_id)
    return views.case_detail(db, user, case, request.app.state.draft_cache)


@router.post("/cases/{case_id}/documents", status_code=201)
async def add_document(case_id: CaseId, request: Request, file: UploadFile = File(...), kind: str = "medical_record",
                       user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Attach a record (PDF or .txt, at most 10 MB) to a case."""
    case, name, text = await uploads.attach_document(db, user, case_id, kind, file)
    return {"case_id": case.id, "name": name, "characters": len(text)}


@router.get("/cases/{case_id}/match")
def match(case_id: CaseId, request: Request, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """Reviewers ranked for this case, each with the match explanation: every check and its
    result, each party checked; `ranking`: why the first is ahead of the second (admin, QA)."""
    case = workflow.load_case(db, user, case_id)
    workflow.require_role(user, "admin", "qa")
    ranked = workflow.rank_reviewers(db, case, workflow.reviewers(db))
    return {"case_id": case.id, "ranked": ranked, "ranking": ranked[0].get("ranking") if ranked else None}


@router.post("/cases/{case_id}/assign")
def assign(case_id: CaseId, body: AssignIn | None = None, user: Principal = Depends(writer),
           db: Session = Depends(get_db)):
    """Assign a reviewer (the best ranked when none is given); admin and QA."""
    case = workflow.load_case(db, user, case_id)
    chosen = workflow.assign(db, user, case, body.reviewer_id if body else None)
    db.commit()
    return {"case_id": case.id, "reviewer_id": chosen["id"], "why": chosen["why"]}


@router.put("/cases/{case_id}/items/{index}/decision", response_model=DecisionOut)
def put_decision(case_id: CaseId, index: ItemIndex, body: DecisionIn, user: Principal = Depends(writer),
                 db: Session = Depends(get_db)):
    """The assigned reviewer's decision and rationale on one disputed item."""
    case = workflow.load_case(db, user, case_id)
    row = workflow.record_decision(db, user, case, index, body.decision, body.guideline, body.rationale)
    version = case.decisions_version
    db.commit()
    return DecisionOut(id=row.id, version=row.version, decisions_version=version, item_index=row.item_index,
                       decision=row.decision, guideline=row.guideline, rationale=row.rationale,
                       created_at=row.created_at)


@router.get("/cases/{case_id}/draft.pdf", response_class=Response)
def draft_pdf(case_id: CaseId, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """A DRAFT preview of the Final Determination letter (assigned reviewer)."""
    case = workflow.load_case(db, user, case_id)
    pdf = workflow.draft_letter_pdf(db, user, case)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{case.case_number}-DRAFT.pdf"'})


@router.post("/cases/{case_id}/sign", response_model=DeterminationOut, status_code=201)
def sign(case_id: CaseId, body: SignIn | None = None, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Sign and issue the Final Determination (the assigned clinician reviewer), as one act:
    `attest` must be true (the clinician reviewed the records and decided each disputed item)
    and `version` the decisions version they saw (`decisions_version` of GET /api/cases/{id});
    409 when the decisions changed since, or when the case is signed already (naming the
    version in force)."""
    case = workflow.load_case(db, user, case_id)
    row = workflow.sign(db, user, case, body.version if body else -1, body.attest if body else False)
    db.commit()
    return _determination_out(case.id, row, user.display_name)


def _determination_out(case_id: CaseId, row: DeterminationRow, signer: str | None) -> DeterminationOut:
    return DeterminationOut(id=row.id, version=row.version, decisions_version=row.decisions_version,
                            signed_at=row.signed_at, signed_by=signer,
                            superseded_by=row.superseded_by, supersede_reason=row.supersede_reason,
                            pdf_url=f"/api/cases/{case_id}/determinations/{row.id}.pdf")


@router.post("/cases/{case_id}/supersede")
def supersede(case_id: CaseId, body: SupersedeIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """Open a signed determination for a superseding version (assigned clinician, with a reason)."""
    case = workflow.load_case(db, user, case_id)
    workflow.start_supersede(db, user, case, body.reason)
    db.commit()
    return {"case_id": case.id, "status": case.status}


def _closing_route(action: str):
    def close(case_id: CaseId, body: ReasonIn, user: Principal = Depends(writer), db: Session = Depends(get_db)):
        case = workflow.load_case(db, user, case_id)
        changed = workflow.close_case(db, user, case, action, body.reason)
        db.commit()
        return CaseActionOut(case_id=case.id, case_number=case.case_number, status=case.status, changed=changed)

    close.__name__ = f"{action}_case"
    close.__doc__ = {
        "withdraw": "Withdraw the case: the application was withdrawn (intake, admin).",
        "terminate": "Terminate the review: the disputed treatment was authorized meanwhile (intake, admin).",
        "appeal": "Record an appeal of the Final Determination (admin).",
    }[action] + (" With the reason; sent again once made it changes nothing (`changed` false); 409 from a "
                 "status the lifecycle does not allow it from, 403 for a role that may not make it.")
    return close


for _action in workflow.record.CLOSING:
    router.add_api_route(f"/cases/{{case_id}}/{_action}", _closing_route(_action), methods=["POST"],
                         response_model=CaseActionOut)


@router.get("/cases/{case_id}/determinations/{det_id}.pdf", response_class=Response)
def determination_pdf(case_id: CaseId, det_id: DeterminationId, download: bool = False, user: Principal = Depends(current_user),
                      db: Session = Depends(get_db)):
    """The signed letter's PDF, exactly as signed."""
    case = workflow.load_case(db, user, case_id)
    row = db.get(DeterminationRow, det_id)
    if row is None or row.case_id != case.id:
        raise workflow.NotFound(f"determination {det_id}: not found in case {case.case_number}")
    disposition = "attachment" if download else "inline"
    return Response(row.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="{case.case_number}-v{row.version}.pdf"'})


@router.get("/cases/{case_id}/audit")
def case_audit(case_id: CaseId, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """The case's audit trail (QA, admin, and the assigned reviewer)."""
    case = workflow.load_case(db, user, case_id)
    if user.role == "intake":
        raise auth.AuthError(403, "the audit trail is for QA, admin and the assigned reviewer")
    return workflow.audit_trail(db, case)


# ---------------------------------------------------------------- panel
@router.get("/reviewers", response_model=Page[ReviewerOut])
def list_reviewers(page: PageNo = 1, per_page: PerPage = 25, user: Principal = Depends(current_user),
                   db: Session = Depends(get_db)):
    """The expert reviewer panel with credentials and load (not for intake users)."""
    if not user.may_see_reviewers:
        raise auth.AuthError(403, "reviewer identities are not shown to intake users")
    rows = workflow.reviewers(db)
    shown = [ReviewerOut.model_validate(row) for row in rows[(page - 1) * per_page: page * per_page]]
    return Page[ReviewerOut](items=shown, total=len(rows), page=page,
                             per_page=per_page)


# ---------------------------------------------------------------- precedents
@router.get("/letters", response_model=Page[library.LetterSummary])
def list_letters(case_number: Filter = "", page: PageNo = 1, per_page: PerPage = 25,
                 user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """Published letters in the library, newest first."""
    found = library.list_letters(db, page, per_page, case_number)
    return Page[library.LetterSummary](items=found.items, total=found.total, page=page, per_page=per_page)


@router.get("/letters/{letter_id}", response_model=Letter)
def get_letter(letter_id: LetterId, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """One letter as the letter model (reviewer credentials, never a name)."""
    letter = library.get_letter(db, letter_id)
    if letter is None:
        raise workflow.NotFound(f"letter {letter_id}: not found")
    return letter


@router.post("/letters", status_code=201, response_model=library.AddedLetter)
async def upload_letter(file: UploadFile = File(...), user: Principal = Depends(writer),
                        db: Session = Depends(get_db)):
    """Add a published letter (PDF or text, at most 10 MB) to the library (admin, QA)."""
    workflow.require_role(user, "admin", "qa")
    name, content, kind = await uploads.read_upload(file)
    letter = parts.read_letter(content if kind == "pdf" else content.decode("utf-8"), name)
    added = library.add_letter(db, letter, content, name)
    db.commit()
    return added


@router.get("/search", response_model=library_search.SearchPage)
def search(q: SearchText = "", decision: Filter = "", guideline: Filter = "", category: Filter = "",
           page: PageNo = 1, per_page: PerPage = 25, user: Principal = Depends(current_user),
           db: Session = Depends(get_db)):
    """Precedent search with facets and highlighted snippets."""
    filters = library_search.Filters(decision=decision or None, guideline=guideline or None, category=category or None)
    return library_search.search(db, q, filters, page, per_page)


@router.get("/stats", response_model=library_stats.StatsTable)
def stats(by: library_stats.Grouping = "decision", user: Principal = Depends(current_user),
          db: Session = Depends(get_db)):
    """Upheld/overturned counts and rates (Wilson 95% interval) by decision, category, guideline,
    specialty, month or region."""
    return library_stats.StatsTable(by=by, rows=library_stats.stats(db, by))


# ---------------------------------------------------------------- users
@router.get("/users", response_model=Page[UserOut])
def list_users(page: PageNo = 1, per_page: PerPage = 25, user: Principal = Depends(current_user),
               db: Session = Depends(get_db)):
    """Every user (admin)."""
    workflow.require_role(user, "admin")
    rows = db.scalars(select(User).order_by(User.id)).all()
    return Page[UserOut](items=[user_out(db, u) for u in rows[(page - 1) * per_page: page * per_page]],
                         total=len(rows), page=page, per_page=per_page)
