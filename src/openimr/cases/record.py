"""The one record of a case and the work done on it: its documents, the expert reviewer's
decisions (append-only versions) and the Final Determination, signed as one act.

Every function takes the caller's session and writes in its transaction, the audit log's
lock first (`store.writing`), so concurrent requests on a case run one after the other and
each sees what the one before it committed. Each change is entered in the audit log with the
digest of what it stored (`audit.decision_digest`, `audit.document_digest`, the PDF's
SHA-256).

Signing takes the decisions as they stand at one version (`CaseRow.decisions_version`, +1 on
every decision) and refuses (CaseConflict) when they changed since the reviewer saw them,
when the case is already signed, or when it is not open for signing; a later change needs a
superseding determination (`start_supersede`, then decide and sign again).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from openimr import bounds
from openimr.cases import audit, lifecycle, store
from openimr.cases.errors import CaseConflict, CaseError
from openimr.cases.tables import CaseRow, DecisionRow, DeterminationRow, DocumentRow
from openimr.models import (
    Citation,
    Decision,
    DocumentReviewed,
    Item,
    Letter,
    LetterContext,
    Parties,
    ReviewerCredentials,
    Supersedes,
    decision_of,
)

DOCUMENT_KINDS = ("clinical_summary", "medical_record", "ur_decision")
# what the case file's index keeps of a document (imr_documents' columns, cases_0003)
INDEX_FIELDS = ("doc_type", "author", "first_page", "last_page", "scanned", "ocr_confidence", "duplicate_of")
SIGNED = lifecycle.states("signed")  # a Final Determination is in force
# the actions that end a case or reopen its determination for appeal, each with its reason
CLOSING = ("withdraw", "terminate", "appeal")
ATTESTATION = ("I, the expert reviewer assigned to this case, reviewed the records of the case and decided "
               "each disputed item myself; the letter states my decisions.")


def _now() -> datetime:
    return datetime.now(UTC)


def disputed_items(row: CaseRow) -> list[dict]:
    """The disputed items of a case, from its application's UR decision: request, the
    guideline UR cited, and UR's outcome."""
    ur = json.loads(row.application).get("ur_decision") or {}
    return [{"request": i.get("request", ""), "ur_guideline": i.get("guideline", "") or "",
             "outcome": i.get("outcome", "denied")} for i in ur.get("items", [])]


def assignment_of(row: CaseRow) -> dict:
    """The assignment's explanation ({"why", "at"}) and a pending supersede reason."""
    return json.loads(row.assignment or "{}")


# ---------------------------------------------------------------- documents
def documents(session: Session, row: CaseRow) -> list[DocumentRow]:
    """The case's documents in the order they were added."""
    return list(session.scalars(select(DocumentRow).where(DocumentRow.case_id == row.id).order_by(DocumentRow.id)))


def reviewed(docs: list[DocumentRow]) -> list[DocumentRow]:
    """The documents that count (in the documents reviewed, the summary, the engine's
    reading): a duplicate of another one of the case is kept, linked, but never counted again."""
    return [d for d in docs if d.duplicate_of is None]


