"""Server-rendered pages: sign-in, case queue, case, intake, panel, search, letters, analytics."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from openimr import bounds
from openimr.bounds import MAX_FILTER, MAX_GUIDELINE, MAX_RATIONALE, MAX_REASON, MAX_REVIEWER_ID
from openimr.cases import lifecycle, qa
from openimr.cases.store import EVENT_KINDS
from openimr.library import search as library_search
from openimr.library import stats as library_stats
from openimr.library import store as library
from openimr.web import auth, charts, parts, uploads, views, workflow
from openimr.web.app import client_ip, current_user, get_db, set_session_cookie, writer
from openimr.web.auth import AuthError, Principal
from openimr.web.limits import CaseId, Filter, ItemIndex, LetterId, Message, PageNo, SearchText, SimilarTo

router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, user: Principal | None, status: int = 200, **context) -> HTMLResponse:
    """A page from its template with the user and CSRF token in the context."""
    context.update(user=user, csrf=user.csrf if user else "", today=date.today())
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str) -> str:
    safe = target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target
    return target if safe else "/cases"


# ---------------------------------------------------------------- sign in / out
@router.get("/", response_class=HTMLResponse)
def home(user: Principal = Depends(current_user)):
    return see_other("/intake" if user.role == "intake" else "/cases")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/cases"):
    token = request.cookies.get(auth.LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=_safe_next(next), login_csrf=token, error="")
    response.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.secure_cookies or request.url.scheme == "https", path="/login")
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, username: str = Form(""), password: str = Form(""),
                 csrf_token: str = Form(""), next: str = Form("/cases"), db: Session = Depends(get_db)):
    cookie = request.cookies.get(auth.LOGIN_CSRF_COOKIE)
    if not auth.csrf_matches(cookie, csrf_token):
        return render(request, "login.html", None, 403, next=_safe_next(next), login_csrf=cookie or "",
                      error="The sign-in form expired: reload the page and try again.")
    try:
        token, _principal = auth.sign_in(db, username, password, client_ip(request))
    except AuthError as error:
        return render(request, "login.html", None, error.status, next=_safe_next(next), login_csrf=cookie,
                      error=error.message[:1].upper() + error.message[1:] + ".", username=username)
    db.commit()
    response = see_other(_safe_next(next))
    set_session_cookie(response, request, token)
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    auth.sign_out(db, request.cookies.get(auth.SESSION_COOKIE))
    db.commit()
    response = see_other("/login")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------- cases
@router.get("/cases", response_class=HTMLResponse)
def queue_page(request: Request, status: Filter = "", priority: Filter = "", due: Filter = "", sort: Filter = "due",
               reviewer: Filter = "", page: PageNo = 1, user: Principal = Depends(current_user),
               db: Session = Depends(get_db)):
    page = max(page, 1)
    chosen = reviewer if reviewer and user.role in ("qa", "admin") else ""
    rows, total = workflow.case_queue(db, user, status, priority, due, sort, page, 25, chosen)
    names = workflow.reviewer_names(db) if user.may_see_reviewers else {}
    cases = [workflow.case_summary(c, user, names) for c in rows]
    query = {"status": status, "priority": priority, "due": due, "sort": sort,
             "reviewer": chosen}
    return render(request, "cases.html", user, cases=cases, total=total, page=page, pages=max(1, -(-total // 25)),
                  filters=query, query=urlencode({k: v for k, v in query.items() if v}),
                  sorts=list(workflow.SORTS), statuses=workflow.STATUSES,
                  reviewers=names if user.role in ("qa", "admin") else {})


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: CaseId, request: Request, message: Message = "", user: Principal = Depends(current_user),
              db: Session = Depends(get_db)):
    case = workflow.load_case(db, user, case_id)
    docs = workflow.record.documents(db, case)  # read once for the drafts, the page and the case file
    detail = views.case_detail(db, user, case, request.app.state.draft_cache, docs)
    trail = workflow.audit_trail(db, case) if user.role != "intake" else []
    spans = views.evidence_spans(detail)
    documents = [{**d, "html": Markup(views.highlighted(d["text"], spans.get(d["index"], [])))}
                 for d in detail["documents"]]
    can_edit = workflow.is_assigned_to(case, user) and case.status in lifecycle.sources("decide")
    assignable = (*lifecycle.sources("assign"), *lifecycle.sources("reassign"))
    ranked = (workflow.rank_reviewers(db, case, workflow.reviewers(db))
              if user.role in ("admin", "qa") and case.status in assignable else [])
    engine_missing = all(i["draft"] is None for i in detail["disputed_items"])
    from openimr.web import routes_qa
    from openimr.web.routes_casefile import casefile_view

    return render(request, "case.html", user, case=detail, editor_rationale=views.editor_rationale,
                  casefile=casefile_view(db, case, docs),
                  documents=documents, can_edit=can_edit, can_sign=can_edit and user.may_sign, ranked=ranked,
                  message=message, engine_note=views.DRAFT_NOTE, engine_missing=engine_missing,
                  verdict_words=views.VERDICT_WORDS, driver_words=views.driver_words,
                  attestation=workflow.record.ATTESTATION, closing=workflow.closing_actions(case, user),
                  closed_reason={a: workflow.record.assignment_of(case).get(f"{a}_reason")
                                 for a in workflow.record.CLOSING},
                  event_kinds=[k for k in EVENT_KINDS if lifecycle.allowed(case.status, k, user.role)],
                  accepted=workflow.accepted_items(db, case, trail) if user.role != "intake" else set(),
                  qa_actions=[a for a in ("qa_approve", "qa_return") if lifecycle.allowed(case.status, a, user.role)],
                  notes=qa.notes(db, case.case_number) if user.role != "intake" else None,
                  can_publish=lifecycle.allowed(case.status, "publish", user.role),
                  joinable=(routes_qa.consolidation_candidates(db, user, case)
                            if lifecycle.allowed(case.status, "join", user.role) else []),
                  undecided=[i["index"] + 1 for i in detail["disputed_items"] if not i["decision"]],
                  audit=trail)


@router.post("/cases/{case_id}/items/{index}")
def decision_submit(case_id: CaseId, index: ItemIndex, decision: str = Form(..., max_length=MAX_FILTER),
                    guideline: str = Form("", max_length=MAX_GUIDELINE),
                    rationale: str = Form("", max_length=MAX_RATIONALE), user: Principal = Depends(writer),
                    db: Session = Depends(get_db)):
    case = workflow.load_case(db, user, case_id)
    workflow.record_decision(db, user, case, index, decision, guideline, rationale)
    db.commit()
    return see_other(f"/cases/{case_id}?message=Decision+saved+for+item+{index + 1}#item-{index}")


@router.post("/cases/{case_id}/sign")
def sign_submit(case_id: CaseId, version: str = Form(""), attest: str = Form(""), user: Principal = Depends(writer),
                db: Session = Depends(get_db)):
    """The confirm step's form: the attestation box and the decisions version shown."""
    case = workflow.load_case(db, user, case_id)
    if attest != "yes":
        raise ValueError("attest: tick the box to attest that you reviewed the records and decided each item")
    if not version.isdigit():
        raise ValueError("version: the decisions version shown is missing; reload the page")
    try:
        row = workflow.sign(db, user, case, int(version), True)
    except workflow.Conflict as error:
        db.rollback()
        # a double-submitted form lands here: say what is in force, sign nothing twice
        return see_other(f"/cases/{case_id}?{urlencode({'message': str(error)})}#determinations")
    db.commit()
    if case.status == "qa_review":
        return see_other(f"/cases/{case_id}?message=Signed+version+{row.version}:+held+for+QA+before+it+is+issued"
                         "#determinations")
    return see_other(f"/cases/{case_id}?message=Signed+and+issued+version+{row.version}#determinations")


