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

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from openimr.cases import audit as case_audit
from openimr.cases import lifecycle, record
from openimr.cases.store import CaseConflict
from openimr.cases.tables import CaseRow, DecisionRow, DeterminationRow
from openimr.models import DECISIONS
from openimr.panel.assign import assign_action
from openimr.web import parts
from openimr.web.auth import AuthError, Principal
from openimr.web.tables import User

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
    if who.role == "reviewer":  # a reviewer not linked to the panel has no case
        query = query.where(CaseRow.reviewer_id == who.reviewer_key) if who.reviewer_key else query.where(false())
    return query


def is_assigned_to(case: Case, who: Principal) -> bool:
    """Whether the case part names this user as the case's reviewer."""
    return who.reviewer_key is not None and case.reviewer_id == who.reviewer_key


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


def require_assigned_reviewer(case: Case, who: Principal) -> str:
    """Only the reviewer assigned to the case changes its decisions; their reviewer key."""
    key = who.reviewer_key
    if key is None or case.reviewer_id != key:  # is_assigned_to
        raise AuthError(403, "only the expert reviewer assigned to this case can change its decisions")
    return key


# ---------------------------------------------------------------- queue
def case_queue(session: Session, who: Principal, status: str | tuple[str, ...] = "", priority: str = "",
               due: str = "", sort: str = "due", page: int = 1, per_page: int = 25, reviewer: str = ""):
    """(cases, total) for the queue, with filters and sorting; ValueError on a bad option.
    The reviewer filter (a panel reviewer id) is for users who may see reviewers. A read:
    it writes nothing."""
    query = visible_cases_query(who)
    if reviewer:
        if not who.may_see_reviewers:
            raise AuthError(403, "reviewer identities are not shown to intake users")
        query = query.where(CaseRow.reviewer_id == reviewer)
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


def reviewer_names(session: Session) -> dict[str, str]:
    """Names of the panel's reviewers by panel id (only for users allowed to see them)."""
    from openimr.panel import reviewers as panel

    return panel.names(session)


def reviewer_label(case: Case, names: dict[str, str]) -> str | None:
    """Who reviews the case for users allowed to see it: the panel reviewer's name (their id
    when the panel no longer holds them)."""
    if case.reviewer_id is None:
        return None
    return names.get(case.reviewer_id) or f"panel reviewer {case.reviewer_id}"


def case_summary(case: Case, who: Principal, names: dict[str, str]) -> dict:
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
    return session.execute(select(CaseRow).where(CaseRow.case_number == registered["case_number"])).scalar_one()


def add_document(session: Session, who: Principal, case: Case, kind: str, name: str, text: str) -> None:
    """Attach a record to a case (intake and admin)."""
    require_role(who, "intake", "admin")
    record.add_document(session, case.case_number, kind, name, text, actor(who))


# ---------------------------------------------------------------- panel
def reviewers(session: Session) -> list[dict]:
    """The expert reviewer panel (the one registry, `openimr panel add`): each active
    reviewer's licences, specialties, whether they may sign, open-case load and the
    workbench user linked to them (`openimr user add --panel-id`), by panel id."""
    from openimr.panel import reviewers as panel

    load = panel.assigned_load(session)
    users = dict(session.execute(select(User.panel_reviewer_id, User.username)
                                 .where(User.panel_reviewer_id.is_not(None))).all())
    return [parts.registry_entry(r, load.get(r.id, 0)) | {"user": users.get(r.id)} for r in panel.stored(session)]


def rank_reviewers(session: Session, case: Case, panel: list[dict],
                   pool: tuple[list, dict[str, int]] | None = None) -> list[dict]:
    """The panel's reviewers for a case, best first, each with `why` and `eligible`: the
    panel's match decides (licence, certification, experience, practice, specialty,
    conflicts, workload); an excluded reviewer comes last with every reason. Each has every
    check with its result (`checks`); the first also `ranking`, why it is ahead of the second
    (panel.matching.ranking), the last line of its `why`. `pool` (`parts.panel_pool`) when
    ranking several cases: the panel is read once."""
    match = parts.panel_match(session, case.case_number, pool)
    if match is None:
        return []
    by_id = {r["id"]: r for r in panel}
    ranked = [by_id[e["reviewer"]] | {"eligible": True, "why": [f"panel match score {e['score']}", e["why"]],
                                      "checks": e["checks"]}
              for e in match["eligible"] if e["reviewer"] in by_id]
    if ranked and match["ranking"] and ranked[0]["id"] == match["ranking"]["reviewer"]:
        ranked[0]["why"].append(match["ranking"]["text"])  # stored with the assignment of the best
        ranked[0]["ranking"] = match["ranking"]
    ranked += [by_id[e["reviewer"]] | {"eligible": False, "excluded": True, "checks": e["checks"],
                                       "why": ["excluded: " + "; ".join(x["message"] for x in e["reasons"])]}
               for e in match["excluded"] if e["reviewer"] in by_id]
    return ranked


