"""The workbench's case work: who may see and change what, decisions, signing, audit.

Rules: QA and admin see every case; intake sees every case but never who reviews it; a
reviewer sees and changes only the cases assigned to them (403 otherwise). Only the
assigned clinician reviewer signs; a signed determination is never changed, only
superseded by a new version with an audit entry.

The case part's record is the one source of a case's status, dates, eligibility and
reviewer: intake, assignment, signing (determination issued) and superseding are written
through `openimr.cases.store` in the request's own transaction, so the workbench row and
the case part's row are stored (or not) together.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta, timezone

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, contains_eager

from openimr.cases.tables import CaseRow

from openimr.models import Citation, Item, Letter, ReviewerCredentials
from openimr.web import parts
from openimr.web.auth import AuthError, Principal
from openimr.web.tables import AuditEntry, Case, Determination, ReviewerDecision, User, reviewer_key, utcnow

DUE_SOON_DAYS = 3
# the case part's statuses: a determination is pending while eligible, assigned or superseding
OPEN_STATUSES = ("eligible", "assigned", "superseding")
DETERMINED = ("determined", "published")  # the Final Determination was signed and issued
STATUSES = ("eligible", "ineligible", "deferred", "assigned", "superseding", "determined", "published",
            "consolidated")
SORTS = {
    "due": (CaseRow.determination_due.asc().nulls_last(), Case.id),
    "received": (CaseRow.received.desc(), Case.id),
    "priority": (CaseRow.review_type.asc(), CaseRow.determination_due.asc().nulls_last(), Case.id),
    "case_number": (Case.case_number.asc(),),
    "status": (CaseRow.status.asc(), Case.id),
}


class NotFound(Exception):
    """A case, item or determination that does not exist."""


class Conflict(Exception):
    """A request that contradicts the case's state (e.g. signing twice)."""


# ---------------------------------------------------------------- audit
AUDIT_LOCK = 0x0E1A_0D17  # PostgreSQL advisory lock key of the workbench audit chain


