"""Stored cases: listing by due date, late report, duplicates, consolidation, audit chain."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text

from openimr import db
from openimr.cases import store
from openimr.cases.consolidate import candidates, consolidate
from openimr.cases.intake import parse_application
from openimr.cases.settings import load_settings


def new_case(url, data) -> str:
    return store.run(url, store.create_case, parse_application(data), load_settings(), actor="tester")["case_number"]


def test_list_due_before_and_late_report(app_data, db_url):
    first = new_case(db_url, app_data)
    app_data["received"] = "2026-03-20"
    app_data["ur_decision"]["items"][0]["request"] = "Physical therapy x12"
    second = new_case(db_url, app_data)
    store.run(db_url, store.record_event, first, "notice_sent", date(2026, 3, 11), load_settings(), "electronic")
    due = {c["case_number"]: c for c in store.run(db_url, store.list_cases, due_before=date(2026, 3, 25))}
    assert set(due) == {first} and due[first]["due"] == "2026-03-23"
    assert {c["case_number"] for c in store.run(db_url, store.list_cases, due_before=date(2026, 4, 30))} == {first, second}
    store.run(db_url, store.record_event, first, "records_received", date(2026, 3, 25), load_settings())
    late = store.run(db_url, store.late_report, as_of=date(2026, 3, 30))
    assert [(r["case_number"], r["late"], r["days_late"]) for r in late] == [(first, "records", 2)]
    assert late[0]["due_date_assumed"] is False
    late = store.run(db_url, store.late_report, as_of=date(2026, 4, 30))
    assert (first, "determination") in {(r["case_number"], r["late"]) for r in late}
    assert {r["due_date_assumed"] for r in late if r["case_number"] == second} == {True}


def test_second_application_for_same_treatment_is_prior_imr(app_data, db_url):
    new_case(db_url, app_data)
    app_data["received"] = "2026-03-12"
    second = store.run(db_url, store.show, new_case(db_url, app_data))
    assert second["status"] == "ineligible" and [r["code"] for r in second["reasons"]] == ["prior_imr"]


def test_consolidation_of_same_worker_physician_and_injury(app_data, db_url):
    first = new_case(db_url, app_data)
    app_data["ur_decision"]["items"][0]["request"] = "Norco 10/325 mg #60"
    second = new_case(db_url, app_data)
    app_data["requesting_physician"]["name"] = "Dr. Somebody Else"
    app_data["ur_decision"]["items"][0]["request"] = "Lumbar brace"
    third = new_case(db_url, app_data)
    assert store.run(db_url, candidates, first) == [second]
    with pytest.raises(store.CaseError, match="same requesting physician"):
        store.run(db_url, consolidate, first, [second, third])
    # all or nothing: the second case was not joined by the failed call
    assert store.run(db_url, store.show, second)["status"] == "eligible"
    store.run(db_url, consolidate, first, [second], actor="tester")
    assert store.run(db_url, store.show, second)["consolidated_into"] == first


def tamper(url: str, sql: str) -> None:
    with db.engine_for(url).begin() as connection:
        connection.execute(text(sql))


def verify(cli, url):
    result = cli("audit", "verify", "--db", url, "--json")
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(
    "attack",
    [
        "UPDATE imr_audit_log SET after = replace(after, 'notice_sent', 'records_received') WHERE seq = 2",
        "UPDATE imr_audit_log SET actor = 'someone else' WHERE seq = 1",
        "DELETE FROM imr_audit_log WHERE seq = 2",
        "DELETE FROM imr_audit_log WHERE seq = 4",
        "UPDATE imr_audit_log SET seq = seq + 100 WHERE seq IN (2, 3); "
        "UPDATE imr_audit_log SET seq = 5 - (seq - 100) WHERE seq > 100",
    ],
    ids=["changed-content", "changed-actor", "deleted-middle", "deleted-last", "reordered"],
)
def test_audit_verify_detects_tampering(app_data, db_url, cli, attack):
    number = new_case(db_url, app_data)
    store.run(db_url, store.record_event, number, "notice_sent", date(2026, 3, 11), load_settings(), "mail", actor="clerk")
    store.run(db_url, store.record_event, number, "records_received", date(2026, 3, 20), load_settings(), actor="clerk")
    app_data["received"] = "2026-03-11"
    app_data["ur_decision"]["items"][0]["request"] = "TENS unit"
    new_case(db_url, app_data)
    code, report = verify(cli, db_url)
    assert code == 0 and report["intact"] and report["rows"] == 4
    for statement in attack.split("; "):
        tamper(db_url, statement)
    code, report = verify(cli, db_url)
    assert code == 1 and not report["intact"] and report["problems"]


def test_audit_events_record_who_and_before_after(app_data, db_url):
    from openimr.cases import audit

    number = new_case(db_url, app_data)
    store.run(db_url, store.record_event, number, "notice_sent", date(2026, 3, 11), load_settings(), "mail", actor="clerk")
    with db.session_scope(db_url) as session:
        rows = audit.history(session, number)
        assert [(r.action, r.actor) for r in rows] == [("create", "tester"), ("notice_sent", "clerk")]
        assert json.loads(rows[0].before) is None
        assert json.loads(rows[1].before)["events"] == [] and json.loads(rows[1].after)["events"][0]["kind"] == "notice_sent"


def test_concurrent_writers_keep_the_chain(app_data, db_url):
    import copy
    from concurrent.futures import ThreadPoolExecutor

    from openimr.cases import audit

    store.ready(db_url)

    def create(k: int) -> str:
        data = copy.deepcopy(app_data)
        data["employee"]["name"] = f"Worker Number{k}"
        return new_case(db_url, data)

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = list(pool.map(create, range(12)))
    assert len(set(numbers)) == 12
    with db.session_scope(db_url) as session:
        rows, problems = audit.verify(session)
    assert rows == 12 and problems == []


def test_create_and_attach_in_the_callers_transaction(app_data, db_url):
    """With session=, a case and its letter are written in the caller's transaction: a
    rollback leaves neither the case nor its audit entries; a commit keeps both."""
    from openimr.cases import audit, publish
    from openimr.models import Letter

    store.ready(db_url)
    letter = Letter(layout="L2016", items=[])
    with pytest.raises(RuntimeError):
        with db.session_scope(db_url) as session:
            number = store.create_case(session, parse_application(app_data), load_settings(), "tester")[
                "case_number"]
            publish.attach_letter(session, number, letter, "tester")
            raise RuntimeError("the caller fails after both writes")
    assert store.run(db_url, store.list_cases) == []
    with db.session_scope(db_url) as session:
        assert audit.verify(session) == (0, [])
        number = store.create_case(session, parse_application(app_data), load_settings(), "tester")[
            "case_number"]
        publish.attach_letter(session, number, letter, "tester")
    shown = store.run(db_url, store.show, number)
    assert shown["status"] == "determined" and shown["has_letter"]
    with db.session_scope(db_url) as session:
        assert [r.action for r in audit.history(session, number)] == ["create", "attach_letter"]
