"""QA before issue and the notes on a case.

With the setting `qa_before_issue`, a determination the expert reviewer signs waits in the
lifecycle's `qa_review` state; QA (or admin) approves it (`qa_approve`: issued, status
determined) or returns it with a reason (`qa_return`: the signed draft is marked returned,
never issued nor in force; the case goes back to the reviewer, `under_review`, or
`superseding` when it was to supersede an issued letter, which is in force again). The same
act on the same signed draft again changes nothing; any other act the lifecycle refuses
(409, one line).

Notes: QA, admin and the reviewer leave notes on a case; each is an entry of the one audit
log (`note_added`, entity `note`), never a table of its own; the same note sent twice is kept
once. Intake users never see them (the web refuses them the audit and the notes).
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from openimr import bounds
from openimr.cases import audit, lifecycle, store
from openimr.cases.errors import CaseConflict, CaseError
from openimr.cases.record import determinations, in_force
from openimr.cases.tables import AuditRow, DeterminationRow

QA_EVENTS = {"qa_approve": "qa_approved", "qa_return": "qa_returned"}


def _acted(session: Session, case_number: str, det: DeterminationRow) -> str | None:
    """The QA act already made on this signed draft (qa_approve or qa_return), if any."""
    for row in reversed(audit.history(session, case_number)):
        if row.action in QA_EVENTS.values() and json.loads(row.after).get("determination") == det.id:
            return next(a for a, e in QA_EVENTS.items() if e == row.action)
    return None


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise CaseError("reason: say why the signed draft goes back to the reviewer (at least 3 characters)")
    if len(reason) > bounds.MAX_REASON:
        raise CaseError(f"reason: at most {bounds.MAX_REASON} characters")
    return reason


def review(session: Session, case_number: str, action: str, actor: str, role: str = store.CLI_ROLE,
           reason: str = "") -> tuple[dict, bool]:
    """QA's act on the signed draft waiting for it: `qa_approve` issues it, `qa_return` sends
    it back with `reason`. (the case, whether it changed); a repeat changes nothing."""
    if action not in QA_EVENTS:
        raise CaseError(f"action: must be qa_approve or qa_return, not {action!r}")
    if action == "qa_return":
        reason = _reason(reason)
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        newest = next(iter(determinations(s, row)), None)
        if newest is not None and _acted(s, case_number, newest) == action:
            lifecycle.require_role(case_number, action, lifecycle.roles(action), role)
            return store.snapshot(row), False
        lifecycle.transition(case_number, row.status, action, role)  # 409 / 403 before anything changes
        draft = in_force(s, row)
        if draft is None:
            raise CaseConflict(f"case {case_number}: no signed draft waits for QA")
        detail: dict = {"determination": draft.id, "version": draft.version}
        if action == "qa_approve":
            return store.update(s, case_number, action, {}, actor, role, detail=detail), True
        draft.qa_returned = reason
        restored = s.scalar(select(DeterminationRow).where(DeterminationRow.case_id == row.id,
                                                           DeterminationRow.superseded_by == draft.id))
        if restored is not None:  # it was to supersede an issued letter: that one is in force again
            restored.superseded_by, restored.supersede_reason = None, None
            detail["in_force_again"] = restored.id
        s.flush()
        return store.update(s, case_number, action, {"letter": restored.letter if restored else None}, actor, role,
                            detail=detail | {"reason": reason},
                            to="superseding" if restored else "under_review"), True


def approve(session: Session, case_number: str, actor: str, role: str = store.CLI_ROLE) -> tuple[dict, bool]:
    """QA approves the signed draft: it is issued (see `review`)."""
    return review(session, case_number, "qa_approve", actor, role)


def send_back(session: Session, case_number: str, reason: str, actor: str,
              role: str = store.CLI_ROLE) -> tuple[dict, bool]:
    """QA returns the signed draft to the reviewer with the reason (see `review`)."""
    return review(session, case_number, "qa_return", actor, role, reason)


# ---------------------------------------------------------------- notes
def notes(session: Session, case_number: str) -> list[dict]:
    """The notes on a case, oldest first: {seq, at, actor, role, text}."""
    rows = session.scalars(select(AuditRow).where(AuditRow.entity_id == case_number, AuditRow.entity == "note")
                           .order_by(AuditRow.seq))
    return [{"seq": r.seq, "at": r.at, "actor": r.actor} | json.loads(r.after) for r in rows]


def add_note(session: Session, case_number: str, text: str, actor: str, role: str = store.CLI_ROLE) -> tuple[dict, bool]:
    """Leave a note on a case (the lifecycle's `note`: reviewer, QA, admin), an entry of the
    audit log; (the note, whether it was added: the same note again is kept once)."""
    text = (text or "").strip()
    if not text:
        raise CaseError("text: the note is empty")
    if len(text) > bounds.MAX_NOTE:
        raise CaseError(f"text: at most {bounds.MAX_NOTE} characters")
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        event = lifecycle.apply(row, "note", role)  # status stays; who may is the lifecycle file's
        last = next(reversed(notes(s, case_number)), None)
        if last is not None and last["actor"] == actor and last["text"] == text:
            return last, False
        entry = audit.append(s, event, "note", case_number, None, {"role": role, "text": text}, actor)
        return {"seq": entry.seq, "at": entry.at, "actor": actor, "role": role, "text": text}, True
