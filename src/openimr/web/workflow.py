"""The workbench's case work: who may see and change what; the rest is the case part's.

Rules: QA and admin see every case; intake sees every case but never who reviews it; a
reviewer sees and changes only the cases assigned to them (403 otherwise). Only the
assigned clinician reviewer signs; a signed determination is never changed, only
superseded by a new version with an audit entry.

A case is the case part's one record (`openimr.cases.tables.CaseRow`, its documents,
decisions and determinations): intake, documents, decisions, assignment, signing and
superseding are written through `openimr.cases` in the request's own transaction, each with
its entry in the one audit log (`openimr.cases.audit`).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openimr.cases import audit as case_audit
from openimr.cases import lifecycle, record
from openimr.cases.store import CaseConflict
from openimr.cases.tables import CaseRow, DecisionRow, DeterminationRow
from openimr.models import ReviewerCredentials
from openimr.web import parts
from openimr.web.auth import AuthError, Principal
from openimr.web.tables import User, reviewer_key, utcnow

DUE_SOON_DAYS = 3
# the statuses are the case lifecycle's (cases/data/lifecycle.yaml)
OPEN_STATUSES = lifecycle.states("open")  # a determination is pending
DETERMINED = lifecycle.states("signed")  # a Final Determination is in force
STATUSES = lifecycle.states()
SORTS = {
    "due": (CaseRow.determination_due.asc().nulls_last(), CaseRow.id),
    "received": (CaseRow.received.desc(), CaseRow.id),
    "priority": (CaseRow.review_type.asc(), CaseRow.determination_due.asc().nulls_last(), CaseRow.id),
    "case_number": (CaseRow.case_number.asc(),),
    "status": (CaseRow.status.asc(), CaseRow.id),
}
Case = CaseRow  # the workbench works on the case part's record


class NotFound(Exception):
    """A case, item or determination that does not exist."""


Conflict = CaseConflict  # a request that contradicts the case's state (409)


def actor(who: Principal | None) -> str:
    """The audit log's actor of a workbench user."""
    return f"web:{who.username}" if who else "system"


def audit_trail(session: Session, case: Case) -> list[dict]:
    """The audit entries of one case (its documents, decisions and determinations too),
    oldest first: {seq, at, actor, action, detail}."""
    return [{"id": r.seq, "seq": r.seq, "at": datetime.fromisoformat(r.at), "actor": r.actor, "action": r.action,
             "detail": json.loads(r.after) if r.after else {}}
            for r in case_audit.history(session, case.case_number)]


# ---------------------------------------------------------------- access
def visible_cases_query(who: Principal):
    """The cases this user may see."""
    query = select(CaseRow)
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
def case_queue(session: Session, who: Principal, status: str | tuple[str, ...] = "", priority: str = "",
               due: str = "", sort: str = "due", page: int = 1, per_page: int = 25, reviewer: int | None = None):
    """(cases, total) for the queue, with filters and sorting; ValueError on a bad option.
    The reviewer filter is for users who may see reviewers. A read: it writes nothing."""
    query = visible_cases_query(who)
    if reviewer is not None:
        if not who.may_see_reviewers:
            raise AuthError(403, "reviewer identities are not shown to intake users")
        user = session.get(User, reviewer)
        query = query.where(CaseRow.reviewer_id == (reviewer_key(user.id, user.panel_reviewer_id) if user else None))
    if isinstance(status, tuple):
        query = query.where(CaseRow.status.in_(status))
    elif status:
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
        "items": len(record.disputed_items(case)),
        "assigned": case.reviewer_id is not None,
        "assigned_reviewer": reviewer_label(case, names) if who.may_see_reviewers else None,
    }


# ---------------------------------------------------------------- intake
def create_case(session: Session, who: Principal, application: dict, documents: list[dict]) -> Case:
    """Record a new application with its eligibility result and its documents; intake and
    admin only (the lifecycle's `register`). One transaction (the caller commits);
    ValueError (field: reason) on a bad application."""
    registered = parts.register_case(session, application, actor(who), who.role)
    for doc in documents:
        record.add_document(session, registered["case_number"], doc.get("kind", "medical_record"),
                            doc.get("name", "document"), doc.get("text", ""), actor(who), doc.get("date"),
                            doc.get("source_case_number"))
    return session.scalar(select(CaseRow).where(CaseRow.case_number == registered["case_number"]))


def add_document(session: Session, who: Principal, case: Case, kind: str, name: str, text: str) -> None:
    """Attach a record to a case (intake and admin)."""
    require_role(who, "intake", "admin")
    record.add_document(session, case.case_number, kind, name, text, actor(who))


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