def add_document(session: Session, case_number: str, kind: str, name: str, text: str, actor: str,
                 day: str | None = None, source_case_number: str | None = None,
                 index: dict | None = None) -> DocumentRow:
    """Add a record to a case, entered in the audit log with its SHA-256. `index` is what the
    case file's index read of it (any of INDEX_FIELDS: doc_type, author, first_page, last_page,
    scanned, ocr_confidence, duplicate_of, the id of a document of the same case it copies)."""
    if kind not in DOCUMENT_KINDS:
        raise CaseError(f"kind: must be {', '.join(DOCUMENT_KINDS[:-1])} or {DOCUMENT_KINDS[-1]}")
    try:
        day = (bounds.parse_day("date", day) or date.today()).isoformat()  # the one date rule
    except ValueError as error:
        raise CaseError(str(error)) from None
    index = dict(index or {})
    unknown = sorted(set(index) - set(INDEX_FIELDS))
    if unknown:
        raise CaseError(f"index: unknown field {unknown[0]!r} (expected {', '.join(INDEX_FIELDS)})")
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        original = index.get("duplicate_of")
        if original is not None and s.scalar(select(DocumentRow.id).where(
                DocumentRow.id == original, DocumentRow.case_id == row.id)) is None:
            raise CaseError(f"duplicate_of: document {original} is not a document of case {case_number}")
        doc = DocumentRow(case_id=row.id, kind=kind, name=name[:200], day=day or date.today().isoformat(), text=text,
                          source_case_number=source_case_number, sha256="", added_at=_now().isoformat(),
                          **{k: (str(v)[:200] if k == "author" and v is not None else v) for k, v in index.items()})
        doc.sha256 = audit.document_digest(doc)
        s.add(doc)
        s.flush()
        audit.append(s, "document_added", "document", row.case_number, None,
                     {"id": doc.id, "kind": kind, "name": doc.name, "chars": len(text), "sha256": doc.sha256,
                      **{k: v for k, v in index.items() if k != "author"}}, actor)
        return doc


# ---------------------------------------------------------------- decisions
def current_decisions(session: Session, row: CaseRow, version: int | None = None) -> dict[int, DecisionRow]:
    """The decision in force per item index: the newest one, up to `version` if given. Only
    those rows are read (one per item), however many versions the case's history holds."""
    newest = select(DecisionRow.item_index, func.max(DecisionRow.version).label("version")).where(
        DecisionRow.case_id == row.id)
    if version is not None:
        newest = newest.where(DecisionRow.version <= version)
    last = newest.group_by(DecisionRow.item_index).subquery()
    query = select(DecisionRow).join(last, and_(DecisionRow.item_index == last.c.item_index,
                                                DecisionRow.version == last.c.version))
    return {d.item_index: d for d in session.scalars(query.where(DecisionRow.case_id == row.id))}


def decide(session: Session, case_number: str, index: int, decision: str, guideline: str, rationale: str,
           author: str, actor: str, role: str = "reviewer", accepted_draft: bool = False) -> tuple[DecisionRow, bool]:
    """Record the expert reviewer's decision on one disputed item as a new version of the
    case's decisions; (the decision in force, whether a new version was made). The same
    decision sent twice (a double-submitted form) makes no new version. CaseConflict once
    the determination is signed. `accepted_draft`: the reviewer accepted the engine's draft
    as their own decision (said so in the audit entry)."""
    chosen = decision_of(decision)
    if chosen is None:
        raise CaseError("decision: must be Upheld or Overturned")
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        if row.status in SIGNED:
            raise CaseConflict(f"case {case_number}: the determination is signed (decisions version "
                               f"{row.decisions_version}): it cannot be changed, only superseded")
        lifecycle.transition(case_number, row.status, "decide", role)
        items = disputed_items(row)
        if not 0 <= index < len(items):
            raise store.CaseError(f"item {index}: the case has {len(items)} disputed item(s)")
        current = current_decisions(s, row).get(index)
        words = (chosen, guideline.strip(), rationale.strip(), author)
        if current is not None and (current.decision, current.guideline, current.rationale, current.author) == words:
            return current, False
        before_case = store.snapshot(row)
        event = lifecycle.apply(row, "decide", role)
        row.decisions_version = (row.decisions_version or 0) + 1
        new = DecisionRow(case_id=row.id, version=row.decisions_version, item_index=index, decision=chosen,
                          guideline=words[1], rationale=words[2], author=author, created_at=_now())
        s.add(new)
        s.flush()
        before = None if current is None else {"id": current.id, "version": current.version,
                                                "decision": current.decision}
        audit.append(s, event, "decision", case_number, before,  # with the status it moved the case to
                     {"id": new.id, "item": index, "version": new.version, "decision": decision,
                      "author": author, "sha256": audit.decision_digest(new), "status": row.status,
                      "status_before": before_case["status"]} | ({"accepted_draft": True} if accepted_draft else {}),
                     actor)
        return new, True


