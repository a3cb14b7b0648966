"""A case file on the workbench: uploaded (streamed to disk), indexed in the background by
the command line's own code (casefile.jobs: `index_file` with resume, then `store_documents`
into the one case record and the records-received event), its progress, the documents by
type and date (duplicates linked), the chronology, and a page viewer with the engine's
evidence highlighted on the page it cites."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from openimr.bounds import MAX_CASEFILE_BYTES, MAX_CASEFILE_PAGES
from openimr.cases import record, store
from openimr.web import workflow
from openimr.web.app import current_user, get_db
from openimr.web.auth import Principal
from openimr.web.limits import CaseId, DocumentId, FilePage

api = APIRouter(prefix="/api", tags=["case file"])
pages = APIRouter(include_in_schema=False)
ROLES = ("intake", "admin")
JOB_FIELDS = ("id", "name", "state", "page", "pages", "errors", "error", "documents", "duplicates", "stored",
              "resumed_pages", "bytes", "created_at", "updated_at")


def _jobs(request: Request):
    return request.app.state.casefile_jobs


def job_view(job: dict) -> dict:
    """What the API and the page show of a job (not who sent it, not where it is kept)."""
    return {k: job.get(k) for k in JOB_FIELDS}


def _csrf(request: Request, user: Principal):
    """The CSRF check of an upload: the X-CSRF-Token header now, else the form's csrf_token
    field once the file begins (uploads.stream_casefile)."""
    from openimr.web.app import check_csrf

    if request.headers.get("x-csrf-token") is not None:
        request.state.csrf_given = request.headers["x-csrf-token"]
        check_csrf(request, user)
        return None

    def check(fields: dict) -> None:
        request.state.csrf_given = fields.get("csrf_token")
        check_csrf(request, user)

    return check


async def _upload(request: Request, db: Session, user: Principal, case_id: int):
    """Stream the upload to disk, check it is a case file, queue its indexing: (job, new)."""
    from openimr.casefile.worker import CaseFileError, sniff
    from openimr.web.uploads import stream_casefile

    check = _csrf(request, user)
    case = workflow.load_case(db, user, case_id)
    workflow.require_role(user, *ROLES)
    if case.status not in store.OPEN_STATUSES:
        raise workflow.Conflict(f"case {case.case_number}: status {case.status}: records are taken only "
                                "while the review is open")
    number = case.case_number
    db.commit()  # hand the connection back while the file arrives
    jobs = _jobs(request)
    target = jobs.incoming()
    try:
        name, digest, size = await stream_casefile(request, target, check)
        try:
            kind = sniff(target)
        except CaseFileError as error:
            raise ValueError(f"{name}: {error.reason}") from None
        return jobs.submit(target, number, case_id, name, digest, kind, size, workflow.actor(user))
    finally:
        target.unlink(missing_ok=True)  # moved into the job when submitted


def documents_view(rows) -> list[dict]:
    """The case-file documents by type (the vocabulary's order) and date, duplicates linked."""
    from openimr.casefile.record import is_indexed
    from openimr.casefile.rules import DOCUMENT_TYPES

    order = {t: i for i, t in enumerate(DOCUMENT_TYPES)}
    names = {r.id: r.name for r in rows}
    out = [{"id": r.id, "name": r.name, "type": r.doc_type or "other", "date": r.day, "author": r.author,
            "first_page": r.first_page, "last_page": r.last_page, "scanned": bool(r.scanned),
            "ocr_confidence": r.ocr_confidence, "duplicate_of": r.duplicate_of,
            "duplicate_of_name": names.get(r.duplicate_of) if r.duplicate_of else None}
           for r in rows if is_indexed(r)]
    return sorted(out, key=lambda d: (order.get(d["type"], len(order)), d["date"] or "", d["id"]))


def casefile_view(session: Session, case, docs: list | None = None) -> dict:
    """The indexed documents and their chronology (each event with its document and page);
    `docs` the case's documents when the caller read them already."""
    from openimr.casefile.record import chronology_of

    rows = record.documents(session, case) if docs is None else docs
    read = chronology_of(rows)
    return {"documents": documents_view(rows), "chronology": read["chronology"],
            "documents_reviewed": read["documents_reviewed"], "summary_sentences": read["summary_sentences"]}


# ---------------------------------------------------------------- API
MAX_MB = MAX_CASEFILE_BYTES // (1024 * 1024)
UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {"file": {
        "type": "string", "format": "binary",
        "description": f"the case file: at most {MAX_MB} MB and {MAX_CASEFILE_PAGES:,} pages"}}}}}}


@api.post("/cases/{case_id}/casefile", status_code=202, openapi_extra={"requestBody": UPLOAD_BODY},
          description=f"Upload a case file (PDF, TIFF, PNG or JPEG) of at most {MAX_MB} MB and "
                      f"{MAX_CASEFILE_PAGES:,} pages, streamed to disk and indexed in the background; "
                      "the same file sent again to the same case is the same job. A larger file is "
                      "refused in one line naming it and the limit (422), a file of more pages fails "
                      "its job so, and nothing is stored.")
async def upload_casefile(case_id: CaseId, request: Request, user: Principal = Depends(current_user),
                          db: Session = Depends(get_db)):
    """Upload a case file to be indexed in the background (the body is read by
    uploads.stream_casefile, not by the framework)."""
    job, new = await _upload(request, db, user, case_id)
    return {"job": job_view(job), "new": new, "jobs_url": f"/api/cases/{case_id}/casefile/jobs"}


