"""`openimr case …` and `openimr audit verify`: the IMR case workflow on the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import NoReturn

import typer

case_app = typer.Typer(help="IMR cases: intake, eligibility, deadlines, assignment, publication.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit log of cases and reviewers.", no_args_is_help=True)

DB_HELP = "Database URL (default: openimr.db.default_url(), or $OPENIMR_DB)."
SETTINGS_HELP = "YAML/JSON file of settings overriding the defaults (see docs/workflow.md)."
ACTOR_HELP = "Who makes the change (audit log; default $OPENIMR_ACTOR or the OS user)."


def _url(db: str | None) -> str:
    from openimr.db import default_url

    return db or default_url()


def _run(db: str | None, face, *args, **kwargs):
    """A face of the case record called in a transaction of its own on --db."""
    from openimr.cases.store import run

    return run(_url(db), face, *args, **kwargs)


def fail(message: str) -> NoReturn:
    """Print the message (one line per problem) on stderr and exit 1."""
    typer.echo(message, err=True)
    raise typer.Exit(1)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Known errors become one-line messages and exit status 1, never a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from openimr.cases.intake import ApplicationError
    from openimr.cases.settings import SettingsError
    from openimr.cases.store import CaseError

    try:
        yield
    except (ApplicationError, CaseError, SettingsError) as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(f"database: {error.__class__.__name__}: {str(error).splitlines()[0][:200]}")
    except ValueError as error:
        fail(str(error))


def _parse_date(value: str | None, option: str) -> date | None:
    """An option's date by the one date rule (`bounds.parse_day`); a bad one ends the command."""
    from openimr.bounds import parse_day

    try:
        return parse_day(option, value, future=True)
    except ValueError as error:
        fail(str(error))