# ---------------------------------------------------------------- the Final Determination
def determinations(session: Session, row: CaseRow) -> list[DeterminationRow]:
    """Every signed version of the case's determination, newest first."""
    return list(session.scalars(select(DeterminationRow).where(DeterminationRow.case_id == row.id)
                                .order_by(DeterminationRow.version.desc())))


def in_force(session: Session, row: CaseRow) -> DeterminationRow | None:
    """The determination in force (signed, not superseded, not returned by QA), if any; while
    a signed draft waits for QA (status qa_review) it is that draft."""
    return session.scalar(select(DeterminationRow).where(DeterminationRow.case_id == row.id,
                                                         DeterminationRow.superseded_by.is_(None),
                                                         DeterminationRow.qa_returned.is_(None)))


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def letter_of(session: Session, row: CaseRow, version: int, fallback: ReviewerCredentials | None = None) -> Letter:
    """The Final Determination letter stating the decisions at `version` (never the
    reviewer's name: the panel's credentials block, else `fallback`). CaseError naming
    the items still without a decision and a rationale."""
    decisions = current_decisions(session, row, version)
    items = disputed_items(row)
    missing = [i + 1 for i in range(len(items)) if i not in decisions or not decisions[i].rationale]
    if missing:
        raise CaseConflict("every disputed item needs the expert reviewer's decision and a rationale before "
                           "signing; missing: item " + ", ".join(map(str, missing)))
    return _letter_from(session, row, tuple((decisions[i].decision, decisions[i].guideline, decisions[i].rationale)
                                            for i in range(len(items))), fallback)


def _letter_from(session: Session, row: CaseRow, words: tuple[tuple[Decision, str, str], ...],
                 fallback: ReviewerCredentials | None = None) -> Letter:
    """The letter of the case stating `words` (decision, guideline, rationale) per item."""
    items = disputed_items(row)
    docs = documents(session, row)
    application = json.loads(row.application)
    credentials = (ReviewerCredentials.model_validate_json(row.credentials) if row.credentials else
                   fallback or ReviewerCredentials(statement="The expert reviewer is a licensed clinician who "
                                                             "reviewed the records and decided each disputed item."))
    return Letter(
        layout="L2016",
        case_number=row.case_number,
        date_assigned=_day(assignment_of(row).get("at")),
        date_of_injury=row.date_of_injury,
        decision_date=date.today(),
        ur_denial_date=_day((application.get("ur_decision") or {}).get("date")),
        application_received=row.received,
        priority="expedited" if row.review_type == "expedited" else "standard",
        reviewer=credentials,
        documents_reviewed=[d.name for d in reviewed(docs)],
        clinical_case_summary=next((d.text for d in docs if d.kind == "clinical_summary"), ""),
        items=[Item(request=item["request"], decision=words[i][0],
                    medically_necessary=words[i][0] == "Overturned",
                    claims_administrator_guideline=Citation(text=item["ur_guideline"]),
                    imr_guideline=Citation(text=words[i][1]), rationale=words[i][2])
               for i, item in enumerate(items)],
    )


NOT_DECIDED = "NOT DECIDED YET"


def preview_letter(session: Session, row: CaseRow, typed: dict[int, tuple[str, str, str]] | None = None) -> Letter:
    """The letter for a DRAFT preview, whatever is decided yet: the stored decisions, with
    what the reviewer typed and has not saved (`typed`: {item: (decision, guideline,
    rationale)}) over them; an item with neither says NOT DECIDED YET. Never signed."""
    decisions = current_decisions(session, row)
    items = disputed_items(row)
    words = {i: (d.decision, d.guideline, d.rationale) for i, d in decisions.items()}
    words.update({i: (chosen, w[1], w[2]) for i, w in (typed or {}).items() if (chosen := decision_of(w[0]))})
    placeholder = tuple(words.get(i) or ("Upheld", "", "x") for i in range(len(items)))
    base = _letter_from(session, row, placeholder)
    shown = []
    for i, item in enumerate(base.items):
        if i in words:
            shown.append(item)
        else:  # no decision to state: say so instead of any decision (a preview is never mailed)
            shown.append(Item.model_construct(**(dict(item) | {"decision": NOT_DECIDED, "medically_necessary": False,
                                                                 "rationale": "The expert reviewer has not decided "
                                                                              "this item yet."})))
    return base.model_copy(update={"items": shown})


