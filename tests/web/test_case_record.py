"""One record of a case: the workbench reads status, deadlines, events, documents and the
reviewer from the case part, writes them through it, and stores a new application
atomically (the case, its documents and their audit entries in one transaction, or none)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from .conftest import PASSWORD
from .test_workflow import _decide_all, _new_assigned_case, application, sign


def _counts(url: str) -> dict[str, int]:
    from openimr import db as dbmod
    from openimr.cases.tables import AuditRow, CaseRow, DocumentRow

    with dbmod.session_scope(url) as session:
        return {t.__tablename__: session.scalar(select(func.count()).select_from(t))
                for t in (CaseRow, AuditRow, DocumentRow)}


def _intake(url: str):
    from openimr import db as dbmod
    from openimr.web import auth

    dbmod.migrate(url)
    with dbmod.session_scope(url) as session:
        return auth.principal_of(session, auth.create_user(session, "intake", PASSWORD, "intake"), "")


def _create(url: str, who, app: dict):
    from openimr import db as dbmod
    from openimr.web import workflow

    with dbmod.session_scope(url) as session:
        session.info["url"] = url
        documents = app.get("documents", [])
        app = {k: v for k, v in app.items() if k != "documents"}  # the API takes them apart too
        case = workflow.create_case(session, who, app, documents)
        return case.id, case.case_number


def test_a_crash_after_the_case_part_write_stores_nothing_and_a_retry_succeeds(db_url, monkeypatch):
    from openimr.cases import record

    who = _intake(db_url)
    empty = _counts(db_url)

    def crash(*_args, **_kwargs):
        raise RuntimeError("simulated crash between the case's row and its document")

    with monkeypatch.context() as patch:
        patch.setattr(record, "add_document", crash)
        with pytest.raises(RuntimeError):
            _create(db_url, who, application())
    assert _counts(db_url) == empty  # no orphan case row, no audit entry
    case_id, number = _create(db_url, who, application())
    assert _counts(db_url) == {"imr_cases": 1, "imr_audit_log": 2, "imr_documents": 1}
    assert number.endswith("-0000001")  # the failed attempt used no case number


def test_a_database_error_on_a_document_rolls_back_the_case(db_url, monkeypatch):
    """A real failure of the second insert (a document too long for its column on
    PostgreSQL; a NOT NULL text on both) undoes the case's row and its audit entry."""
    from sqlalchemy.exc import IntegrityError

    who = _intake(db_url)
    app = application()
    app["documents"] = [{"kind": "medical_record", "name": "note", "text": None}]
    with pytest.raises(IntegrityError):
        _create(db_url, who, app)
    assert _counts(db_url)["imr_cases"] == 0 and _counts(db_url)["imr_audit_log"] == 0
    _case_id, number = _create(db_url, who, application())
    assert number.endswith("-0000001") and _counts(db_url)["imr_cases"] == 1


def test_intake_api_refuses_a_bad_application_and_stores_nothing(world):
    before = _counts(world.url)
    bad = application()
    bad["ur_decision"] = {**bad["ur_decision"], "items": []}
    response = world.client("intake").post("/api/cases", json=bad)
    assert response.status_code == 422 and "ur_decision.items" in response.json()["detail"]
    assert _counts(world.url) == before


def test_events_recorded_with_the_cli_show_on_the_case_page(world, cli):
    created = world.client("intake").post("/api/cases", json=application()).json()["case"]
    number, case_id = created["case_number"], created["id"]
    notice = (date.today() - timedelta(days=3)).isoformat()
    result = cli("case", "event", number, "notice_sent", notice, "--method", "electronic", "--db", world.url)
    assert result.exit_code == 0, result.output
    result = cli("case", "event", number, "converted_expedited", date.today().isoformat(), "--db", world.url)
    assert result.exit_code == 0, result.output
    shown = json.loads(cli("case", "show", number, "--db", world.url).output)
    detail = world.client("qa").get(f"/api/cases/{case_id}").json()
    assert [(e["kind"], e["day"]) for e in detail["events"]] == [(e["kind"], e["day"]) for e in shown["events"]]
    assert detail["records_due"] == str(shown["records_due"]) and shown["records_due"]
    assert detail["determination_due"] == str(shown["determination_due"])
    assert detail["priority"] == "expedited" and detail["status"] == shown["status"]
    page = world.client("intake").get(f"/cases/{case_id}").text
    assert "notice sent" in page and "(electronic)" in page and "converted expedited" in page
    row = next(c for c in world.client("qa").get("/api/cases?priority=expedited&per_page=200").json()["items"]
               if c["id"] == case_id)
    assert row["determination_due"] == str(shown["determination_due"])