def rank_reviewers(session: Session, case: Case, panel: list[dict]) -> list[dict]:
    """Reviewers for a case, best first, each with `why` and `eligible`.

    With the panel part and reviewers linked to it (`openimr user add --panel-id`), the
    panel's match decides: licence, certification, experience, practice, specialty,
    conflicts and workload. Otherwise clinicians first, then the lightest load.
    """
    match = parts.panel_match(session, case.case_number)
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
    action = "reassign" if case.status in lifecycle.sources("reassign") else "assign"
    lifecycle.transition(case.case_number, case.status, action, who.role)  # refused before ranking
    ranked = rank_reviewers(session, case, reviewers(session))
    if reviewer_id is None:
        if not ranked or not ranked[0]["eligible"]:
            raise Conflict("no eligible reviewer: " + ("; ".join(ranked[0]["why"]) if ranked else "the panel is empty"))
        chosen = ranked[0]
    else:
        chosen = next((r for r in ranked if r["id"] == reviewer_id), None)
        if chosen is None:
            raise NotFound(f"reviewer_id: {reviewer_id} is not a reviewer on the panel")
        if not chosen["eligible"]:  # excluded by the panel, or not a clinician: could not sign it
            raise Conflict(f"reviewer_id: {reviewer_id} cannot review this case: " + "; ".join(chosen["why"]))
    changes = parts.assignment_changes(session, chosen.get("panel_reviewer_id"),
                                       reviewer_key(chosen["id"], chosen.get("panel_reviewer_id")))
    changes["assignment"] = json.dumps({"why": chosen["why"], "at": utcnow().isoformat()})
    parts.update_case(session, case.case_number, action, changes, actor(who), who.role)
    return chosen


# ---------------------------------------------------------------- decisions
def current_decisions(session: Session, case: Case) -> dict[int, DecisionRow]:
    """The decision in force per item index."""
    return record.current_decisions(session, case)


def signed_determination(session: Session, case: Case) -> DeterminationRow | None:
    """The determination in force (signed and not superseded), if any."""
    return record.in_force(session, case)


def record_decision(session: Session, who: Principal, case: Case, index: int, decision: str,
                    guideline: str, rationale: str) -> DecisionRow:
    """Record the reviewer's decision on one item (a new version; earlier ones stay; the same
    decision sent twice makes no second version)."""
    require_assigned_reviewer(case, who)
    if not 0 <= index < len(record.disputed_items(case)):
        raise NotFound(f"item {index}: the case has {len(record.disputed_items(case))} disputed item(s)")
    row, _new = record.decide(session, case.case_number, index, decision, guideline, rationale, who.reviewer_key,
                              actor(who), who.role)
    return row


# ---------------------------------------------------------------- signing
def fallback_credentials(session: Session, who: Principal) -> ReviewerCredentials:
    """The credentials block of a signer the panel does not hold (never the name)."""
    signer = session.get(User, who.id)
    return ReviewerCredentials(licensure=signer.licensure, specialties=signer.specialties,
                               statement="The expert reviewer is a licensed clinician who reviewed the records "
                                         "and decided each disputed item.")


def sign(session: Session, who: Principal, case: Case, version: int, attest: bool) -> DeterminationRow:
    """Sign and issue the decisions at `version` (the version the reviewer saw): one act
    of the case part (`record.sign`); 409 when they changed or the case is signed already."""
    require_assigned_reviewer(case, who)
    if not who.clinician:
        raise AuthError(403, "only a clinician reviewer can sign a determination")
    return record.sign(session, case.case_number, version, attest, who.reviewer_key, actor(who),
                       lambda context: parts.render_pdf(context, draft=False), fallback_credentials(session, who),
                       who.role)


def start_supersede(session: Session, who: Principal, case: Case, reason: str) -> None:
    """Open a signed case for a superseding determination (assigned clinician, with a reason)."""
    require_assigned_reviewer(case, who)
    if not who.clinician:
        raise AuthError(403, "only a clinician reviewer can supersede a determination")
    record.start_supersede(session, case.case_number, reason, actor(who), who.role)


# ---------------------------------------------------------------- withdraw, terminate, appeal
def closing_actions(case: Case, who: Principal) -> list[str]:
    """The actions of `record.CLOSING` this user may make on the case now (the lifecycle's say)."""
    return [a for a in record.CLOSING if lifecycle.allowed(case.status, a, who.role)]


def close_case(session: Session, who: Principal, case: Case, action: str, reason: str) -> bool:
    """Withdraw, terminate or appeal (who may: the lifecycle file); whether it changed
    anything (a repeated request does not). 409 from a status that does not allow it."""
    _case, changed = record.close(session, case.case_number, action, reason, actor(who), who.role)
    return changed


def draft_letter_pdf(session: Session, who: Principal, case: Case) -> bytes:
    """A DRAFT preview of the letter from the current decisions (assigned reviewer)."""
    require_assigned_reviewer(case, who)
    letter = record.letter_of(session, case, case.decisions_version, fallback_credentials(session, who))
    return parts.render_pdf(record.mailing_context(session, case, letter, record.in_force(session, case)), draft=True)[1]
