"""The records of a case: the notice of assignment and request for information (a PDF letter,
the notice_sent event, the records' due date from deadlines.records_due), the receipt, the
completeness check and the follow-up request; the command line."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pypdfium2
import pytest
from typer.testing import CliRunner

from openimr.cli import app


def pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in pdf)
    finally:
        pdf.close()


def _case(url: str, data: dict) -> str:
    from openimr.cases import store
    from openimr.cases.intake import parse_application
    from openimr.cases.settings import load_settings

    return store.run(url, store.create_case, parse_application(data), load_settings(), actor="intake1")["case_number"]


def _last_entry(url: str, number: str):
    from openimr import db
    from openimr.cases import audit, store

    with db.session_scope(store.ready(url)) as session:
        return audit.history(session, number)[-1]


def test_the_notice_asks_for_the_records_by_the_one_deadline_and_is_the_notice_sent_event(db_url, app_data):
    from openimr.cases import audit, records, store
    from openimr.cases.deadlines import CaseEvents, records_due
    from openimr.cases.intake import parse_application
    from openimr.cases.settings import load_settings

    app_data["ur_decision"]["rfa_date"] = "2026-02-10"
    number = _case(db_url, app_data)
    received = date.fromisoformat(app_data["received"])
    with store.transaction(db_url) as session:
        pdf, after = records.send_notice(session, number, received + timedelta(days=1), "electronic", "intake1",
                                         role="intake")
    text = pdf_text(pdf)
    assert after["status"] == "notice_sent"
    want = records_due(parse_application(app_data), CaseEvents(notice_sent=received + timedelta(days=1),
                                                                       notice_method="electronic"), load_settings())[0]
    assert after["records_due"] == want == received + timedelta(days=13)  # 12 days after the electronic notice
    assert "Notice of Assignment and Request for Information" in text
    assert "OpenIMR Demonstration Review Organization" in text  # the organization's letterhead
    assert f"by {want.strftime('%m/%d/%Y')} (12 days after this notice was sent electronically)" in text
    assert "six months before the Request for Authorization (08/10/2025 to 02/10/2026)" in text
    assert "(DWC Form IMR) that was enclosed with the utilization review decision" in text
    assert "attachments of the application" in text
    for name in ("Maria L. Gonzalez", "Acme Logistics", "Golden State Claims Services", "Dr. Alan Reyes", number,
                 "MRI of the lumbar spine"):
        assert name in text
    entry = _last_entry(db_url, number)
    assert entry.action == "notice_sent" and json.loads(entry.after)["letter_sha256"] == audit.sha256(pdf)
    with store.transaction(db_url) as session:  # the records arrive: the determination runs from their receipt
        case = records.receive(session, number, received + timedelta(days=5), "intake1", role="intake")
    assert case["status"] == "records_received"
    assert case["determination_due"] == received + timedelta(days=35)


@pytest.mark.parametrize(("review_type", "method", "days", "rule"), [
    ("regular", "mail", 15, "15 days after this notice was mailed"),
    ("expedited", "mail", 1, "24 hours after receipt of this notice"),
])
def test_mail_and_expedited_deadlines(sqlite_url, app_data, review_type, method, days, rule):
    from openimr.cases import records, store

    app_data["review_type"] = review_type
    number = _case(sqlite_url, app_data)
    sent = date.fromisoformat(app_data["received"])
    with store.transaction(sqlite_url) as session:
        pdf, after = records.send_notice(session, number, sent, method, "intake1")
    assert after["records_due"] == sent + timedelta(days=days)
    assert rule in pdf_text(pdf)


def test_the_notice_is_refused_with_one_line(sqlite_url, app_data):
    from openimr.cases import lifecycle, records, store
    from openimr.cases.errors import CaseError

    number = _case(sqlite_url, app_data)
    received = date.fromisoformat(app_data["received"])
    cases = [(dict(day=received - timedelta(days=1), method="mail"), CaseError, "before the application"),
             (dict(day=received, method="fax"), CaseError, "method: a notice of assignment is sent by mail or"),
             (dict(day=received, method="mail", role="reviewer"), lifecycle.NotPermitted, "notice sent is for")]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message), store.transaction(sqlite_url) as session:
            records.send_notice(session, number, actor="x", **kwargs)
    assert store.run(sqlite_url, store.show, number)["events"] == []  # nothing recorded


def _add(session, number, kind, day, doc_type, duplicate_of=None):
    from openimr.cases import record

    return record.add_document(session, number, kind, f"{doc_type} {day}", f"[page 1]\n{doc_type}", "intake1",
                               day=day, index={"doc_type": doc_type, "duplicate_of": duplicate_of})


def test_the_completeness_check_and_the_follow_up_request(sqlite_url, app_data):
    from openimr.cases import audit, records, store
    from openimr.cases.errors import CaseError

    number = _case(sqlite_url, app_data)
    with store.transaction(sqlite_url) as session:
        wanted, notes = records.missing(session, number)
        assert [m.key for m in wanted] == ["rfa", "ur_decision", "recent_reports"]
        assert notes == ["RFA date not known: the UR decision's date 2026-02-20 is used"]
        rfa = _add(session, number, "medical_record", "2026-02-01", "rfa")
        old = _add(session, number, "medical_record", "2025-06-30", "progress_report")  # over six months before
        _add(session, number, "medical_record", "2026-01-15", "progress_report", duplicate_of=old.id)  # a copy
        assert rfa.id
    with store.transaction(sqlite_url) as session:
        wanted, notes = records.missing(session, number)
        assert notes == []  # the stored RFA gives the date
        assert [m.text for m in wanted] == [
            "the utilization review decision and its correspondence with the worker",
            "any medical report from the six months before the Request for Authorization (08/01/2025 to 02/01/2026)"]
        pdf, asked = records.follow_up(session, number, date(2026, 3, 12), "intake1")
    text = pdf_text(pdf)
    assert "Request for Missing Records" in text and asked == wanted
    for m in wanted:
        assert m.text in text
    entry = _last_entry(sqlite_url, number)
    assert entry.action == "records_requested"
    assert json.loads(entry.after) == {"missing": ["ur_decision", "recent_reports"], "day": "2026-03-12",
                                       "letter_sha256": audit.sha256(pdf)}
    with store.transaction(sqlite_url) as session:
        _add(session, number, "ur_decision", "2026-02-20", "ur_decision")
        _add(session, number, "medical_record", "2025-12-01", "imaging_report")
    with store.transaction(sqlite_url) as session:
        assert records.missing(session, number)[0] == []
        with pytest.raises(CaseError, match="no records are missing"):
            records.follow_up(session, number, date(2026, 3, 12), "intake1")


def test_the_records_rules_are_checked_at_load(tmp_path):
    from openimr.cases import records

    bad = records.FILE.read_text(encoding="utf-8").replace("types: [rfa]", "types: [rfa_form]")
    path = tmp_path / "records.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match="'rfa_form' is not a document type"):
        records.rules.__wrapped__(path)


def test_the_command_line(tmp_path, sqlite_url, app_data):
    number = _case(sqlite_url, app_data)
    run = CliRunner().invoke
    out = tmp_path / "notice.pdf"
    done = run(app, ["case", "notice", number, "--out", str(out), "--day", "2026-03-11", "--method", "electronic",
                     "--db", sqlite_url])
    assert done.exit_code == 0, done.output
    assert "records due 2026-03-23" in done.stdout and "Request for Information" in pdf_text(out.read_bytes())
    shown = run(app, ["case", "missing", number, "--json", "--db", sqlite_url, "--follow-up", str(tmp_path / "f.pdf")])
    assert shown.exit_code == 0, shown.output
    result = json.loads(shown.stdout)
    assert [m["key"] for m in result["missing"]] == ["rfa", "ur_decision", "recent_reports"]
    assert result["notice_sent"] and "Request for Missing Records" in pdf_text((tmp_path / "f.pdf").read_bytes())
    for args in (["case", "notice", "CM99-9999999", "--out", str(tmp_path / "x.pdf")],
                 ["case", "missing", "CM99-9999999"],
                 ["case", "notice", number, "--out", str(tmp_path / "x.pdf"), "--day", "2026-13-01"]):
        bad = run(app, [*args, "--db", sqlite_url])
        assert bad.exit_code == 1 and "Traceback" not in bad.output
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert not (tmp_path / "x.pdf").exists()