@router.post("/cases/{case_id}/supersede")
def supersede_submit(case_id: CaseId, reason: str = Form("", max_length=MAX_REASON), user: Principal = Depends(writer),
                     db: Session = Depends(get_db)):
    case = workflow.load_case(db, user, case_id)
    workflow.start_supersede(db, user, case, reason)
    db.commit()
    return see_other(f"/cases/{case_id}?message=Superseding:+change+the+decisions,+then+sign+again")


def _closing_submit(action: str):
    def submit(case_id: CaseId, reason: str = Form("", max_length=MAX_REASON), user: Principal = Depends(writer),
               db: Session = Depends(get_db)):
        case = workflow.load_case(db, user, case_id)
        try:
            changed = workflow.close_case(db, user, case, action, reason)
        except workflow.Conflict as error:
            db.rollback()
            return see_other(f"/cases/{case_id}?{urlencode({'message': str(error)})}")
        db.commit()
        word = case.status.replace("_", " ")
        return see_other(f"/cases/{case_id}?{urlencode({'message': f'Case {word}' if changed else f'Already {word}'})}")

    submit.__name__ = f"{action}_submit"
    return submit


for _action in workflow.record.CLOSING:
    router.add_api_route(f"/cases/{{case_id}}/{_action}", _closing_submit(_action), methods=["POST"])