def _entry_hash(prev: str, at, user_id, action: str, case_id, detail: dict) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    body = json.dumps([prev, at.astimezone(timezone.utc).isoformat(), user_id, action, case_id, detail],
                      sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def audit(session: Session, who: Principal | None, action: str, case_id: int | None = None, **detail) -> None:
    """Append an audit entry chained to the previous one by SHA-256 (one appender at a time:
    SQLite's write lock, or an advisory lock on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})
    session.flush()  # on SQLite the write lock is taken before the chain's head is read
    last = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    prev = last.hash if last else "0" * 64
    at = utcnow().replace(microsecond=0)
    detail = json.loads(json.dumps(detail, default=str))
    user_id = who.id if who else None
    session.add(AuditEntry(case_id=case_id, user_id=user_id, at=at, action=action, detail=detail, prev_hash=prev,
                           hash=_entry_hash(prev, at, user_id, action, case_id, detail)))


def verify_audit(session: Session) -> list[str]:
    """Problems of the workbench audit chain (a changed, inserted or deleted entry); [] if intact."""
    problems, prev = [], "0" * 64
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.prev_hash != prev:
            problems.append(f"audit entry {entry.id}: does not follow the entry before it (deleted or reordered)")
        if entry.hash != _entry_hash(entry.prev_hash, entry.at, entry.user_id, entry.action, entry.case_id,
                                     entry.detail):
            problems.append(f"audit entry {entry.id}: content changed after it was written")
        prev = entry.hash
    return problems


def audit_trail(session: Session, case_id: int) -> list[AuditEntry]:
    """The audit entries of one case, oldest first."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)))


# ---------------------------------------------------------------- access
def visible_cases_query(who: Principal):
    """The cases this user may see, each joined with the case part's record."""
    query = (select(Case).join(CaseRow, CaseRow.case_number == Case.case_number)
             .options(contains_eager(Case.record)))
    if who.role == "reviewer":
        query = query.where(CaseRow.reviewer_id == who.reviewer_key)
    return query


def is_assigned_to(case: Case, who: Principal) -> bool:
    """Whether the case part names this user as the case's reviewer."""
    return who.role == "reviewer" and case.reviewer_id == who.reviewer_key


def load_case(session: Session, who: Principal, case_id: int) -> Case:
    """A case this user may see: NotFound, or AuthError 403 for a case not theirs."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id}: not found")
    if who.role == "reviewer" and not is_assigned_to(case, who):
        raise AuthError(403, "this case is not assigned to you")
    return case


def require_role(who: Principal, *roles: str) -> None:
    """AuthError 403 unless the user has one of these roles."""
    if who.role not in roles:
        raise AuthError(403, f"this needs the role {' or '.join(roles)}; you are {who.role}")


def require_assigned_reviewer(case: Case, who: Principal) -> None:
    """Only the reviewer assigned to the case changes its decisions."""
    if not is_assigned_to(case, who):
        raise AuthError(403, "only the expert reviewer assigned to this case can change its decisions")


# ---------------------------------------------------------------- queue
def case_queue(session: Session, who: Principal, status: str = "", priority: str = "",
               due: str = "", sort: str = "due", page: int = 1, per_page: int = 25, reviewer: int | None = None):
    """(cases, total) for the queue, with filters and sorting; ValueError on a bad option.
    The reviewer filter is for users who may see reviewers. Cases the case part registered
    without the workbench are adopted first (`adopt_registered_cases`)."""
    adopt_registered_cases(session)
    query = visible_cases_query(who)
    if reviewer is not None:
        if not who.may_see_reviewers:
            raise AuthError(403, "reviewer identities are not shown to intake users")
        user = session.get(User, reviewer)
        query = query.where(CaseRow.reviewer_id == (reviewer_key(user.id, user.panel_reviewer_id) if user else None))
    if status:
        query = query.where(CaseRow.status == status)
    if priority == "expedited":
        query = query.where(CaseRow.review_type == "expedited")
    elif priority:
        query = query.where(CaseRow.review_type != "expedited")
    today = date.today()
    if due == "overdue":
        query = query.where(CaseRow.determination_due < today, CaseRow.status.in_(OPEN_STATUSES))
    elif due == "soon":
        query = query.where(CaseRow.determination_due.between(today, today + timedelta(days=DUE_SOON_DAYS)),
                            CaseRow.status.in_(OPEN_STATUSES))
    elif due:
        raise ValueError("due: must be overdue or soon")
    if sort not in SORTS:
        raise ValueError(f"sort: must be one of {', '.join(SORTS)}")
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*SORTS[sort]).offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def reviewer_names(session: Session) -> dict[int | str, str]:
    """Display names of reviewers (only for users allowed to see them), by user id and by
    the case part's reviewer id of that user (`reviewer_key`)."""
    names: dict[int | str, str] = {}
    for uid, pid, name in session.execute(select(User.id, User.panel_reviewer_id, User.display_name)
                                          .where(User.role == "reviewer")):
        names[uid] = names[reviewer_key(uid, pid)] = name
    return names


def reviewer_label(case: Case, names: dict) -> str | None:
    """Who reviews the case for users allowed to see it: the workbench user's name, or the
    panel reviewer's id when no workbench user is linked to them."""
    if case.reviewer_id is None:
        return None
    return names.get(case.reviewer_id) or f"panel reviewer {case.reviewer_id}"


def case_summary(case: Case, who: Principal, names: dict[int, str]) -> dict:
    """The queue row of a case; the reviewer's name only for users allowed to see it."""
    today = date.today()
    open_ = case.status in OPEN_STATUSES
    due = case.determination_due
    return {
        "id": case.id,
        "case_number": case.case_number,
        "status": case.status,
        "priority": case.priority,
        "received": case.received,
        "determination_due": due,
        "overdue": bool(open_ and due and due < today),
        "due_soon": bool(open_ and due and today <= due <= today + timedelta(days=DUE_SOON_DAYS)),
        "items": len(case.items or []),
        "assigned": case.reviewer_id is not None,
        "assigned_reviewer": reviewer_label(case, names) if who.may_see_reviewers else None,
    }


# ---------------------------------------------------------------- adoption
_adopted_upto: dict[str, int] = {}  # per database: every imr_cases id up to this one has a workbench row


def _unadopted(upto: int):
    """The case part's cases above id `upto` that have no workbench row."""
    has_row = select(Case.id).where(Case.case_number == CaseRow.case_number).exists()
    return select(CaseRow).where(CaseRow.id > upto, ~has_row).order_by(CaseRow.id)


def adopt_registered_cases(session: Session) -> int:
    """Give each case registered with the case part alone (`openimr case new`) its workbench
    row: no documents, the disputed items of the stored application's UR decision, as web
    intake records them. One transaction, committed here, with a `case.adopted` audit entry
    per case (by the system: no user); returns how many were adopted (0 without writing when none is missing).

    Case-creating transactions hold the case part's audit lock from before the new row's id
    is drawn until they commit; this one takes that lock before looking again, so every id
    up to the largest seen is committed and the next look starts above it.
    """
    from openimr.cases import audit as case_audit

    key = str(session.get_bind().url)
    upto = _adopted_upto.get(key, 0)
    newest = session.scalar(select(func.max(CaseRow.id))) or 0
    if newest <= upto:
        return 0
    if session.scalar(_unadopted(upto).with_only_columns(CaseRow.id).limit(1)) is None:
        _adopted_upto[key] = max(_adopted_upto.get(key, 0), newest)  # nothing missing up to a committed id
        return 0
    case_audit.lock(session)  # the case part's lock first, as every workbench write takes it
    newest = session.scalar(select(func.max(CaseRow.id))) or 0
    rows = session.scalars(_unadopted(upto)).all()
    for row in rows:
        case = add_workbench_row(session, row.case_number, [], items_of(json.loads(row.application)))
        # the system adopts the case, not the user whose queue request happened to find it
        audit(session, None, "case.adopted", case.id, case_number=row.case_number, items=len(case.items),
              source="case part (registered without the workbench)")
    session.commit()
    _adopted_upto[key] = max(_adopted_upto.get(key, 0), newest)
    return len(rows)


# ---------------------------------------------------------------- intake
def items_of(application: dict) -> list[dict]:
    """The disputed items as the workbench works them, from an application's UR decision."""
    ur = application.get("ur_decision") or {}
    return [{"request": i.get("request", ""), "ur_guideline": i.get("guideline", "") or "",
             "outcome": i.get("outcome", "denied")} for i in ur.get("items", [])]


def create_case(session: Session, who: Principal, application: dict, documents: list[dict]) -> Case:
    """Record a new application with its eligibility result; intake and admin only.

    The case part stores the application (its number, status, reasons and deadlines) and the
    workbench row follows in the same transaction: the caller's commit stores both, and
    any failure before it leaves neither. ValueError (field: reason) on a bad application.
    """
    require_role(who, "intake", "admin")
    registered = parts.register_case(session, application, f"web:{who.username}")
    case = add_workbench_row(session, registered["case_number"], documents, items_of(application))
    audit(session, who, "case.created", case.id, eligible=case.eligibility["eligible"],
          reasons=[r["code"] for r in registered["reasons"]])
    return case


def add_workbench_row(session: Session, case_number: str, documents: list[dict], items: list[dict]) -> Case:
    """The workbench's row of a case the case part has just stored (same transaction)."""
    case = Case(case_number=case_number, documents=documents, items=items, assignment={},
                created_at=utcnow(), updated_at=utcnow())
    session.add(case)
    session.flush()
    return case


def add_document(session: Session, who: Principal, case: Case, kind: str, name: str, text: str) -> None:
    """Attach a record to a case (intake and admin)."""
    require_role(who, "intake", "admin")
    case.documents = [*case.documents, {"kind": kind, "name": name[:200], "date": date.today().isoformat(),
                                        "text": text}]
    case.updated_at = utcnow()
    audit(session, who, "document.added", case.id, name=name[:200], kind=kind, chars=len(text))


# ---------------------------------------------------------------- panel
def reviewers(session: Session) -> list[dict]:
    """Reviewers with credentials and open-case load (the case part's open cases per reviewer)."""
    load = dict(session.execute(
        select(CaseRow.reviewer_id, func.count()).where(CaseRow.status.in_(OPEN_STATUSES))
        .group_by(CaseRow.reviewer_id)).all())
    rows = session.scalars(select(User).where(User.role == "reviewer", User.active.is_(True)).order_by(User.id))
    return [{"id": u.id, "name": u.display_name, "clinician": u.clinician, "licensure": u.licensure,
             "specialties": u.specialties, "open_cases": load.get(reviewer_key(u.id, u.panel_reviewer_id), 0),
             "panel_reviewer_id": u.panel_reviewer_id} for u in rows]


def match_explanation(case: Case, reviewer: dict) -> list[str]:
    """Why a reviewer fits (or not) this case when the panel part has no say: clinician,
    specialties, load."""
    why = ["clinician: may sign medical-necessity determinations" if reviewer["clinician"]
           else "not a clinician: cannot sign"]
    why.append("specialties: " + (", ".join(reviewer["specialties"]) or "none recorded"))
    why.append(f"current load: {reviewer['open_cases']} open case(s)")
    return why


def rank_reviewers(case: Case, panel: list[dict], url: str | None = None) -> list[dict]:
    """Reviewers for a case, best first, each with `why` and `eligible`.

    With the panel part and reviewers linked to it (`openimr user add --panel-id`), the
    panel's match decides: licence, certification, experience, practice, specialty,
    conflicts and workload. Otherwise clinicians first, then the lightest load.
    """
    match = parts.panel_match(url, case.case_number) if url else None
    if match is None:
        ranked = sorted(panel, key=lambda r: (not r["clinician"], r["open_cases"], r["id"]))
        return [{**r, "why": match_explanation(case, r), "eligible": r["clinician"]} for r in ranked]
    order = {e["reviewer"]: (n, e) for n, e in enumerate(match["eligible"])}
    excluded = {e["reviewer"]: e for e in match["excluded"]}
    out = []
    for r in panel:
        pid = r.get("panel_reviewer_id")
        if pid in order:
            entry = order[pid][1]
            out.append({**r, "eligible": r["clinician"], "rank": order[pid][0],
                        "why": [f"panel match score {entry['score']}", entry["why"]]})
        elif pid in excluded:
            out.append({**r, "eligible": False, "excluded": True, "rank": 10_000,
                        "why": ["excluded: " + "; ".join(x["message"] for x in excluded[pid]["reasons"])]})
        else:
            out.append({**r, "eligible": False, "rank": 20_000,
                        "why": ["not linked to the panel (openimr user add --panel-id)"] + match_explanation(case, r)})
    return sorted(out, key=lambda r: (r["rank"], not r["clinician"], r["open_cases"], r["id"]))


def assign(session: Session, who: Principal, case: Case, reviewer_id: int | None) -> dict:
    """Assign a reviewer (the best ranked when none is given); admin and QA only."""
    require_role(who, "admin", "qa")
    if case.status in (*DETERMINED, "ineligible", "deferred", "superseding", "consolidated"):
        raise Conflict(f"case {case.case_number}: cannot assign a {case.status} case")
    from openimr.web.precedents import session_url

    url = session_url(session)
    ranked = rank_reviewers(case, reviewers(session), url)
    if reviewer_id is None:
        if not ranked or not ranked[0]["eligible"]:
            raise Conflict("no eligible reviewer: " + ("; ".join(ranked[0]["why"]) if ranked else "the panel is empty"))
        chosen = ranked[0]
    else:
        chosen = next((r for r in ranked if r["id"] == reviewer_id), None)
        if chosen is None:
            raise NotFound(f"reviewer_id: {reviewer_id} is not a reviewer on the panel")
        if chosen.get("excluded"):
            raise Conflict(f"reviewer_id: {reviewer_id} cannot review this case: " + "; ".join(chosen["why"]))
    changes = parts.assignment_changes(url, chosen.get("panel_reviewer_id"),
                                       reviewer_key(chosen["id"], chosen.get("panel_reviewer_id")))
    before = case.reviewer_id
    parts.update_case(session, case.case_number, "assign", changes, f"web:{who.username}")
    case.assignment = {"why": chosen["why"], "at": utcnow().isoformat()}
    case.updated_at = utcnow()
    audit(session, who, "case.assigned", case.id, before=before, after=chosen["id"])
    return chosen


# ---------------------------------------------------------------- decisions
def current_decisions(session: Session, case_id: int) -> dict[int, ReviewerDecision]:
    """The newest reviewer decision per item index."""
    rows = session.scalars(select(ReviewerDecision).where(ReviewerDecision.case_id == case_id)
                           .order_by(ReviewerDecision.id))
    return {row.item_index: row for row in rows}


def signed_determination(session: Session, case_id: int) -> Determination | None:
    """The determination in force (signed and not superseded), if any."""
    return session.scalar(select(Determination).where(Determination.case_id == case_id,
                                                      Determination.superseded_by.is_(None)))


def record_decision(session: Session, who: Principal, case: Case, index: int, decision: str,
                    guideline: str, rationale: str) -> ReviewerDecision:
    """Record the reviewer's decision on one item (a new row; earlier ones stay)."""
    require_assigned_reviewer(case, who)
    if not 0 <= index < len(case.items):
        raise NotFound(f"item {index}: the case has {len(case.items)} disputed item(s)")
    if case.status in DETERMINED:
        raise Conflict("the determination is signed: it cannot be changed, only superseded")
    if decision not in ("Upheld", "Overturned"):
        raise ValueError("decision: must be Upheld or Overturned")
    row = ReviewerDecision(case_id=case.id, item_index=index, decision=decision, guideline=guideline.strip(),
                           rationale=rationale.strip(), author_id=who.id, created_at=utcnow())
    session.add(row)
    case.updated_at = utcnow()
    session.flush()
    audit(session, who, "decision.recorded", case.id, item=index, decision=decision, decision_id=row.id)
    return row


# ---------------------------------------------------------------- signing
def determination_letter(session: Session, case: Case, signer: User) -> Letter:
    """The Final Determination letter from the reviewer's decisions (never the reviewer's name)."""
    decisions = current_decisions(session, case.id)
    missing = [i + 1 for i in range(len(case.items)) if i not in decisions or not decisions[i].rationale]
    if missing:
        raise Conflict("every disputed item needs a decision and a rationale before signing; missing: item "
                       + ", ".join(map(str, missing)))
    items = []
    for index, item in enumerate(case.items):
        d = decisions[index]
        items.append(Item(request=item["request"], decision=d.decision, medically_necessary=d.decision == "Overturned",
                          claims_administrator_guideline=Citation(text=item.get("ur_guideline", "")),
                          imr_guideline=Citation(text=d.guideline), rationale=d.rationale))
    summary = next((doc["text"] for doc in case.documents if doc.get("kind") == "clinical_summary"), "")
    block = case.record.credentials  # the panel's credentials block for the assigned reviewer
    credentials = ReviewerCredentials.model_validate_json(block) if block else ReviewerCredentials(
        licensure=signer.licensure, specialties=signer.specialties,
        statement="The expert reviewer is a licensed clinician who reviewed the records and decided each "
                  "disputed item.")
    return Letter(
        layout="L2016",
        case_number=case.case_number,
        date_assigned=parts._as_date((case.assignment or {}).get("at", "")[:10]),
        date_of_injury=case.date_of_injury,
        decision_date=date.today(),
        ur_denial_date=case.ur_denial_date,
        application_received=case.received,
        priority=case.priority if case.priority in ("standard", "expedited") else None,
        reviewer=credentials,
        documents_reviewed=[doc["name"] for doc in case.documents],
        clinical_case_summary=summary,
        items=items,
    )


def sign(session: Session, who: Principal, case: Case) -> Determination:
    """Sign and issue: render the letter to PDF and store it, never to be changed.

    When a determination is already in force the case must be superseding (see
    `start_supersede`); the new version then supersedes the old one, with an audit entry.
    """
    require_assigned_reviewer(case, who)
    if not who.clinician:
        raise AuthError(403, "only a clinician reviewer can sign a determination")
    previous = signed_determination(session, case.id)
    if case.status in DETERMINED or (previous is not None and case.status != "superseding"):
        raise Conflict("the determination is signed: it cannot be changed, only superseded")
    signer = session.get(User, who.id)
    letter = determination_letter(session, case, signer)
    pdf = parts.render_pdf(letter, draft=False)
    parts.attach_letter(session, case.case_number, letter, f"web:{who.username}")  # status: determined
    version = (session.scalar(select(func.max(Determination.version))
                              .where(Determination.case_id == case.id)) or 0) + 1
    row = Determination(case_id=case.id, version=version, letter=letter.model_dump(mode="json"), pdf=pdf,
                        pdf_sha256=hashlib.sha256(pdf).hexdigest(), signed_by=who.id, signed_at=utcnow())
    session.add(row)
    session.flush()
    if previous is not None:
        reason = (case.assignment or {}).get("supersede_reason", "")
        previous.superseded_by = row.id
        previous.supersede_reason = reason
        audit(session, who, "determination.superseded", case.id, old=previous.id, new=row.id, reason=reason)
    case.updated_at = utcnow()
    audit(session, who, "determination.signed", case.id, determination=row.id, version=version,
          pdf_sha256=row.pdf_sha256)
    return row


def start_supersede(session: Session, who: Principal, case: Case, reason: str) -> None:
    """Open a signed case for a superseding determination (assigned clinician, with a reason)."""
    require_assigned_reviewer(case, who)
    if not who.clinician:
        raise AuthError(403, "only a clinician reviewer can supersede a determination")
    if case.status not in DETERMINED:
        raise Conflict(f"case {case.case_number}: only a signed determination can be superseded")
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValueError("reason: say why the determination is superseded")
    parts.update_case(session, case.case_number, "supersede_started", {"status": "superseding"},
                      f"web:{who.username}")
    case.assignment = {**(case.assignment or {}), "supersede_reason": reason}
    case.updated_at = utcnow()
    audit(session, who, "determination.supersede_started", case.id, reason=reason)


def draft_letter_pdf(session: Session, who: Principal, case: Case) -> bytes:
    """A DRAFT preview of the letter from the current decisions (assigned reviewer)."""
    require_assigned_reviewer(case, who)
    signer = session.get(User, who.id)
    return parts.render_pdf(determination_letter(session, case, signer), draft=True)
