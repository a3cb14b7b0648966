"""Cases registered with the CLI (`openimr case new`) are the same one record the workbench
works: listed in the queue, opened (no documents, the disputed items from the stored
application), assigned, decided and signed, audited, on SQLite and PostgreSQL; reading the
queue writes nothing."""

from __future__ import annotations

import json
import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from .conftest import PASSWORD
from .test_workflow import sign

ITEMS = [{"request": "MRI of the lumbar spine", "outcome": "denied", "guideline": "MTUS ACOEM Low Back Complaints"},
         {"request": "Physical therapy 2x6 lumbar spine", "outcome": "modified", "guideline": ""}]


def _bench(url: str, *names: str) -> tuple[object, dict[str, int]]:
    """A workbench on `url` with these users (the name is the role; `rev…` are reviewers
    linked to their record on the panel, `P-<name>`), and no letters: none is needed."""
    from pathlib import Path

    from openimr import db as dbmod
    from openimr.cases import store
    from openimr.panel import reviewers
    from openimr.web import auth
    from openimr.web.app import create_app

    dbmod.migrate(url)
    sample = json.loads((Path(__file__).parents[1] / "panel" / "data" / "reviewers.json").read_text())[1]
    panel = [sample | {"id": f"P-{name}", "name": f"Dr. {name.title()} Quill"} for name in names if name.startswith("rev")]
    if panel:
        store.run(url, reviewers.add, reviewers.parse_reviewers(panel, "panel"), "admin")
    users = {}
    with dbmod.session_scope(url) as session:
        for name in names:
            role = "reviewer" if name.startswith("rev") else name
            user = auth.create_user(session, name, PASSWORD, role, f"Dr. {name.title()} Quill",
                                    f"P-{name}" if role == "reviewer" else None)
            users[name] = user.id
    return create_app(url), users


def _client(app, username: str) -> TestClient:
    client = TestClient(app)
    response = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def _cli_case(cli, write_json, app_data, url: str) -> str:
    app_data["ur_decision"]["items"] = ITEMS
    result = cli("case", "new", str(write_json(app_data)), "--json", "--db", url)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["case_number"]


def _audit_rows(url: str) -> int:
    from openimr import db as dbmod
    from openimr.cases.tables import AuditRow

    with dbmod.session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(AuditRow))


def test_a_case_registered_with_the_cli_is_listed_opened_assigned_and_decided(db_url, cli, write_json, app_data):
    app, users = _bench(db_url, "intake", "admin", "rev")
    number = _cli_case(cli, write_json, app_data, db_url)
    logged = _audit_rows(db_url)

    admin = _client(app, "admin")
    row = next(r for r in admin.get("/api/cases?per_page=200").json()["items"] if r["case_number"] == number)
    assert row["status"] == "eligible" and row["items"] == 2 and row["assigned"] is False
    intake = _client(app, "intake")
    assert number in intake.get("/cases").text and number in admin.get("/panel").text
    assert _audit_rows(db_url) == logged  # listing and opening a case writes nothing

    detail = admin.get(f"/api/cases/{row['id']}").json()
    assert detail["documents"] == []
    assert [(i["request"], i["ur_guideline"], i["outcome"]) for i in detail["disputed_items"]] == \
        [(i["request"], i["guideline"], i["outcome"]) for i in ITEMS]
    assert detail["received"] == app_data["received"] and detail["eligibility"]["eligible"] is True
    page = intake.get(f"/cases/{row['id']}")
    assert page.status_code == 200 and "No documents yet." in page.text and ITEMS[1]["request"] in page.text

    reviewer = _client(app, "rev")
    assert number not in {r["case_number"] for r in reviewer.get("/api/cases").json()["items"]}
    assert reviewer.get(f"/api/cases/{row['id']}").status_code == 403  # not theirs yet
    assigned = admin.post(f"/api/cases/{row['id']}/assign", json={"reviewer_id": "P-rev"})
    assert assigned.status_code == 200, assigned.text
    assert number in {r["case_number"] for r in reviewer.get("/api/cases").json()["items"]}
    shown = json.loads(cli("case", "show", number, "--db", db_url).output)
    assert shown["status"] == "assigned" and shown["reviewer_id"] == "P-rev"

    for index, item in enumerate(ITEMS):
        saved = reviewer.put(f"/api/cases/{row['id']}/items/{index}/decision",
                             json={"decision": "Upheld", "guideline": "MTUS",
                                   "rationale": f"The records do not support {item['request']}."})
        assert saved.status_code == 200, saved.text
    signed = sign(reviewer, row['id'])
    assert signed.status_code == 201, signed.text
    shown = json.loads(cli("case", "show", number, "--db", db_url).output)
    assert shown["status"] == "determined" and shown["has_letter"]
    trail = [a["action"] for a in admin.get(f"/api/cases/{row['id']}/audit").json()]
    assert trail == ["create", "assign", "decision_recorded", "decision_recorded", "determined",
                     "determination_signed"]
    assert cli("audit", "verify", "--db", db_url).exit_code == 0