@router.post("/cases/{case_id}/assign")
def assign_submit(case_id: CaseId, reviewer_id: str = Form("", max_length=MAX_REVIEWER_ID), user: Principal = Depends(writer),
                  db: Session = Depends(get_db)):
    case = workflow.load_case(db, user, case_id)
    workflow.assign(db, user, case, reviewer_id.strip()[:64] or None)
    db.commit()
    return see_other(f"/cases/{case_id}?message=Reviewer+assigned")


@router.post("/cases/{case_id}/documents")
async def document_submit(case_id: CaseId, request: Request, file: UploadFile | None = File(None),
                          kind: str = Form("medical_record"), user: Principal = Depends(writer),
                          db: Session = Depends(get_db)):
    case, name, text = await uploads.attach_document(db, user, case_id, kind, file)
    return see_other(f"/cases/{case_id}?message=Document+added")


# ---------------------------------------------------------------- intake
INTAKE_FIELDS = ("review_type", "received", "signed", "ur_decision_attached", "date_of_injury", "employee_name",
                 "claims_administrator", "employer", "physician_name", "physician_specialty", "attorney_name",
                 "attorney_firm", "ur_date", "ur_served", "ur_service", "missing_information", "liability_dispute",
                 "requests", "guidelines", "summary")
# the intake form's field of each place of the application a problem can be in, with its words
FIELD_OF = {"received": ("received", "Date received"), "date_of_injury": ("date_of_injury", "Date of injury"),
            "employee.name": ("employee_name", "Employee"), "employer.name": ("employer", "Employer"),
            "claims_administrator.name": ("claims_administrator", "Claims administrator"),
            "requesting_physician.name": ("physician_name", "Requesting physician"),
            "requesting_physician.specialty": ("physician_specialty", "Physician's specialty"),
            "attorney.name": ("attorney_name", "Employee's attorney"), "attorney.firm": ("attorney_firm", "Law firm"),
            "ur_decision.date": ("ur_date", "UR decision date"), "ur_decision.served": ("ur_served", "Date served"),
            "ur_decision": ("ur_served", "Date served"), "ur_decision.items": ("requests", "Disputed items"),
            "requests": ("requests", "Disputed items"), "record": ("record", "Medical record"),
            "summary": ("summary", "Clinical summary")}
