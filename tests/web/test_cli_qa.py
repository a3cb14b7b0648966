"""QA before issue and the notes on the command line (SQLite and PostgreSQL): `openimr case
qa approve|return` and `openimr case note|notes` act through the faces the pages use
(`openimr.cases.qa`), so the workbench sees what the command did; a repeat changes nothing,
bad input is one line and exit 1."""

from __future__ import annotations

import json

from .test_qa import _actions, _signed_draft, qa_required  # noqa: F401  (fixture)
from .test_workflow import _decide_all, sign


def _number(world, case_id: int) -> str:
    return world.client("admin").get(f"/api/cases/{case_id}").json()["case_number"]


def test_cli_returns_then_approves_a_signed_draft_once(world, cli, qa_required):  # noqa: F811
    case_id = _signed_draft(world)
    number = _number(world, case_id)
    short = cli("case", "qa", "return", number, "--reason", "x", "--db", world.url)
    assert short.exit_code == 1 and short.stderr.startswith("reason: say why") and len(short.stderr.splitlines()) == 1
    early = cli("case", "qa", "approve", "CM26-9999999", "--db", world.url)
    assert early.exit_code == 1 and "no such case" in early.stderr and len(early.stderr.splitlines()) == 1
    back = cli("case", "qa", "return", number, "--reason", "item 1 cites no guideline section", "--json",
               "--db", world.url)
    assert back.exit_code == 0, back.stderr
    assert json.loads(back.stdout)["status"] == "under_review" and json.loads(back.stdout)["changed"] is True
    detail = world.client("qa").get(f"/api/cases/{case_id}").json()
    assert detail["status"] == "under_review"
    assert detail["determinations"][0]["qa_returned"] == "item 1 cites no guideline section"
    again = cli("case", "qa", "return", number, "--reason", "item 1 cites no guideline section", "--db", world.url)
    assert again.exit_code == 0 and "already returned" in again.stdout
    none_waiting = cli("case", "qa", "approve", number, "--db", world.url)
    assert none_waiting.exit_code == 1 and "cannot qa approve (only from qa_review)" in none_waiting.stderr
    _decide_all(world.client("rev_a"), case_id, "Overturned")
    assert sign(world.client("rev_a"), case_id).status_code == 201
    done = cli("case", "qa", "approve", number, "--db", world.url)
    assert done.exit_code == 0 and f"{number}: approved and issued; status determined" in done.stdout
    repeat = cli("case", "qa", "approve", number, "--db", world.url)
    assert repeat.exit_code == 0 and "already approved" in repeat.stdout
    assert world.client("qa").get(f"/api/cases/{case_id}").json()["status"] == "determined"
    actions = _actions(world, case_id)
    assert actions.count("qa_returned") == 1 and actions.count("qa_approved") == 1


def test_cli_notes_are_the_pages_notes(world, cli, monkeypatch):
    case_id = _signed_draft(world)
    number = _number(world, case_id)
    monkeypatch.setenv("OPENIMR_ACTOR", "ops-desk")
    empty = cli("case", "note", number, "   ", "--db", world.url)
    assert empty.exit_code == 1 and empty.stderr.strip() == "text: the note is empty"
    assert cli("case", "notes", number, "--db", world.url).stdout.strip() == f"no notes on {number}"
    added = cli("case", "note", number, "Item 2: the RFA is in the records of 2026-02-03.", "--db", world.url)
    assert added.exit_code == 0 and "added" in added.stdout
    twice = cli("case", "note", number, "Item 2: the RFA is in the records of 2026-02-03.", "--db", world.url)
    assert twice.exit_code == 0 and "there already" in twice.stdout
    world.client("rev_a").post(f"/api/cases/{case_id}/notes", json={"text": "Thanks, seen."})
    listed = cli("case", "notes", number, "--json", "--db", world.url)
    assert listed.exit_code == 0
    notes = json.loads(listed.stdout)
    assert [(n["actor"], n["text"]) for n in notes] == [
        ("ops-desk", "Item 2: the RFA is in the records of 2026-02-03."), ("web:rev_a", "Thanks, seen.")]
    assert [n["text"] for n in world.client("qa").get(f"/api/cases/{case_id}/notes").json()] == [
        n["text"] for n in notes]
    plain = cli("case", "notes", number, "--db", world.url).stdout.splitlines()
    assert len(plain) == 2 and plain[0].endswith("ops-desk (admin): Item 2: the RFA is in the records of 2026-02-03.")
    missing = cli("case", "notes", "CM26-9999999", "--db", world.url)
    assert missing.exit_code == 1 and "no such case" in missing.stderr and len(missing.stderr.splitlines()) == 1
