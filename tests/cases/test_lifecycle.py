"""The one lifecycle (cases/data/lifecycle.yaml): checked at load, the only way a status
changes, an illegal transition refused with one line, a role that may not make it refused."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from openimr import db
from openimr.cases import lifecycle, store
from openimr.cases.intake import parse_application
from openimr.cases.settings import load_settings


def _case(url: str, app_data: dict) -> str:
    store.ready(url)
    return store.run(url, store.create_case, parse_application(app_data, "app.json"), load_settings(), "intake",
                             role="intake")["case_number"]


def test_the_file_declares_the_issues_lifecycle():
    states = lifecycle.states()
    for name in ("received", "eligible", "ineligible", "notice_sent", "records_received", "assigned",
                 "under_review", "determined", "published", "withdrawn", "terminated", "superseding", "appealed"):
        assert name in states
    assert lifecycle.states("signed") == ("determined", "published", "appealed")
    assert set(lifecycle.states("open")) == {"eligible", "notice_sent", "records_received", "assigned",
                                             "under_review", "superseding", "qa_review"}
    assert lifecycle.sources("register") == ("received",)


@pytest.mark.parametrize("change,message", [
    (lambda d: d["transitions"][0].update(to=["eligible", "nowhere"]), "'nowhere' is not a state"),
    (lambda d: d["transitions"][1].update(by=["janitor"]), "'janitor' is not a role"),
    (lambda d: d["transitions"].append(dict(d["transitions"][1])), "notice_sent from eligible is declared twice"),
    (lambda d: d.update(initial="limbo"), "initial: 'limbo' is not a state"),
])
def test_a_bad_lifecycle_file_is_one_line(tmp_path, change, message):
    data = yaml.safe_load(lifecycle.FILE.read_text())
    change(data)
    path = tmp_path / "lifecycle.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError) as error:
        lifecycle.load.__wrapped__(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def test_events_move_the_status_and_an_illegal_one_is_refused(app_data, db_url, cli):
    number = _case(db_url, app_data)
    settings = load_settings()
    assert store.run(db_url, store.record_event, number, "notice_sent", date(2026, 3, 11), settings, "mail")["status"] == \
        "notice_sent"
    assert store.run(db_url, store.record_event, number, "records_received", date(2026, 3, 20), settings)["status"] == \
        "records_received"
    store.run(db_url, store.update, number, "withdraw", {}, "intake", role="intake")
    result = cli("case", "event", number, "records_received", "2026-03-21", "--db", db_url)
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"case {number}: status withdrawn: cannot records received (only from "
                                     "eligible, notice_sent, records_received, assigned, under_review, superseding)")
    with db.session_scope(db_url) as session:
        assert store.get(session, number).status == "withdrawn"
        assert [r.action for r in store.audit.history(session, number)] == [
            "create", "notice_sent", "records_received", "withdraw"]


def test_a_role_that_may_not_make_a_transition_is_refused(app_data, db_url):
    number = _case(db_url, app_data)
    with pytest.raises(lifecycle.NotPermitted, match=f"case {number}: assign is for qa or admin; you act as intake"):
        store.run(db_url, store.update, number, "assign", {"reviewer_id": "R-1"}, "intake", role="intake")
    with pytest.raises(ValueError, match="the status is the lifecycle's to set"):
        store.run(db_url, store.update, number, "assign", {"status": "determined"}, "admin")
    assert store.run(db_url, store.show, number)["status"] == "eligible"


def test_publishing_an_undetermined_case_is_refused_with_one_line(app_data, write_json, cli, sqlite_url):
    number = json.loads(cli("case", "new", write_json(app_data), "--json", "--db", sqlite_url).output)["case_number"]
    result = cli("case", "publish", number, "--db", sqlite_url)
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1


def test_no_other_module_sets_a_status():
    """Every status write goes through lifecycle.apply: no `status=` or `.status =` elsewhere."""
    root = Path(lifecycle.__file__).parents[1]
    offenders = []
    for path in root.rglob("*.py"):
        if "migrations" in path.parts or path.name == "lifecycle.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if (".status = " in code and "self.status" not in code) or '"status": "' in code:  # not HTTP
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []


def test_withdraw_terminate_and_appeal_go_through_the_lifecycle(app_data, db_url, cli):
    """Each of the three actions moves the status by the lifecycle with its reason in the
    audit entry; sent twice it changes nothing; from a state the lifecycle does not allow
    it, one line (exit 1) and nothing changes."""
    other = json.loads(json.dumps(app_data))
    other["employee"]["name"] = "Another Worker"
    withdrawn, terminated = _case(db_url, app_data), _case(db_url, other)
    result = cli("case", "withdraw", withdrawn, "--reason", "the employee withdrew the application", "--db", db_url)
    assert result.exit_code == 0 and result.stdout.strip() == f"{withdrawn}: withdrawn"
    again = cli("case", "withdraw", withdrawn, "--reason", "the employee withdrew the application", "--db", db_url)
    assert again.exit_code == 0 and again.stdout.strip() == f"{withdrawn}: already withdrawn (nothing changed)"
    refused = cli("case", "terminate", withdrawn, "--reason", "authorized meanwhile", "--db", db_url)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (f"case {withdrawn}: status withdrawn: cannot terminate (only from eligible, "
                                      "notice_sent, records_received, assigned, under_review)")
    shown = json.loads(cli("case", "terminate", terminated, "--reason", "the MRI was authorized on 2026-03-14",
                           "--json", "--db", db_url).stdout)
    assert shown["status"] == "terminated" and shown["changed"] is True
    appeal = cli("case", "appeal", terminated, "--reason", "petition filed", "--db", db_url)
    assert appeal.exit_code == 1 and "cannot appeal (only from determined, published)" in appeal.stderr
    short = cli("case", "withdraw", terminated, "--reason", "x", "--db", db_url)
    assert short.exit_code == 1 and short.stderr.strip() == "reason: say why the case is to withdraw (at least 3 characters)"
    with db.session_scope(db_url) as session:
        trail = store.audit.history(session, withdrawn)
        assert [r.action for r in trail] == ["create", "withdraw"]
        assert json.loads(trail[-1].after)["reason"] == "the employee withdrew the application"
        assert json.loads(trail[-1].before)["status"] == "eligible"
        assert [r.action for r in store.audit.history(session, terminated)] == ["create", "terminate"]
        assert store.audit.verify(session)[1] == []


def test_who_may_withdraw_terminate_and_appeal_is_the_lifecycle_files(app_data, db_url):
    from openimr.cases import record

    number = _case(db_url, app_data)
    with store.transaction(db_url) as session:
        with pytest.raises(lifecycle.NotPermitted, match=f"case {number}: withdraw is for intake or admin; you act "
                                                         "as reviewer"):
            record.withdraw(session, number, "not mine to withdraw", "rev", role="reviewer")
    with store.transaction(db_url) as session:
        case, changed = record.withdraw(session, number, "withdrawn at the employee's request", "clerk", role="intake")
        assert (case["status"], changed) == ("withdrawn", True)
    with store.transaction(db_url) as session:  # a double submit by someone who may not make it is still refused
        with pytest.raises(lifecycle.NotPermitted):
            record.withdraw(session, number, "again", "qa", role="qa")
    assert lifecycle.allowed("determined", "appeal", "admin") and not lifecycle.allowed("determined", "appeal", "intake")
    assert lifecycle.target("terminate") == "terminated" and lifecycle.target("register") is None