def plain_problem(line: str) -> tuple[str, str]:
    """(form field, message) of one 'path: reason' problem of the application (the reason is
    in plain words already: `models.problem_lines(plain=True)`, the one vocabulary of refusals)."""
    path, _, reason = line.partition(": ")
    reason = reason.strip()
    parts_ = path.split(".")
    item = next((int(p) for p in parts_ if p.isdigit()), None)
    key = ".".join(p for p in parts_ if not p.isdigit())
    field, label = FIELD_OF.get(key, FIELD_OF.get(key.rsplit(".", 1)[0], ("form", "")))
    if key.startswith("ur_decision.items") and item is not None:
        label = f"Disputed item {item + 1}"
    if field == "form":
        return field, line
    return field, f"{label}: {reason}"


def intake_problems(error: ValueError) -> dict[str, str]:
    """{form field: one line in plain words} of every problem an application was refused for."""
    lines = getattr(error, "problems", None) or str(error).split("; ")
    found: dict[str, str] = {}
    for line in lines:
        field, message = plain_problem(line)
        found.setdefault(field, message)
    return found


@router.get("/intake", response_class=HTMLResponse)
def intake_page(request: Request, user: Principal = Depends(current_user)):
    workflow.require_role(user, "intake", "admin")
    return render(request, "intake.html", user, form={"received": date.today().isoformat(),
                                                      "review_type": "regular"}, result=None, case=None, errors={})


def application_from_form(form: dict) -> dict:
    """APPLICATION.json from the intake form's fields; ValueError naming a bad field (its
    `problems` list every bad field, the application's own checks included)."""
    application, problems = _application_and_problems(form)
    if not problems:
        return application
    error = ValueError(problems[0])
    error.problems = problems  # type: ignore[attr-defined]
    raise error


def _application_and_problems(form: dict) -> tuple[dict, list[str]]:
    # one past the limit is enough for the application's check to refuse the count
    requests = [r.strip() for r in form.get("requests", "").splitlines() if r.strip()][: bounds.MAX_ITEMS + 1]
    guidelines = [g.strip() for g in form.get("guidelines", "").splitlines()]
    problems = []
    if not requests:
        problems.append("requests: list at least one disputed item, one per line")
    form = dict(form)
    for field in ("received", "date_of_injury", "ur_date", "ur_served"):
        try:
            bounds.parse_day(field, form.get(field))  # the one date rule; the model checks the order
        except ValueError as error:
            problems.append(str(error))
            form[field] = ""
    if len(form.get("summary", "")) > bounds.MAX_SUMMARY:
        problems.append(f"summary: at most {bounds.MAX_SUMMARY} characters")
    if not form.get("received") and not any(p.startswith("received:") for p in problems):
        problems.append("received: the date the application was received is required")
    if form.get("attorney_firm") and not form.get("attorney_name"):
        problems.append("attorney.name: name the attorney of the law firm given")
    attorney = ({"name": form["attorney_name"], "firm": form.get("attorney_firm") or None}
                if form.get("attorney_name") else None)
    application: dict[str, Any] = {
        "review_type": "expedited" if form.get("review_type") == "expedited" else "regular",
        "received": form["received"] or None, "signed": bool(form.get("signed")),
        "ur_decision_attached": bool(form.get("ur_decision_attached")),
        "date_of_injury": form.get("date_of_injury") or None,
        "employee": {"name": form.get("employee_name", "")},
        "employer": {"name": form.get("employer", "")},
        "claims_administrator": {"name": form.get("claims_administrator", "")},
        "requesting_physician": {"name": form.get("physician_name", ""),
                                 "specialty": form.get("physician_specialty", "")},
        "attorney": attorney, "parties": [],
        "ur_decision": {"date": form.get("ur_date") or None, "served": form.get("ur_served") or None,
                        "service": "electronic" if form.get("ur_service") == "electronic" else "mail",
                        "missing_information": bool(form.get("missing_information")),
                        "items": [{"request": r, "outcome": "denied",
                                   "guideline": guidelines[i] if i < len(guidelines) else ""}
                                  for i, r in enumerate(requests)]},
        "liability_dispute": bool(form.get("liability_dispute")),
        "formulary_drug": False, "prior_imr_requests": [],
    }
    try:
        parts.check_application(application)
    except ValueError as error:  # the application's own checks, each field once
        named = {FIELD_OF.get(p.split(":")[0], ("",))[0] for p in problems}
        for line in getattr(error, "problems", None) or [str(error)]:
            if plain_problem(line)[0] not in named and not (line.startswith("ur_decision.items") and not requests):
                problems.append(line)
    return application, problems