def test_concurrent_queue_reads_write_nothing(db_url, cli, write_json, app_data):
    """Several requests listing the queue at once, right after CLI registrations: each sees
    every case, and the audit log (the one log of every write) gains no row."""
    from openimr import db as dbmod
    from openimr.cases import audit
    from openimr.web import auth, workflow
    from openimr.web.tables import User

    app, users = _bench(db_url, "qa")
    numbers = [_cli_case(cli, write_json, dict(app_data, employee={**app_data["employee"], "name": f"W {n}"}),
                         db_url) for n in range(3)]
    logged = _audit_rows(db_url)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def list_queue() -> None:
        try:
            with dbmod.session_scope(db_url) as session:
                who = auth.principal_of(session, session.get(User, users["qa"]), "")
                start.wait()
                rows, _total = workflow.case_queue(session, who, per_page=200)
                assert set(numbers) <= {c.case_number for c in rows}
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=list_queue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert _audit_rows(db_url) == logged
    with dbmod.session_scope(db_url) as session:
        assert audit.verify(session)[1] == []


def test_a_case_assigned_with_the_cli_shows_only_in_its_reviewers_queue(sqlite_url, cli, write_json, app_data):
    """`openimr case new` then `openimr case assign` (the panel's best match): the linked
    reviewer's own queue brings the case in; the other reviewer never sees it."""
    import copy
    from pathlib import Path

    from openimr import db as dbmod
    from openimr.cases import store
    from openimr.panel import reviewers as panel
    from openimr.web import auth
    from openimr.web.app import create_app

    reviewers = json.loads((Path(__file__).parents[1] / "panel" / "data" / "reviewers.json").read_text())
    fit, conflicted = copy.deepcopy(reviewers[1]), copy.deepcopy(reviewers[0])
    conflicted["affiliations"] = [{"name": app_data["employer"]["name"], "kind": "employer", "relation": "consultant"}]
    dbmod.migrate(sqlite_url)
    store.run(sqlite_url, panel.add, panel.parse_reviewers([fit, conflicted], "panel.json"))
    with dbmod.session_scope(sqlite_url) as session:
        auth.create_user(session, "dr_fit", PASSWORD, "reviewer", "Dr. Fit", panel_reviewer_id=fit["id"])
        auth.create_user(session, "dr_conflict", PASSWORD, "reviewer", "Dr. Conflict", panel_reviewer_id=conflicted["id"])
    number = _cli_case(cli, write_json, app_data, sqlite_url)
    result = cli("case", "assign", number, "--json", "--db", sqlite_url)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["reviewer"] == fit["id"]

    app = create_app(sqlite_url)
    other = _client(app, "dr_conflict")
    assert number not in {r["case_number"] for r in other.get("/api/cases?per_page=200").json()["items"]}
    reviewer = _client(app, "dr_fit")
    row = next(r for r in reviewer.get("/api/cases").json()["items"] if r["case_number"] == number)
    assert row["status"] == "assigned" and other.get(f"/api/cases/{row['id']}").status_code == 403
    page = reviewer.get(f"/cases/{row['id']}").text
    assert "Save all decisions" in page and "Criteria alone" in page  # the assigned reviewer works it