def mailing_context(session: Session, row: CaseRow, letter: Letter,
                    previous: DeterminationRow | None = None) -> LetterContext:
    """What the mailed letter needs beside the Letter: the parties as entered at intake, the
    case file's documents, the reviewer's credentials block and the determination it supersedes."""
    from pydantic import ValidationError

    from openimr.cases.intake import Application
    from openimr.letters.write.mailing import parties_of

    try:
        parties = parties_of(Application.model_validate(json.loads(row.application)))
    except (ValidationError, ValueError):
        parties = Parties()
    docs = [DocumentReviewed(title=d.name, date=_day(d.day)) for d in reviewed(documents(session, row))]
    supersedes = None
    if previous is not None:
        reason = assignment_of(row).get("supersede_reason") or "a superseding determination was issued"
        supersedes = Supersedes(determination=f"{row.case_number} v{previous.version}",
                                date=_day(previous.signed_at) or date.today(), reason=reason)
    return LetterContext(letter=letter, parties=parties, documents=docs, reviewer=letter.reviewer,
                         supersedes=supersedes)


def sign(session: Session, case_number: str, seen_version: int, attest: bool, signer: str, actor: str,
         render_pdf: Callable[[LetterContext], tuple[Letter, bytes]], fallback: ReviewerCredentials | None = None,
         role: str = "reviewer", qa_before_issue: bool | None = None) -> DeterminationRow:
    """Sign and issue the Final Determination as one act: the decisions at `seen_version`
    (the version the reviewer last saw), rendered to PDF and stored with its SHA-256, the case
    determined. Refused (CaseConflict, naming the version in force) when the case is signed
    already or not open for signing, or when the decisions changed since `seen_version`;
    CaseError without the clinician's attestation. Superseding: the new version replaces the
    one in force, with an audit entry. Only the assigned reviewer signs, and only while the
    panel's registry lets them (active, licensed: `panel.reviewers.signer`; NotPermitted).
    With the setting `qa_before_issue` (default: the case settings') the signed letter waits
    for QA (status qa_review, `cases.qa`) instead of being issued at once."""
    if qa_before_issue is None:
        from openimr.cases.settings import load_settings

        qa_before_issue = load_settings().qa_before_issue
    if attest is not True:
        raise CaseError("attest: the expert reviewer must attest that they reviewed the records and decided "
                        "each disputed item")
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        previous = in_force(s, row)
        if row.status in SIGNED and previous is not None:
            raise CaseConflict(f"case {case_number}: already signed: determination version {previous.version} "
                               f"states decisions version {previous.decisions_version}")
        lifecycle.transition(case_number, row.status, "sign", role)
        if signer != row.reviewer_id:
            raise lifecycle.NotPermitted(f"case {case_number}: only the expert reviewer assigned to it signs")
        from openimr.panel.reviewers import signer as registered  # the one registry of reviewers

        registered(s, signer, error=lifecycle.NotPermitted)
        if seen_version != row.decisions_version:
            raise CaseConflict(f"case {case_number}: the decisions changed since you saw them (you saw version "
                               f"{seen_version}, they are at version {row.decisions_version}): review them and "
                               "sign again")
        letter = letter_of(s, row, row.decisions_version, fallback)
        if row.credentials:
            letter = letter.model_copy(update={"reviewer": ReviewerCredentials.model_validate_json(row.credentials)})
        letter, pdf = render_pdf(mailing_context(s, row, letter, previous))
        letter_json = letter.model_dump_json()
        version = (s.scalar(select(func.max(DeterminationRow.version))
                            .where(DeterminationRow.case_id == row.id)) or 0) + 1
        det = DeterminationRow(case_id=row.id, version=version, decisions_version=row.decisions_version,
                               letter=letter_json, pdf=pdf, pdf_sha256=audit.sha256(pdf), signed_by=signer,
                               signed_at=_now())
        s.add(det)
        s.flush()
        if previous is not None:
            reason = assignment_of(row).get("supersede_reason", "")
            previous.superseded_by, previous.supersede_reason = det.id, reason
            audit.append(s, "determination_superseded", "case", case_number, {"determination": previous.id},
                         {"determination": det.id, "reason": reason}, actor)
        store.update(s, case_number, "sign", {"letter": letter_json}, actor, role,
                     to="qa_review" if qa_before_issue else "determined")
        audit.append(s, "determination_signed", "determination", case_number, None,
                     {"id": det.id, "version": version, "decisions_version": det.decisions_version,
                      "pdf_sha256": det.pdf_sha256, "letter_sha256": audit.sha256(letter_json),
                      "attested": ATTESTATION, "signed_by": signer}, actor)
        return det