@router.post("/intake", response_class=HTMLResponse)
async def intake_submit(request: Request, user: Principal = Depends(writer), db: Session = Depends(get_db)):
    """The intake form: refused with each problem beside its field and everything typed kept
    (an uploaded file must be chosen again: browsers never refill a file field)."""
    workflow.require_role(user, "intake", "admin")
    raw = await request.form()
    # kept to one character past the longest field (the summary): a longer field is refused by
    # its own limit, never cut short and accepted (a cut list of requests would lose items)
    form = {k: str(raw.get(k, ""))[: bounds.MAX_SUMMARY + 1] for k in INTAKE_FIELDS}
    try:
        application = application_from_form(form)
        documents = []
        if form["summary"].strip():
            documents.append({"kind": "clinical_summary", "name": "Clinical summary", "date": form["received"],
                              "text": form["summary"].strip()})
        upload = raw.get("record")
        if isinstance(upload, StarletteUpload) and upload.filename:
            name, content, kind = await uploads.read_upload(upload, "record")
            documents.append({"kind": "medical_record", "name": name, "date": form["received"],
                              "text": uploads.upload_text(name, content, kind)})
        case = workflow.create_case(db, user, application, documents)
    except ValueError as error:
        db.rollback()
        errors = intake_problems(error)
        count = len(errors)
        summary = ("The application was not recorded: " + (f"{count} fields need" if count > 1 else "one field needs")
                   + " attention (shown beside each field); what you typed is kept"
                   + (", choose the record file again." if getattr(raw.get("record"), "filename", "") else "."))
        return render(request, "intake.html", user, 422, form=form, result=None, case=None,
                      error=summary, errors=errors)
    db.commit()
    fresh = {"received": date.today().isoformat(), "review_type": "regular"}  # no double entry on resubmit
    return render(request, "intake.html", user, 201, form=fresh, result=case.eligibility, case=case, error="",
                  errors={})


# ---------------------------------------------------------------- panel
def _panel(request: Request, user: Principal, db: Session, status: int = 200, edit: str = "", message: str = "",
           error: str = "", typed: str = "") -> HTMLResponse:
    import json as json_

    from openimr.panel import reviewers as panel_records

    if not user.may_see_reviewers:
        raise AuthError(403, "the panel is not shown to intake users")
    unassigned, _ = workflow.case_queue(db, user, status=lifecycle.sources("assign"), per_page=50)
    panel = workflow.reviewers(db)
    pool = parts.panel_pool(db)  # read once for every waiting case's best match
    record = panel_records.record(db, edit) if edit and user.role == "admin" else None
    editor = typed or (json_.dumps(record.model_dump(mode="json"), indent=2) if record else "")
    return render(request, "panel.html", user, status, reviewers=panel, unassigned=unassigned,
                  show_names=user.role in ("admin", "qa"), editor=editor, message=message, error=error,
                  suggestions={c.id: workflow.rank_reviewers(db, c, panel, pool)[:1] for c in unassigned})


@router.get("/panel", response_class=HTMLResponse)
def panel_page(request: Request, edit: Filter = "", message: Message = "", user: Principal = Depends(current_user),
               db: Session = Depends(get_db)):
    return _panel(request, user, db, edit=edit, message=message)


