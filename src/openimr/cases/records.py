"""The records of a case: the notice of assignment and request for information, the receipt
of the records, the completeness check and the follow-up request.

What is asked for, what the check looks for and the letters' wording are data
(data/records.yaml, checked at load); by when is the one deadline code
(`deadlines.records_due`, values in settings.yaml). Each face function takes the caller's
session and writes in its transaction (`store.writing`):

- `send_notice` renders the notice as a PDF letter with the organization's letterhead
  (letters/write: the same blocks, Jinja2 template and WeasyPrint as the Final Determination)
  and records it as the lifecycle's `notice_sent` event (the records' due date recomputed),
  the letter's SHA-256 in the audit entry;
- `receive` records the `records_received` event (the determination's due date recomputed);
  `openimr casefile index --case` stores an indexed case file and then receives it;
- `missing` says what the case record still lacks (no RFA, no UR decision, nothing from the
  six months before the RFA);
- `follow_up` renders the request for what is missing, entered in the audit log as
  `records_requested`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from sqlalchemy.orm import Session

from openimr.cases import audit, lifecycle, record, store
from openimr.cases.deadlines import CaseEvents, records_due
from openimr.cases.errors import CaseError
from openimr.cases.settings import Settings, load_settings
from openimr.cases.tables import CaseRow, DocumentRow
from openimr.models import Model

FILE = Path(__file__).parent / "data" / "records.yaml"
METHODS = ("mail", "electronic")


class Request(Model):
    key: str
    source: str
    text: str


class Check(Model):
    key: str
    types: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)
    months_before_rfa: int | None = Field(default=None, ge=1, le=36)
    missing: str


class Wording(Model):
    notice_title: str
    follow_up_title: str
    assigned: str
    request: str
    due: str
    rule_mail: str
    rule_electronic: str
    rule_expedited: str
    others: str
    follow_up: str
    send_to: str
    copies: str


class RecordsRules(Model):
    requests: list[Request] = Field(min_length=1)
    checks: list[Check] = Field(min_length=1)
    wording: Wording

    @model_validator(mode="after")
    def _known(self) -> RecordsRules:
        from openimr.casefile.rules import DOCUMENT_TYPES  # the one vocabulary of document types

        for n, check in enumerate(self.checks):
            for name in check.types:
                if name not in DOCUMENT_TYPES:
                    raise ValueError(f"checks.{n} ({check.key}): {name!r} is not a document type")
            for name in check.kinds:
                if name not in record.DOCUMENT_KINDS:
                    raise ValueError(f"checks.{n} ({check.key}): {name!r} is not a document kind")
            if not check.types and not check.kinds:
                raise ValueError(f"checks.{n} ({check.key}): give types or kinds")
        return self


@lru_cache(maxsize=1)
def rules(path: Path = FILE) -> RecordsRules:
    """data/records.yaml, validated; ValueError naming the file and field otherwise."""
    from openimr.vocab.data import load

    return load(path.name, RecordsRules, path, ValueError)


def _months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day where it has fewer days)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _us(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def rfa_date(row: CaseRow, docs: list[DocumentRow]) -> tuple[date, str | None]:
    """The RFA's date: the application's, else a stored RFA's, else (assumed) the UR decision's."""
    ur = store.application_of(row).ur_decision
    if ur.rfa_date:
        return ur.rfa_date, None
    found = sorted(d for doc in docs if doc.doc_type == "rfa" and (d := _day(doc.day)))
    if found:
        return found[-1], None
    return ur.date, f"RFA date not known: the UR decision's date {ur.date.isoformat()} is used"


def _window(rfa: date, months: int = 6) -> str:
    return f"{_us(_months_before(rfa, months))} to {_us(rfa)}"


@dataclass
class Missing:
    key: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"key": self.key, "missing": self.text}


def missing(session: Session, case_number: str) -> tuple[list[Missing], list[str]]:
    """What the case record still lacks, per data/records.yaml's checks, in their order; and
    the assumptions made (an RFA date not known). Duplicates do not count."""
    row = store.get(session, case_number)
    docs = record.reviewed(record.documents(session, row))
    rfa, note = rfa_date(row, docs)
    out = []
    for check in rules().checks:
        found = [d for d in docs if d.doc_type in check.types or d.kind in check.kinds]
        if check.months_before_rfa:
            start = _months_before(rfa, check.months_before_rfa)
            found = [d for d in found if (day := _day(d.day)) and start <= day <= rfa]
        if not found:
            window = _window(rfa, check.months_before_rfa or 6)
            out.append(Missing(check.key, " ".join(check.missing.format(window=window).split())))
    return out, [note] if note else []


def _rule(row: CaseRow, method: str) -> str:
    w = rules().wording
    if row.review_type == "expedited":
        return w.rule_expedited
    return w.rule_electronic if method == "electronic" else w.rule_mail


def _blocks(row: CaseRow, title: str, day: date, body: list, organization) -> list:
    """The letter's blocks: letterhead, title, the case's fields and the parties, `body`, the
    address to send to and the copies."""
    from openimr.letters.write.blocks import Block, field_rows
    from openimr.letters.write.mailing import letterhead, parties_of
    from openimr.letters.write.wording import mailing_wording

    app = store.application_of(row)
    parties = parties_of(app)
    labels = mailing_wording().labels
    w = rules().wording
    requests = "; ".join(i.request for i in app.ur_decision.items)
    fields = [("Case Number:", row.case_number), ("Date:", _us(day)),
              ("Application Received:", _us(row.received)), ("Priority:", row.priority.title()),
              ("UR Decision Date:", _us(app.ur_decision.date)),
              ("Date of Injury:", _us(row.date_of_injury))]
    party_fields = [(labels[k], getattr(parties, k) or "") for k in
                    ("employee", "employer", "claims_administrator", "claim_number", "requesting_physician",
                     "attorney")]
    copies = [f"{labels[k].rstrip(':')}: {v}" for k in ("employee", "attorney", "requesting_physician", "employer",
                                                        "claims_administrator") if (v := getattr(parties, k))]
    return [letterhead(organization), Block("title", text=title), *field_rows(fields), *field_rows(party_fields),
            Block("labeled", label="Disputed treatment:", text=requests), *body,
            Block("para", text=w.send_to), Block("lines", entries=[organization.name, *organization.address]),
            Block("para", text=w.copies), Block("lines", entries=copies)]


def _render(blocks: list, title: str) -> bytes:
    from openimr.letters.write.html import render_html, render_pdf

    return render_pdf(render_html(blocks, "records", title))


def notice_pdf(row: CaseRow, day: date, method: str, due: date, rfa: date, organization=None) -> bytes:
    """The notice of assignment and request for information of case `row`, sent `day` by
    `method`, the records due `due`, as a PDF."""
    from openimr.letters.write.blocks import Block
    from openimr.letters.write.organization import configured_organization

    organization = organization or configured_organization()
    r = rules()
    w = r.wording
    window = _window(rfa)
    body = [Block("para", text=_text(w.assigned, received=_us(row.received), organization=organization.name)),
            Block("heading", text="Records requested"),
            Block("para", text=_text(w.request, organization=organization.name)),
            Block("entries", entries=[f"{_text(q.text, window=window)} ({q.source})" for q in r.requests]),
            Block("para", text=_text(w.due, organization=organization.name, due=_us(due), rule=_rule(row, method))),
            Block("para", text=_text(w.others))]
    return _render(_blocks(row, w.notice_title, day, body, organization), w.notice_title)


def _text(template: str, **values: str) -> str:
    return " ".join(template.format(**values).split())


def _may_request(row: CaseRow, role: str) -> None:
    """Only intake and admin (the roles of the notice) send these letters, and only for an open case."""
    lifecycle.require_role(row.case_number, "notice_sent", lifecycle.roles("notice_sent"), role)


def send_notice(session: Session, case_number: str, day: date, method: str, actor: str,
                role: str = store.CLI_ROLE, settings: Settings | None = None, organization=None) -> tuple[bytes, dict]:
    """Send the notice of assignment and request for information: (its PDF, the case as it
    is after). Recorded as the `notice_sent` event (the records' due date recomputed from it,
    `deadlines.records_due`), the PDF's SHA-256 in the audit entry. One line (CaseError,
    LifecycleError, NotPermitted) when the method is not mail or electronic, the date is before
    the application, or the lifecycle does not allow it."""
    if method not in METHODS:
        raise CaseError("method: a notice of assignment is sent by mail or electronic")
    settings = settings or load_settings()
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        lifecycle.transition(case_number, row.status, "notice_sent", role)
        if day < row.received:
            raise CaseError(f"day: the notice date {day} of case {case_number} is before the application was "
                            f"received ({row.received})")
        events = store.events_of(s, row)
        events = CaseEvents(notice_sent=day, notice_method=method,  # type: ignore[arg-type]
                            records_received=events.records_received, converted_expedited=events.converted_expedited)
        due, _notes = records_due(store.application_of(row), events, settings)
        rfa, _note = rfa_date(row, record.documents(s, row))
        pdf = notice_pdf(row, day, method, due, rfa, organization)
        after = store.record_event(s, case_number, "notice_sent", day, settings, method, actor, role,
                                   detail={"letter": "notice_of_assignment", "letter_sha256": audit.sha256(pdf)})
        return pdf, after


def receive(session: Session, case_number: str, day: date, actor: str, role: str = store.CLI_ROLE,
            settings: Settings | None = None) -> dict:
    """The records arrived on `day`: the `records_received` event, the determination's due
    date recomputed; the case as it is after."""
    return store.record_event(session, case_number, "records_received", day, settings or load_settings(), None,
                              actor, role)


def follow_up(session: Session, case_number: str, day: date, actor: str, role: str = store.CLI_ROLE,
              organization=None) -> tuple[bytes, list[Missing]]:
    """The request for the records still missing: (its PDF, what it asks for), entered in the
    audit log as `records_requested` with the PDF's SHA-256. CaseError when nothing is missing."""
    from openimr.letters.write.blocks import Block
    from openimr.letters.write.organization import configured_organization

    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        _may_request(row, role)
        if row.status not in store.OPEN_STATUSES:
            raise lifecycle.LifecycleError(f"case {case_number}: status {row.status}: no records are requested "
                                           "for a case that is not open")
        wanted, _notes = missing(s, case_number)
        if not wanted:
            raise CaseError(f"case {case_number}: no records are missing; nothing to request")
        organization = organization or configured_organization()
        w = rules().wording
        due = row.records_due or day
        body = [Block("para", text=_text(w.follow_up, due=_us(due))),
                Block("entries", entries=[m.text for m in wanted])]
        pdf = _render(_blocks(row, w.follow_up_title, day, body, organization), w.follow_up_title)
        audit.append(s, "records_requested", "case", case_number, None,
                     {"missing": [m.key for m in wanted], "day": day.isoformat(), "letter_sha256": audit.sha256(pdf)},
                     actor)
        return pdf, wanted


def status(session: Session, case_number: str) -> dict:
    """The records of a case at a glance: events, records due, what is missing (JSON-able)."""
    row = store.get(session, case_number)
    wanted, notes = missing(session, case_number)
    docs = record.documents(session, row)
    return {"case_number": row.case_number, "status": row.status,
            "records_due": row.records_due.isoformat() if row.records_due else None,
            "events": store.event_list(session, row), "documents": len(record.reviewed(docs)),
            "duplicates": len(docs) - len(record.reviewed(docs)),
            "missing": [m.as_json() for m in wanted], "assumptions": notes,
            "notice_sent": any(e["kind"] == "notice_sent" for e in store.event_list(session, row))}