def test_workbench_status_changes_are_the_case_parts(world, cli):
    case_id = _new_assigned_case(world)
    client = world.client("rev_a")
    number = client.get(f"/api/cases/{case_id}").json()["case_number"]

    def shown() -> dict:
        result = cli("case", "show", number, "--db", world.url)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert shown()["status"] == "assigned" and shown()["reviewer_id"] == world.panel["rev_a"]
    _decide_all(client, case_id, "Upheld")
    assert sign(client, case_id).status_code == 201
    assert shown()["status"] == "determined" and shown()["has_letter"]
    assert client.get(f"/api/cases/{case_id}").json()["status"] == "determined"
    assert client.post(f"/api/cases/{case_id}/supersede", json={"reason": "records arrived"}).status_code == 200
    assert shown()["status"] == "superseding"
    _decide_all(client, case_id, "Overturned")
    assert sign(client, case_id).status_code == 201
    assert shown()["status"] == "determined"
    # the superseded determination is marked so, in the API and on the case page ...
    dets = client.get(f"/api/cases/{case_id}").json()["determinations"]
    assert [(d["version"], d["superseded_by_version"], d["supersede_reason"]) for d in dets] == [
        (2, None, None), (1, 2, "records arrived")]
    assert "Superseded by version 2</strong> (records arrived)" in client.get(f"/cases/{case_id}").text
    # ... and the superseding letter says which letter it supersedes and why
    import pypdfium2

    pdf = pypdfium2.PdfDocument(client.get(dets[0]["pdf_url"]).content)
    text = " ".join(" ".join(page.get_textpage().get_text_range() for page in pdf).split())
    assert f"{number} v1" in text and "records arrived" in text
    trail = json.loads(cli("audit", "show", number, "--json", "--db", world.url).output)
    decided = [("decision_recorded", "web:rev_a")] * 2
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("create", "web:intake"), ("document_added", "web:intake"), ("assign", "web:admin"), *decided,
        ("determined", "web:rev_a"), ("determination_signed", "web:rev_a"), ("supersede_started", "web:rev_a"),
        *decided, ("determination_superseded", "web:rev_a"), ("determined", "web:rev_a"),
        ("determination_signed", "web:rev_a")]
    assert cli("audit", "verify", "--db", world.url).exit_code == 0


def test_a_status_set_by_the_case_part_reaches_the_queue(world, cli, write_json):
    """A case published with the CLI is no longer open in the workbench (one record)."""
    case_id = _new_assigned_case(world)
    number = world.client("qa").get(f"/api/cases/{case_id}").json()["case_number"]
    letter = {"layout": "L2016", "case_number": number,
              "items": [{"request": "MRI of the lumbar spine", "decision": "Upheld", "medically_necessary": False}]}
    result = cli("case", "publish", number, "--letter", write_json(letter), "--db", world.url)
    assert result.exit_code == 0, result.output
    rows = world.client("qa").get("/api/cases?status=published&per_page=200").json()["items"]
    assert case_id in {r["id"] for r in rows}
    refused = world.client("rev_a").put(f"/api/cases/{case_id}/items/0/decision",
                                        json={"decision": "Overturned", "rationale": "late change"})
    assert refused.status_code == 409


def test_a_panel_reviewer_is_linked_to_one_workbench_user(sqlite_url):
    """The case part names a linked reviewer by the panel id: two users on one id would
    both see (and could sign) that reviewer's cases; an id the panel does not hold links
    to nothing, and only a reviewer is linked."""
    from openimr import db as dbmod
    from openimr.cases import store
    from openimr.panel import reviewers
    from openimr.web import auth

    from .conftest import PANEL

    dbmod.migrate(sqlite_url)
    store.run(sqlite_url, reviewers.add, reviewers.parse_reviewers([PANEL[0] | {"id": "R-1"}], "panel"), "admin")
    with dbmod.session_scope(sqlite_url) as session:
        auth.create_user(session, "dr_one", PASSWORD, "reviewer", panel_reviewer_id="R-1")
        with pytest.raises(ValueError, match="panel_id: 'R-1' is already linked"):
            auth.create_user(session, "dr_two", PASSWORD, "reviewer", panel_reviewer_id="R-1")
        with pytest.raises(ValueError, match=r"panel_id: 'R-9' is not on the panel \(add it first: openimr panel add\)"):
            auth.create_user(session, "dr_three", PASSWORD, "reviewer", panel_reviewer_id="R-9")
        with pytest.raises(ValueError, match="panel_id: only a reviewer is linked to the panel"):
            auth.create_user(session, "clerk", PASSWORD, "intake", panel_reviewer_id="R-1")