@router.post("/panel", response_class=HTMLResponse)
def panel_submit(request: Request, record: str = Form("", max_length=200_000), user: Principal = Depends(writer),
                 db: Session = Depends(get_db)):
    """The panel editor (admin): a REVIEWER.json record or a list, added or replaced."""
    import json as json_

    from openimr.web.routes_users import save_reviewers

    workflow.require_role(user, "admin")
    try:
        try:
            data = json_.loads(record)
        except ValueError:
            raise ValueError("record: not valid JSON (a reviewer record or a list of them)") from None
        done = save_reviewers(db, user, data)
    except ValueError as error:
        db.rollback()
        return _panel(request, user, db, 422, error="; ".join(str(error).splitlines()[:5]), typed=record)
    db.commit()
    said = "; ".join(f"{k} {', '.join(v)}" for k, v in done.items() if v)
    return see_other(f"/panel?{urlencode({'message': said[:1].upper() + said[1:]})}")


# ---------------------------------------------------------------- precedents
@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: SearchText = "", decision: Filter = "", guideline: Filter = "", category: Filter = "",
                page: PageNo = 1, similar: SimilarTo = 0, user: Principal = Depends(current_user),
                db: Session = Depends(get_db)):
    page = max(page, 1)
    similar_to = views.similar_to(db, similar) if similar else None
    filters = {"decision": decision, "guideline": guideline, "category": category}
    wanted = library_search.Filters(decision=decision or None, guideline=guideline or None, category=category or None)
    found = library_search.search(db, q[:500], wanted, page, 20)
    base = {"q": q, **{k: v for k, v in filters.items() if v}}
    return render(request, "search.html", user, q=q, filters=filters, hits=found.items, total=found.total,
                  total_exact=found.total_exact, facets=found.facets, page=page, pages=max(1, -(-found.total // 20)),
                  base=base, urlencode=urlencode, Markup=Markup, facet_label=library_search.facet_label,
                  choices=library_search.filter_choices(), similar=similar_to)


@router.get("/letters", response_class=HTMLResponse)
def letters_page(request: Request, page: PageNo = 1, case_number: Filter = "", message: Message = "",
                 user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    page = max(page, 1)
    found = library.list_letters(db, page, 30, case_number)
    return render(request, "letters.html", user, letters=found.items, total=found.total, page=page,
                  pages=max(1, -(-found.total // 30)), case_number=case_number, message=message, error="")


@router.post("/letters", response_class=HTMLResponse)
async def letters_upload(request: Request, file: UploadFile | None = File(None), user: Principal = Depends(writer),
                         db: Session = Depends(get_db)):
    workflow.require_role(user, "admin", "qa")
    try:
        name, content, kind = await uploads.read_upload(file)
        letter = parts.read_letter(content if kind == "pdf" else content.decode("utf-8"), name)
    except ValueError as error:
        found = library.list_letters(db, 1, 30)
        return render(request, "letters.html", user, 422, letters=found.items, total=found.total, page=1,
                      pages=max(1, -(-found.total // 30)), case_number="", message="", error=str(error))
    added = library.add_letter(db, letter, content, name)
    db.commit()
    return see_other(f"/letters/{added.id}")


@router.get("/letters/{letter_id}", response_class=HTMLResponse)
def letter_page(letter_id: LetterId, request: Request, user: Principal = Depends(current_user),
                db: Session = Depends(get_db)):
    letter = library.get_letter(db, letter_id)
    if letter is None:
        raise workflow.NotFound(f"letter {letter_id}: not found")
    return render(request, "letter.html", user, letter=letter, letter_id=letter_id)


@router.get("/analytics", response_class=HTMLResponse)
def analytics_page(request: Request, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    sections = []
    for by, title in (("category", "Overturned rate by treatment category"),
                      ("guideline", "Overturned rate by guideline relied on"),
                      ("month", "Overturned rate by month of decision")):
        rows = [row.model_dump() for row in library_stats.stats(db, by)]
        if by == "month":
            rows = sorted(rows, key=lambda r: r["group"])[-24:]
        sections.append({"by": by, "title": title, "rows": rows, "svg": Markup(charts.rate_chart(rows, title, 24))})
    overall = library_stats.stats(db, "decision")
    return render(request, "analytics.html", user, sections=sections, overall=overall)
