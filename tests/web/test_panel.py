"""The workbench on the panel part: reviewers linked to the panel are ranked by its match
(conflicts exclude), and the assignment reaches the case part with the credentials block."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from fastapi.testclient import TestClient

from .conftest import PASSWORD
from .test_workflow import sign

PANEL = json.loads((Path(__file__).parents[1] / "panel" / "data" / "reviewers.json").read_text())


def test_panel_match_ranks_excludes_and_records_the_assignment(tmp_path):
    from openimr import db as dbmod
    from openimr.cases import store
    from openimr.panel import reviewers as panel
    from openimr.web import auth
    from openimr.web.app import create_app

    from .test_workflow import application

    url = f"sqlite:///{tmp_path / 'panel.sqlite'}"
    dbmod.migrate(url)
    fit, conflicted = copy.deepcopy(PANEL[1]), copy.deepcopy(PANEL[0])  # PM&R; occupational medicine
    conflicted["affiliations"] = [{"name": "Acme Logistics", "kind": "employer", "relation": "consultant"}]
    store.run(url, panel.add, panel.parse_reviewers([fit, conflicted], "panel.json"))
    with dbmod.session_scope(url) as session:
        auth.create_user(session, "admin", PASSWORD, "admin")
        auth.create_user(session, "intake", PASSWORD, "intake")
        auth.create_user(session, "dr_fit", PASSWORD, "reviewer", "Dr. Fit", panel_reviewer_id=fit["id"])
        auth.create_user(session, "dr_conflict", PASSWORD, "reviewer", "Dr. Conflict", panel_reviewer_id=conflicted["id"])
    ok_id, bad_id = fit["id"], conflicted["id"]
    app = create_app(url)

    def signed_in(username):
        client = TestClient(app)
        token = client.post("/api/login", json={"username": username, "password": PASSWORD}).json()["csrf_token"]
        client.headers["X-CSRF-Token"] = token
        return client

    case = signed_in("intake").post("/api/cases", json=application()).json()["case"]
    admin = signed_in("admin")
    panel_page = admin.get("/panel").text
    assert fit["id"] in panel_page and "dr_fit" in panel_page and fit["name"] in panel_page
    ranked = admin.get(f"/api/cases/{case['id']}/match").json()["ranked"]
    assert ranked[0]["id"] == ok_id and ranked[0]["why"][0].startswith("panel match score")
    conflict = next(r for r in ranked if r["id"] == bad_id)
    assert conflict["why"][0].startswith("excluded:") and "Acme Logistics" in conflict["why"][0]
    refused = admin.post(f"/api/cases/{case['id']}/assign", json={"reviewer_id": bad_id})
    assert refused.status_code == 409
    assigned = admin.post(f"/api/cases/{case['id']}/assign", json={})
    assert assigned.json()["reviewer_id"] == ok_id
    stored = store.run(url, store.show, case["case_number"])
    assert stored["reviewer_id"] == fit["id"] and stored["credentials"]["specialties"]
    assert fit["name"] not in json.dumps(stored["credentials"])
    reviewer = signed_in("dr_fit")
    for item in reviewer.get(f"/api/cases/{case['id']}").json()["disputed_items"]:
        reviewer.put(f"/api/cases/{case['id']}/items/{item['index']}/decision",
                     json={"decision": "Upheld", "guideline": "MTUS", "rationale": "Not supported by the records."})
    signed = sign(reviewer, case['id'])
    assert signed.status_code == 201, signed.text
    from openimr import read_letter

    letter = read_letter(reviewer.get(signed.json()["pdf_url"]).content)
    assert letter.reviewer.specialties == stored["credentials"]["specialties"]
    assert store.run(url, store.show, case["case_number"])["has_letter"] is True