def start_supersede(session: Session, case_number: str, reason: str, actor: str, role: str = "reviewer") -> None:
    """Open a signed case for a superseding determination, with the reason."""
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise CaseError("reason: say why the determination is superseded")
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        changes = {"assignment": json.dumps(assignment_of(row) | {"supersede_reason": reason})}
        store.update(s, case_number, "supersede", changes, actor, role)


# ---------------------------------------------------------------- withdraw, terminate, appeal
def close(session: Session, case_number: str, action: str, reason: str, actor: str,
          role: str = store.CLI_ROLE) -> tuple[dict, bool]:
    """Withdraw a case (the application was withdrawn), terminate it (the treatment was
    authorized meanwhile) or record an appeal of its Final Determination: the lifecycle's
    `action`, with the reason in the case and in its audit entry; (the case, whether it
    changed). Sent again once made (a double-submitted form) it changes nothing; refused
    with one line when the lifecycle does not allow it from the case's status (LifecycleError,
    409) or for the role (NotPermitted, 403)."""
    if action not in CLOSING:
        raise CaseError(f"action: must be {', '.join(CLOSING[:-1])} or {CLOSING[-1]}, not {action!r}")
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise CaseError(f"reason: say why the case is to {action} (at least 3 characters)")
    if len(reason) > 2000:
        raise CaseError("reason: at most 2000 characters")
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        if row.status == lifecycle.target(action):  # made already: the same request again changes nothing
            lifecycle.require_role(case_number, action, lifecycle.roles(action), role)
            return store.snapshot(row), False
        at = _now().isoformat(timespec="seconds")
        changes = {"assignment": json.dumps(assignment_of(row) | {f"{action}_reason": reason, f"{action}_at": at})}
        return store.update(s, case_number, action, changes, actor, role, detail={"reason": reason}), True


def withdraw(session: Session, case_number: str, reason: str, actor: str, role: str = store.CLI_ROLE) -> tuple[dict, bool]:
    """The application was withdrawn: the case ends (see `close`)."""
    return close(session, case_number, "withdraw", reason, actor, role)


def terminate(session: Session, case_number: str, reason: str, actor: str, role: str = store.CLI_ROLE) -> tuple[dict, bool]:
    """The disputed treatment was authorized meanwhile: the review ends (see `close`)."""
    return close(session, case_number, "terminate", reason, actor, role)


def appeal(session: Session, case_number: str, reason: str, actor: str, role: str = store.CLI_ROLE) -> tuple[dict, bool]:
    """A party appealed the Final Determination (Lab. Code 4610.6(h)) (see `close`)."""
    return close(session, case_number, "appeal", reason, actor, role)