@api.get("/cases/{case_id}/casefile/jobs")
def casefile_jobs(case_id: CaseId, request: Request, user: Principal = Depends(current_user),
                  db: Session = Depends(get_db)):
    """The case's case-file jobs, oldest first: state, page N of M, errors, documents stored."""
    case = workflow.load_case(db, user, case_id)
    return {"jobs": [job_view(j) for j in _jobs(request).of_case(case.case_number)]}


@api.get("/cases/{case_id}/casefile")
def casefile(case_id: CaseId, user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """The indexed documents by type and date (duplicates linked) and the chronology."""
    case = workflow.load_case(db, user, case_id)
    return casefile_view(db, case)


# ---------------------------------------------------------------- pages
@pages.post("/cases/{case_id}/records/casefile")
async def upload_form(case_id: CaseId, request: Request, user: Principal = Depends(current_user),
                      db: Session = Depends(get_db)):
    from urllib.parse import quote

    from openimr.web.routes_pages import see_other

    job, new = await _upload(request, db, user, case_id)
    said = f"{job['name']}: indexing in the background" if new else f"{job['name']}: sent already ({job['state']})"
    return see_other(f"/cases/{case_id}/records?message={quote(said)}")


def _page_spans(detail: dict, doc_index: int, start: int, end: int) -> tuple[list, list]:
    """The evidence spans on one page (page-local offsets) and the disputed items citing it."""
    spans, items = [], []
    for item in detail["disputed_items"]:
        cited = []
        for criterion in (item["draft"] or {}).get("criteria", []):
            for e in criterion["evidence"]:
                if e.get("document") != doc_index or e.get("start") is None or e.get("end") is None:
                    continue
                if int(e["end"]) <= start or int(e["start"]) >= end:
                    continue
                spans.append((int(e["start"]) - start, int(e["end"]) - start, criterion["criterion"]))
                cited.append({"criterion": criterion["criterion"], "status": criterion["status"],
                              "text": e.get("text", "")})
        items.append({"index": item["index"], "request": item["request"], "cited": cited,
                      "verdict": (item["draft"] or {}).get("criteria_verdict")})
    return spans, items


def _case_page(db: Session, user: Principal, case_id: int, doc_id: int, number: int):
    """(case, its documents, the document's index among them, its pages) for page `number` of
    document `doc_id`: the case as the user may see it (workflow.load_case), else one line."""
    from openimr.casefile.record import pages_of

    case = workflow.load_case(db, user, case_id)
    rows = record.documents(db, case)
    index = next((i for i, r in enumerate(rows) if r.id == doc_id), None)
    if index is None:
        raise workflow.NotFound(f"document {doc_id}: not a document of case {case.case_number}")
    found = {n: (s, e) for n, s, e in pages_of(rows[index].text)}
    if number not in found:
        where = f"pages {min(found)}-{max(found)}" if found else "no numbered pages"
        raise workflow.NotFound(f"page {number}: document {doc_id} has {where}")
    return case, rows, index, found


@pages.get("/cases/{case_id}/documents/{doc_id}/pages/{number}/image")
def page_image(case_id: CaseId, doc_id: DocumentId, number: FilePage, request: Request,
               user: Principal = Depends(current_user), db: Session = Depends(get_db)):
    """The page as it was sent (a PNG: the PDF page drawn, or the scanned image), drawn in the
    bounded worker once and kept; only for a user who may see the case."""
    from openimr.casefile.worker import CaseFileError

    case, _rows, _index, _found = _case_page(db, user, case_id, doc_id, number)
    number_ = case.case_number
    db.commit()  # hand the connection back while the page is drawn
    jobs = _jobs(request)
    job = jobs.job_of_document(number_, doc_id)
    if job is None:
        raise workflow.NotFound(f"document {doc_id}: its case file is no longer kept")
    try:
        path = jobs.page_image(job, number)
    except CaseFileError as error:
        raise workflow.NotFound(f"page {number}: {error.reason}") from None
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@pages.get("/cases/{case_id}/documents/{doc_id}/pages/{number}", response_class=HTMLResponse)
def page_viewer(case_id: CaseId, doc_id: DocumentId, number: FilePage, request: Request, user: Principal = Depends(current_user),
                db: Session = Depends(get_db)):
    """One page of a stored case-file document: its text, the engine's evidence on it
    highlighted, beside the disputed items (and what each cites on this page)."""
    from openimr.web import views
    from openimr.web.routes_pages import render

    case, rows, index, found = _case_page(db, user, case_id, doc_id, number)
    row = rows[index]
    start, end = found[number]
    items: list = []
    spans: list = []
    if user.role != "intake":  # the drafts are for reviewers, QA and admin, as on the case page
        detail = views.case_detail(db, user, case, request.app.state.draft_cache)
        spans, items = _page_spans(detail, index, start, end)
    numbers = sorted(found)
    at = numbers.index(number)
    return render(request, "casefile_page.html", user, case=case, doc=row, number=number,
                  html=Markup(views.highlighted(row.text[start:end], spans)), items=items, marks=len(spans),
                  previous=numbers[at - 1] if at > 0 else None, next=numbers[at + 1] if at + 1 < len(numbers) else None,
                  original=next((r for r in rows if r.id == row.duplicate_of), None),
                  image=_jobs(request).job_of_document(case.case_number, doc_id) is not None)