def assign(session: Session, who: Principal, case: Case, reviewer_id: str | None) -> dict:
    """Assign a reviewer of the panel (the best ranked when none is given); admin and QA.
    Only an eligible one (the panel's match); the panel's face refuses anyone who cannot sign."""
    lifecycle.transition(case.case_number, case.status, assign_action(case.status), who.role)  # before ranking
    ranked = rank_reviewers(session, case, reviewers(session))
    chosen: dict | None
    if reviewer_id is None:
        if not ranked or not ranked[0]["eligible"]:
            raise Conflict("no eligible reviewer: " + ("; ".join(ranked[0]["why"]) if ranked else
                                                       "the panel is empty (openimr panel add)"))
        chosen = ranked[0]
    else:
        chosen = next((r for r in ranked if r["id"] == reviewer_id), None)
        if chosen is None:
            raise NotFound(f"reviewer_id: {reviewer_id!r} is not a reviewer on the panel")
        if not chosen["eligible"]:
            raise Conflict(f"reviewer_id: {reviewer_id} cannot review this case: " + "; ".join(chosen["why"]))
    parts.assign(session, case.case_number, chosen["id"], chosen["why"], actor(who), who.role)
    return chosen


# ---------------------------------------------------------------- decisions
def current_decisions(session: Session, case: Case) -> dict[int, DecisionRow]:
    """The decision in force per item index."""
    return record.current_decisions(session, case)


def signed_determination(session: Session, case: Case) -> DeterminationRow | None:
    """The determination in force (signed and not superseded), if any."""
    return record.in_force(session, case)


def record_decision(session: Session, who: Principal, case: Case, index: int, decision: str,
                    guideline: str, rationale: str, accepted_draft: bool = False) -> DecisionRow:
    """Record the reviewer's decision on one item (a new version; earlier ones stay; the same
    decision sent twice makes no second version)."""
    reviewer = require_assigned_reviewer(case, who)
    if not 0 <= index < len(record.disputed_items(case)):
        raise NotFound(f"item {index}: the case has {len(record.disputed_items(case))} disputed item(s)")
    row, _new = record.decide(session, case.case_number, index, decision, guideline, rationale, reviewer,
                              actor(who), who.role, accepted_draft=accepted_draft)
    return row


def accept_draft(session: Session, who: Principal, case: Case, index: int, draft: dict | None) -> DecisionRow:
    """The reviewer accepts the engine's draft of one item as their own decision: its decision,
    guideline and rationale recorded as the reviewer's, the audit entry saying it was accepted.
    409 when the engine has no draft of the item to accept."""
    from openimr.web.views import editor_rationale

    require_assigned_reviewer(case, who)
    if not draft or draft.get("decision") not in DECISIONS:
        raise Conflict(f"item {index + 1}: the engine has no draft of this item to accept; decide it yourself")
    return record_decision(session, who, case, index, draft["decision"], (draft.get("guideline") or "")[:2000],
                           editor_rationale(draft)[:20000] or str(draft.get("rationale", ""))[:20000],
                           accepted_draft=True)


def accepted_items(session: Session, case: Case, trail: list[dict] | None = None) -> set[int]:
    """The items whose decision in force is the engine's draft the reviewer accepted (audit
    log; `trail` the case's `audit_trail` when the caller read it already)."""
    decisions = {d.id: i for i, d in current_decisions(session, case).items()}
    return {decisions[e["detail"]["id"]] for e in (audit_trail(session, case) if trail is None else trail)
            if e["action"] == "decision_recorded" and e["detail"].get("accepted_draft")
            and e["detail"].get("id") in decisions}


# ---------------------------------------------------------------- signing
def sign(session: Session, who: Principal, case: Case, version: int, attest: bool) -> DeterminationRow:
    """Sign and issue the decisions at `version` (the version the reviewer saw): one act
    of the case part (`record.sign`, which asks the panel's registry whether the assigned
    reviewer may sign); 409 when they changed or the case is signed already."""
    require_assigned_reviewer(case, who)
    assert who.reviewer_key is not None  # an assigned reviewer is linked to the panel
    return record.sign(session, case.case_number, version, attest, who.reviewer_key, actor(who),
                       lambda context: parts.render_pdf(context, draft=False), role=who.role)


def start_supersede(session: Session, who: Principal, case: Case, reason: str) -> None:
    """Open a signed case for a superseding determination (assigned clinician, with a reason)."""
    require_assigned_reviewer(case, who)
    if not who.may_sign:  # the panel's registry, as for signing
        raise AuthError(403, "only a reviewer the panel lets sign (active, licensed) can supersede a determination")
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


def draft_letter_pdf(session: Session, who: Principal, case: Case,
                     typed: dict[int, tuple[str, str, str]] | None = None) -> bytes:
    """A DRAFT preview of the letter from the current decisions and what is `typed` over them
    (assigned reviewer), before every item is decided too."""
    require_assigned_reviewer(case, who)
    letter = record.preview_letter(session, case, typed)
    return parts.render_pdf(record.mailing_context(session, case, letter, record.in_force(session, case)), draft=True)[1]