def _print(data, as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        for line in lines:
            typer.echo(line)


@case_app.command("new")
def new(
    application: Path = typer.Argument(..., help="APPLICATION.json (DWC Form IMR fields)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    settings: Path | None = typer.Option(None, "--settings", help=SETTINGS_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the stored case as JSON."),
) -> None:
    """Screen and store a new IMR application.

    Example: openimr case new APPLICATION.json --json
    """
    from openimr.cases.intake import load_application
    from openimr.cases.settings import load_settings
    from openimr.cases.store import create_case

    with friendly_errors():
        app = load_application(application)
        case = _run(db, create_case, app, load_settings(settings), actor)
    reasons = [f"  {r['code']}: {r['message']}" for r in case["reasons"]]
    dates = [f"  {k}: {case[k] or '-'}" for k in ("filing_deadline", "records_due", "determination_due")]
    _print(case, as_json, [f"{case['case_number']}: {case['status']}", *reasons, *dates])


@case_app.command("check")
def check_cmd(
    application: Path = typer.Argument(..., help="APPLICATION.json."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP + " Read for prior IMRs of the same worker."),
    settings: Path | None = typer.Option(None, "--settings", help=SETTINGS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print {eligible, reasons, deadlines} as JSON."),
) -> None:
    """Check an application's eligibility and deadlines without storing anything.

    Example: openimr case check APPLICATION.json --json
    """
    from openimr.cases.eligibility import check
    from openimr.cases.intake import load_application
    from openimr.cases.settings import load_settings
    from openimr.cases.store import prior_requests

    with friendly_errors():
        app = load_application(application)
        prior = _run(db, prior_requests, app)
        result = check(app, load_settings(settings), prior_requests=prior).as_json()
    lines = [f"eligible: {'yes' if result['eligible'] else 'no'}"]
    lines += [f"  {r['code']}: {r['message']}" for r in result["reasons"]]
    lines += [f"{k}: {v}" for k, v in result["deadlines"].items()]
    lines += [f"  assumed: {a}" for a in result["assumptions"]]
    _print(result, as_json, lines)


@case_app.command("list")
def list_cmd(
    due_before: str | None = typer.Option(None, "--due-before", help="Only open cases with a deadline before this date."),
    status: str | None = typer.Option(None, "--status", help="Only cases with this status."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List cases, e.g. those with records or a determination due before a date.

    Example: openimr case list --due-before 2026-04-01 --json
    """
    from openimr.cases.store import list_cases

    when = _parse_date(due_before, "--due-before")
    with friendly_errors():
        rows = _run(db, list_cases, when, status)
    lines = [
        f"{r['case_number']}  {r['status']:<12} {r['review_type']:<9} {r['next_deadline'] or '-'} {r['due'] or ''}"
        for r in rows
    ]
    _print(rows, as_json, lines or ["no cases"])


@case_app.command("show")
def show_cmd(
    case_number: str = typer.Argument(..., help="Case number (CM26-0000001)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Show one case as JSON (application, events, deadlines; the reviewer by id only).

    Example: openimr case show CM26-0000001
    """
    from openimr.cases.store import show

    with friendly_errors():
        typer.echo(json.dumps(_run(db, show, case_number), indent=2, default=str))


@case_app.command("event")
def event_cmd(
    case_number: str = typer.Argument(..., help="Case number."),
    kind: str = typer.Argument(..., help="notice_sent, records_received or converted_expedited."),
    day: str = typer.Argument(..., help="Date of the event (YYYY-MM-DD)."),
    method: str | None = typer.Option(None, "--method", help="For notice_sent: mail or electronic."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    settings: Path | None = typer.Option(None, "--settings", help=SETTINGS_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the case as JSON."),
) -> None:
    """Record a dated event of a case; the deadlines are recomputed.

    Example: openimr case event CM26-0000001 notice_sent 2026-03-11 --method electronic
    """
    from openimr.cases.settings import load_settings
    from openimr.cases.store import record_event

    when = _parse_date(day, "DAY")
    with friendly_errors():
        case = _run(db, record_event, case_number, kind, when, load_settings(settings), method, actor)
    _print(case, as_json, [f"{case_number}: records due {case['records_due']}, determination due {case['determination_due']}"])


def _write_letter(out: Path, pdf: bytes) -> None:
    try:
        out.write_bytes(pdf)
    except OSError as error:
        fail(f"{out}: cannot write the letter: {error.strerror or error}")


@case_app.command("notice")
def notice_cmd(
    case_number: str = typer.Argument(..., help="Case number."),
    out: Path = typer.Option(..., "--out", help="Where to write the notice (PDF)."),
    day: str | None = typer.Option(None, "--day", help="Date the notice is sent (YYYY-MM-DD; default today)."),
    method: str = typer.Option("mail", "--method", help="mail or electronic (12 days instead of 15)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    settings: Path | None = typer.Option(None, "--settings", help=SETTINGS_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the case as JSON."),
) -> None:
    """Send the notice of assignment and request for information: the PDF letter to the
    parties (what records, by when), recorded as the notice_sent event (records due recomputed).

    Example: openimr case notice CM26-0000001 --out notice.pdf --method electronic
    """
    from openimr.cases import records, store
    from openimr.cases.settings import load_settings

    when = _parse_date(day, "--day") or date.today()
    with friendly_errors(), store.transaction(_url(db)) as session:
        pdf, case = records.send_notice(session, case_number, when, method, actor or "", settings=load_settings(settings))
        _write_letter(out, pdf)
    _print(case, as_json, [f"{case_number}: notice sent {when} ({method}), records due {case['records_due']}; "
                           f"letter {out}"])


@case_app.command("missing")
def missing_cmd(
    case_number: str = typer.Argument(..., help="Case number."),
    follow_up: Path | None = typer.Option(None, "--follow-up", help="Also write the request for the missing "
                                          "records (PDF) here, entered in the audit log."),
    day: str | None = typer.Option(None, "--day", help="Date of the follow-up request (default today)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What the case's records still lack (no RFA, no UR decision, nothing from the six months
    before the RFA; data/records.yaml), and optionally the follow-up request for it.

    Example: openimr case missing CM26-0000001 --follow-up request.pdf
    """
    from openimr.cases import records, store

    when = _parse_date(day, "--day") or date.today()
    with friendly_errors(), store.transaction(_url(db)) as session:
        result = records.status(session, case_number)
        if follow_up is not None and result["missing"]:
            pdf, _wanted = records.follow_up(session, case_number, when, actor or "")
            _write_letter(follow_up, pdf)
    lines = [f"{case_number}: missing {m['missing']}" for m in result["missing"]] or [
        f"{case_number}: nothing missing ({result['documents']} documents)"]
    lines += [f"({note})" for note in result["assumptions"]]
    if follow_up is not None and result["missing"]:
        lines.append(f"follow-up request {follow_up}")
    _print(result, as_json, lines)


@case_app.command("late")
def late_cmd(
    as_of: str | None = typer.Option(None, "--as-of", help="Date of the report (default today)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Late report: open cases whose records or determination are past due.

    Example: openimr case late --as-of 2026-05-01 --json
    """
    from openimr.cases.store import late_report

    when = _parse_date(as_of, "--as-of") or date.today()
    with friendly_errors():
        rows = _run(db, late_report, when)
    lines = [f"{r['case_number']}  {r['late']:<13} due {r['due']}  {r['days_late']} days late" for r in rows]
    _print(rows, as_json, lines or ["nothing late"])


@case_app.command("assign")
def assign_cmd(
    case_number: str = typer.Argument(..., help="Case number."),
    on: str | None = typer.Option(None, "--on", help="Date for licence expiry checks (default today)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the assignment and credentials block as JSON."),
) -> None:
    """Assign the best eligible expert reviewer of the panel, or explain why none.

    Example: openimr case assign CM26-0000001 --json
    """
    from openimr.panel.assign import assign

    with friendly_errors():
        result = _run(db, assign, case_number, _parse_date(on, "--on"), actor)
    _print(result, as_json, [f"{case_number}: assigned to reviewer {result['reviewer']} ({result['why']})"])


@case_app.command("consolidate")
def consolidate_cmd(
    case_number: str = typer.Argument(..., help="The primary case."),
    others: list[str] | None = typer.Argument(None, help="Cases to join into it (none: list candidates)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Join applications of the same worker, physician and date of injury.

    Example: openimr case consolidate CM26-0000001 CM26-0000002
    """
    from openimr.cases.consolidate import candidates, consolidate

    with friendly_errors():
        if not others:
            found = _run(db, candidates, case_number)
            _print({"case_number": case_number, "candidates": found}, as_json, found or ["no candidates"])
            return
        result = _run(db, consolidate, case_number, list(others), actor)
    _print(result, as_json, [f"{case_number}: joined {', '.join(others)}"])


@case_app.command("publish")
def publish_cmd(
    case_number: str = typer.Argument(..., help="Case number."),
    letter: Path | None = typer.Option(None, "--letter", help="LETTER.json: attach this determination letter first."),
    format: str = typer.Option("json", "--format", help="json, text, html or pdf."),
    out: Path | None = typer.Option(None, "--out", help="Write here (default: stdout; required for pdf)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Write the redacted letter the DWC posts (names, addresses, DOB, claim numbers removed).

    Example: openimr case publish CM26-0000001 --letter letter.json --format text --out published.txt
    """
    from openimr.cases.publish import attach_letter, load_letter, publish

    if format == "pdf" and out is None:
        fail("--out: a PDF must be written to a file")
    with friendly_errors():
        if letter is not None:
            _run(db, attach_letter, case_number, load_letter(letter), actor)
        output, counts, changed = _run(db, publish, case_number, format, actor)
    if out is None:
        sys.stdout.write(output if isinstance(output, str) else output.decode())
    else:
        out.write_bytes(output if isinstance(output, bytes) else output.encode("utf-8"))
        removed = ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "nothing"
        again = "" if changed else "; published already, nothing recorded"
        typer.echo(f"{case_number}: published to {out} (removed: {removed}){again}")


qa_app = typer.Typer(help="QA before issue: approve or return the signed draft waiting for QA.",
                     no_args_is_help=True)
case_app.add_typer(qa_app, name="qa")


def _qa_command(action: str, case_number: str, reason: str, db: str | None, actor: str | None,
                as_json: bool) -> None:
    """`openimr case qa approve|return`: `cases.qa.review`, the pages' face, as the operator."""
    from openimr.cases import qa
    from openimr.cases.audit import default_actor
    from openimr.cases.store import CLI_ROLE

    with friendly_errors():
        case, changed = _run(db, qa.review, case_number, action, actor or default_actor(), CLI_ROLE, reason)
    done = {"qa_approve": ("approved and issued", "already approved and issued (nothing changed)"),
            "qa_return": ("returned to the reviewer", "already returned to the reviewer (nothing changed)")}
    _print(case | {"changed": changed}, as_json,
           [f"{case_number}: {done[action][0 if changed else 1]}; status {case['status']}"])


@qa_app.command("approve")
def qa_approve_cmd(
    case_number: str = typer.Argument(..., help="Case number."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the case as JSON."),
) -> None:
    """Approve the signed draft waiting for QA: the Final Determination is issued (a repeat
    changes nothing).

    Example: openimr case qa approve CM26-0000001
    """
    _qa_command("qa_approve", case_number, "", db, actor, as_json)


@qa_app.command("return")
def qa_return_cmd(
    case_number: str = typer.Argument(..., help="Case number."),
    reason: str = typer.Option(..., "--reason", help="Why it goes back to the reviewer (kept in the audit log)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the case as JSON."),
) -> None:
    """Return the signed draft waiting for QA to the reviewer with a reason: it is never
    issued; the reviewer decides and signs again (a repeat changes nothing).

    Example: openimr case qa return CM26-0000001 --reason "item 1 cites no guideline section"
    """
    _qa_command("qa_return", case_number, reason, db, actor, as_json)


@case_app.command("note")
def note_cmd(
    case_number: str = typer.Argument(..., help="Case number."),
    text: str = typer.Argument(..., help="The note (kept in the audit log; never shown to intake)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the note as JSON."),
) -> None:
    """Leave a note on a case for QA and the reviewer (the same note again is kept once).

    Example: openimr case note CM26-0000001 "Item 2: the RFA is in the records of 2026-02-03."
    """
    from openimr.cases import qa
    from openimr.cases.audit import default_actor
    from openimr.cases.store import CLI_ROLE

    with friendly_errors():
        note, added = _run(db, qa.add_note, case_number, text, actor or default_actor(), CLI_ROLE)
    _print(note | {"added": added}, as_json,
           [f"{case_number}: note {note['seq']} added" if added else f"{case_number}: that note is there already"])


@case_app.command("notes")
def notes_cmd(
    case_number: str = typer.Argument(..., help="Case number."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the notes as JSON."),
) -> None:
    """The notes on a case, oldest first.

    Example: openimr case notes CM26-0000001 --json
    """
    from openimr.cases import qa
    from openimr.cases.store import get

    def read(session, number: str) -> list[dict]:
        get(session, number)  # no such case: one line
        return qa.notes(session, number)

    with friendly_errors():
        rows = _run(db, read, case_number)
    lines = [f"{n['seq']:>6} {n['at']} {n['actor']} ({n['role']}): {n['text']}" for n in rows]
    _print(rows, as_json, lines or [f"no notes on {case_number}"])


CLOSING_HELP = {
    "withdraw": ("Withdraw a case: the application was withdrawn (intake, admin).",
                 "openimr case withdraw CM26-0000001 --reason \"withdrawn by the employee's attorney on 2026-03-12\""),
    "terminate": ("Terminate a review: the disputed treatment was authorized meanwhile (intake, admin).",
                  "openimr case terminate CM26-0000001 --reason \"claims administrator authorized the MRI on 2026-03-14\""),
    "appeal": ("Record an appeal of the Final Determination (Lab. Code 4610.6(h); admin).",
               "openimr case appeal CM26-0000001 --reason \"employer's petition filed with the WCAB on 2026-05-02\""),
}


def _closing_command(action: str):
    """`openimr case withdraw|terminate|appeal CASE --reason ...`: the lifecycle's action, as the operator."""
    summary, example = CLOSING_HELP[action]

    def command(
        case_number: str = typer.Argument(..., help="Case number."),
        reason: str = typer.Option(..., "--reason", help="Why (kept with the case and in its audit entry)."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print the case as JSON."),
    ) -> None:
        from openimr.cases import record
        from openimr.cases.store import CLI_ROLE, transaction

        with friendly_errors():
            with transaction(_url(db)) as session:
                case, changed = record.close(session, case_number, action, reason, actor or "", CLI_ROLE)
        word = case["status"]
        _print(case | {"changed": changed}, as_json,
               [f"{case_number}: {word}" if changed else f"{case_number}: already {word} (nothing changed)"])

    command.__doc__ = f"{summary}\n\n    Example: {example}\n    "
    return command


for _action in CLOSING_HELP:
    case_app.command(_action)(_closing_command(_action))


@audit_app.command("verify")
def verify_cmd(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    against: Path | None = typer.Option(None, "--against", help="An earlier `audit export` file: every row "
                                           "in it must still be in the log, unchanged."),
    as_json: bool = typer.Option(False, "--json", help="Print {intact, rows, problems} as JSON."),
) -> None:
    """Check the audit log: its keyed chain and head, and that every stored decision,
    document and determination PDF still matches its entry; exit 1 on any problem.

    The key is the deployment's ($OPENIMR_AUDIT_KEY or $OPENIMR_AUDIT_KEY_FILE; see docs/workflow.md).

    Example: openimr audit verify --db sqlite:///openimr.sqlite --against audit-2026-11.jsonl
    """
    from openimr import db as database
    from openimr.cases import audit
    from openimr.cases.store import ready

    exported = _read_export(against) if against is not None else None
    with friendly_errors():
        with database.session_scope(ready(_url(db))) as session:
            rows, problems = audit.verify(session, exported)
    result = {"intact": not problems, "rows": rows, "problems": problems}
    _print(result, as_json, [f"audit log intact: {rows} rows"] if not problems else [f"audit log BROKEN ({rows} rows):", *problems])
    if problems:
        raise typer.Exit(1)


def _read_export(path: Path) -> list[dict]:
    """The rows of an `audit export` file; one line naming the file and line otherwise."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{path}: cannot be read ({error.__class__.__name__})")
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("seq"), int):
                raise ValueError
        except ValueError:
            fail(f"{path}: line {number}: not an exported audit row")
        rows.append(row)
    return rows


@audit_app.command("export")
def export_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="The JSON Lines file to write (one audit row per line)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write the whole audit chain to a file for safekeeping outside the database; check the
    database against it later with `openimr audit verify --against FILE`.

    Example: openimr audit export --out audit-2026-11.jsonl
    """
    from openimr import db as database
    from openimr.cases import audit
    from openimr.cases.store import ready

    with friendly_errors():
        with database.session_scope(ready(_url(db))) as session:
            rows = [audit.canonical(row) for row in audit.export_rows(session)]
    try:
        out.write_text("".join(line + "\n" for line in rows), encoding="utf-8")
    except OSError as error:
        fail(f"{out}: cannot be written ({error.__class__.__name__})")
    typer.echo(f"audit log exported: {len(rows)} rows to {out}")


@audit_app.command("show")
def audit_show_cmd(
    entity_id: str = typer.Argument(..., help="A case number or a reviewer id."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the events with their before/after JSON."),
) -> None:
    """Show the audit events of one case or reviewer, oldest first (admin use).

    Example: openimr audit show CM26-0000001 --json
    """
    from openimr import db as database
    from openimr.cases import audit
    from openimr.cases.store import ready

    with friendly_errors():
        with database.session_scope(ready(_url(db))) as session:
            rows = [
                {"seq": r.seq, "at": r.at, "actor": r.actor, "action": r.action, "entity": r.entity,
                 "before": json.loads(r.before), "after": json.loads(r.after)}
                for r in audit.history(session, entity_id)
            ]
    lines = [f"{r['seq']:>6} {r['at']} {r['actor']:<16} {r['action']}" for r in rows] or [f"no events for {entity_id}"]
    _print(rows, as_json, lines)


def register(app: typer.Typer) -> None:
    """Add `case` and `audit` to the `openimr` application."""
    app.add_typer(case_app, name="case")
    app.add_typer(audit_app, name="audit")
