"""The case workflow through the API and the pages: intake with eligibility at once,
assignment, the reviewer's decisions beside the engine's drafts, sign and issue, supersede."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import date, timedelta

import pypdfium2

from openimr import read_letter

from .conftest import REVIEWER_NAMES


def application(**changes) -> dict:
    today = date.today()
    app = {
        "review_type": "regular", "received": (today - timedelta(days=5)).isoformat(), "signed": True,
        "ur_decision_attached": True, "date_of_injury": "2024-03-02",
        "employee": {"name": f"Pat Worker {uuid.uuid4().hex[:6]}"}, "employer": {"name": "Acme Logistics"},
        "claims_administrator": {"name": "Example Claims Co"},
        "requesting_physician": {"name": "Dr. Req Uester", "specialty": "Orthopedic Surgery"},
        "ur_decision": {"date": (today - timedelta(days=20)).isoformat(),
                        "served": (today - timedelta(days=19)).isoformat(), "service": "mail",
                        "items": [{"request": "MRI of the lumbar spine", "outcome": "denied",
                                   "guideline": "MTUS ACOEM Low Back Complaints"},
                                  {"request": "Physical therapy 2x6 lumbar spine", "outcome": "denied"}]},
        "documents": [{"kind": "clinical_summary", "name": "Clinical summary",
                       "text": "The injured worker has low back pain radiating to the left leg. "
                               "Examination shows no focal motor deficit. No red flags were documented."}],
    }
    app.update(changes)
    return app


def sign(client, case_id: int, **body):
    """Sign as the page does: the decisions version just seen, and the attestation."""
    version = client.get(f"/api/cases/{case_id}").json()["decisions_version"]
    return client.post(f"/api/cases/{case_id}/sign", json={"attest": True, "version": version, **body})


def sign_form(client, case_id: int, form: dict, **extra):
    """The page's confirm step: the attestation box ticked, the version shown."""
    version = client.get(f"/api/cases/{case_id}").json()["decisions_version"]
    return client.post(f"/cases/{case_id}/sign", data={**form, "attest": "yes", "version": str(version), **extra},
                       follow_redirects=False)


def pdf_text(content: bytes) -> str:
    pdf = pypdfium2.PdfDocument(content)
    return "\n".join(page.get_textpage().get_text_range() for page in pdf)


def test_intake_api_gives_eligibility_at_once(world):
    client = world.client("intake")
    response = client.post("/api/cases", json=application())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["eligibility"]["eligible"] is True and body["case"]["status"] == "eligible"
    late = application(received=date.today().isoformat(), signed=False)
    late["ur_decision"] = {**late["ur_decision"], "date": (date.today() - timedelta(days=90)).isoformat(),
                           "served": (date.today() - timedelta(days=89)).isoformat()}
    body = client.post("/api/cases", json=late).json()
    codes = {r["code"] for r in body["eligibility"]["reasons"]}
    assert body["eligibility"]["eligible"] is False and {"unsigned", "late"} <= codes


def test_eligibility_check_stores_nothing(world):
    client = world.client("intake")
    before = client.get("/api/cases").json()["total"]
    result = client.post("/api/eligibility", json=application(ur_decision_attached=False)).json()
    assert result["eligible"] is False and result["reasons"][0]["code"] == "ur_decision_missing"
    assert client.get("/api/cases").json()["total"] == before


def test_invalid_application_names_the_field_and_stores_nothing(world):
    client = world.client("intake")
    before = client.get("/api/cases").json()["total"]
    bad = application()
    bad["ur_decision"] = {**bad["ur_decision"], "items": []}
    response = client.post("/api/cases", json=bad)
    assert response.status_code == 422 and "ur_decision.items" in response.json()["detail"]
    assert client.get("/api/cases").json()["total"] == before


def test_intake_form_shows_the_result_on_the_same_page(world):
    client = world.client("intake")
    today = date.today()
    form = {"csrf_token": client.csrf, "review_type": "regular", "received": today.isoformat(),
            "signed": "1", "ur_decision_attached": "1", "employee_name": f"Pat {uuid.uuid4().hex[:6]}",
            "date_of_injury": "2024-01-01", "employer": "Acme", "claims_administrator": "Claims Co",
            "physician_name": "Dr. Req", "ur_date": (today - timedelta(days=60)).isoformat(),
            "ur_served": (today - timedelta(days=59)).isoformat(), "requests": "Norco 10/325 mg #90\nMRI lumbar"}
    page = client.post("/intake", data=form)
    assert page.status_code == 201
    assert "Not eligible" in page.text and "late" in page.text
    missing = client.post("/intake", data={**form, "requests": ""})
    assert missing.status_code == 422 and "Disputed items: list at least one disputed item" in missing.text


def _decide_all(client, case_id: int, decision: str = "Upheld") -> None:
    detail = client.get(f"/api/cases/{case_id}").json()
    for item in detail["disputed_items"]:
        response = client.put(f"/api/cases/{case_id}/items/{item['index']}/decision",
                              json={"decision": decision, "guideline": "MTUS Chronic Pain Medical Treatment "
                                    "Guidelines", "rationale": f"The records do not support item {item['index']}."})
        assert response.status_code == 200, response.text


def _new_assigned_case(world, reviewer: str = "rev_a", body: dict | None = None) -> int:
    created = world.client("intake").post("/api/cases", json=body or application()).json()["case"]
    admin = world.client("admin")
    response = admin.post(f"/api/cases/{created['id']}/assign", json={"reviewer_id": world.panel[reviewer]})
    assert response.status_code == 200, response.text
    assert response.json()["why"][0].startswith("panel match score") and "open cases" in response.json()["why"][1]
    return created["id"]


def test_engine_draft_and_reviewer_decision_are_kept_apart(world):
    case_id = _new_assigned_case(world)
    client = world.client("rev_a")
    detail = client.get(f"/api/cases/{case_id}").json()
    item = detail["disputed_items"][0]
    assert item["draft"] is not None and item["draft"]["decision"] in ("Upheld", "Overturned")
    assert item["decision"] is None
    flipped = "Overturned" if item["draft"]["decision"] == "Upheld" else "Upheld"
    client.put(f"/api/cases/{case_id}/items/0/decision", json={"decision": flipped, "rationale": "Mine."})
    again = client.get(f"/api/cases/{case_id}").json()["disputed_items"][0]
    assert again["decision"]["decision"] == flipped and again["draft"]["decision"] == item["draft"]["decision"]


def test_sign_and_issue_produces_the_letter_without_the_reviewer_name(world):
    parties = application(documents=application()["documents"] + [
        {"kind": "medical_record", "name": "MRI lumbar spine report of 2024-04-09",
         "text": "MRI of the lumbar spine: a 3 mm disc protrusion at L4-L5 without nerve root compression."}])
    case_id = _new_assigned_case(world, body=parties)
    client = world.client("rev_a")
    unsigned = sign(client, case_id)
    assert unsigned.status_code == 409 and "missing" in unsigned.json()["detail"]
    _decide_all(client, case_id, "Overturned")
    draft = client.get(f"/api/cases/{case_id}/draft.pdf")
    assert draft.status_code == 200 and "DRAFT" in pdf_text(draft.content)
    signed = sign(client, case_id)
    assert signed.status_code == 201, signed.text
    pdf = client.get(signed.json()["pdf_url"] + "?download=true")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment")
    text = pdf_text(pdf.content)
    assert "DRAFT" not in text
    for name in REVIEWER_NAMES:
        assert name not in text
    letter = read_letter(pdf.content)
    assert [i.decision for i in letter.items] == ["Overturned", "Overturned"]
    assert letter.items[0].request == "MRI of the lumbar spine"
    # the mailable letter: the organization's letterhead, the parties entered at intake, the
    # case file's documents and the appeal rights
    from openimr.letters.write.artifacts import APPEAL_HEADING
    from openimr.letters.write.organization import configured_organization

    flat = " ".join(text.split())
    organization = configured_organization()
    assert organization.name in flat.split(parties["employee"]["name"])[0]  # the letterhead, above the parties
    assert organization.address[-1] in flat
    for party in ("employee", "employer", "claims_administrator", "requesting_physician"):
        assert parties[party]["name"] in flat, party
    documents = flat.split("MRI lumbar spine report of 2024-04-09")  # the documents reviewed, both listed
    assert len(documents) == 2 and "Clinical summary" in flat
    appeal = flat.split(APPEAL_HEADING)
    assert len(appeal) == 2, "the appeal rights are not in their own section"
    assert "Workers' Compensation Appeals Board (WCAB)" in appeal[1] and "WCAB within 30 days" in appeal[1]
    assert "Labor Code section 4610.6(h)" in appeal[1]


def test_signed_determination_is_immutable_and_superseding_is_audited(world):
    case_id = _new_assigned_case(world)
    client = world.client("rev_a")
    _decide_all(client, case_id, "Upheld")
    first = sign(client, case_id).json()
    first_pdf = client.get(first["pdf_url"]).content
    change = client.put(f"/api/cases/{case_id}/items/0/decision", json={"decision": "Overturned", "rationale": "x"})
    assert change.status_code == 409
    assert sign(client, case_id).status_code == 409
    assert client.post(f"/api/cases/{case_id}/supersede", json={"reason": ""}).status_code == 422
    assert client.post(f"/api/cases/{case_id}/supersede",
                       json={"reason": "new records received"}).status_code == 200
    _decide_all(client, case_id, "Overturned")
    second = sign(client, case_id).json()
    assert second["version"] == 2
    detail = client.get(f"/api/cases/{case_id}").json()
    old = next(d for d in detail["determinations"] if d["version"] == 1)
    assert old["superseded_by"] == second["id"] and old["supersede_reason"] == "new records received"
    assert hashlib.sha256(client.get(first["pdf_url"]).content).digest() == hashlib.sha256(first_pdf).digest()
    actions = [a["action"] for a in client.get(f"/api/cases/{case_id}/audit").json()]
    assert actions.count("determination_signed") == 2
    assert "supersede_started" in actions and "determination_superseded" in actions


def test_case_page_shows_drafts_highlights_and_the_editor(world):
    case_id = _new_assigned_case(world)
    page = world.client("rev_a").get(f"/cases/{case_id}").text
    assert "Engine draft" in page and "Save all decisions" in page and "Sign and issue" in page
    assert re.search(r"<mark title=\"[^\"]+\">", page) or "Facts are highlighted" in page
    qa_page = world.client("qa").get(f"/cases/{case_id}").text
    assert "Save all decisions" not in qa_page and "Sign and issue" not in qa_page


def test_queue_filters_and_sorting(world):
    client = world.client("qa")
    everything = client.get("/api/cases?per_page=200").json()
    eligible = client.get("/api/cases?status=eligible&per_page=200").json()
    assert all(c["status"] == "eligible" for c in eligible["items"])
    assert eligible["total"] <= everything["total"]
    by_number = [c["case_number"] for c in client.get("/api/cases?sort=case_number&per_page=200").json()["items"]]
    assert by_number == sorted(by_number)
    page = client.get("/api/cases?per_page=1&page=2").json()
    assert page["page"] == 2 and len(page["items"]) == 1
    assert client.get("/api/cases?sort=nonsense").status_code == 422
    assert client.get("/api/cases?per_page=1000").status_code == 422


def test_panel_page_lists_reviewers_with_load(world):
    page = world.client("admin").get("/panel").text
    assert "Dr. Alice Zamora" in page and "Open cases" in page
    reviewers = world.client("qa").get("/api/reviewers").json()
    assert reviewers["total"] == 3 and all("open_cases" in r for r in reviewers["items"])


def test_the_one_audit_log_holds_the_workbench_decisions_and_detects_a_changed_one(world):
    from sqlalchemy import select, update

    from openimr import db as dbmod
    from openimr.cases import audit
    from openimr.cases.tables import CaseRow, DecisionRow

    case_id = _new_assigned_case(world)
    _decide_all(world.client("rev_a"), case_id)
    with dbmod.session_scope(world.url) as session:
        assert audit.verify(session)[1] == []
        number = session.get(CaseRow, case_id).case_number
        entries = [r for r in audit.history(session, number) if r.action == "decision_recorded"]
        assert len(entries) == 2 and entries[0].actor == "web:rev_a"
        decision = session.scalar(select(DecisionRow).where(DecisionRow.case_id == case_id).limit(1))
        original = decision.decision
        session.execute(update(DecisionRow).where(DecisionRow.id == decision.id)
                        .values(decision="Overturned" if original == "Upheld" else "Upheld"))
    with dbmod.session_scope(world.url) as session:
        problems = audit.verify(session)[1]
        assert len(problems) == 1 and problems[0].startswith(f"decision {decision.id} of case {number}: ")
        session.execute(update(DecisionRow).where(DecisionRow.id == decision.id).values(decision=original))
    with dbmod.session_scope(world.url) as session:
        assert audit.verify(session)[1] == []


def test_page_forms_sign_supersede_and_sign_again(world):
    case_id = _new_assigned_case(world)
    client = world.client("rev_a")
    form = {"csrf_token": client.csrf}
    for item in client.get(f"/api/cases/{case_id}").json()["disputed_items"]:
        saved = client.post(f"/cases/{case_id}/items/{item['index']}", follow_redirects=False,
                            data={**form, "decision": "Upheld", "guideline": "MTUS", "rationale": "Not shown."})
        assert saved.status_code == 303
    assert sign_form(client, case_id, form).status_code == 303
    page = client.get(f"/cases/{case_id}").text
    assert "Version 1" in page and "Save all decisions" not in page and "Start a superseding determination" in page
    refused = client.post(f"/cases/{case_id}/items/0", data={**form, "decision": "Overturned", "rationale": "x"})
    assert refused.status_code == 409 and "superseded" in refused.text
    opened = client.post(f"/cases/{case_id}/supersede", data={**form, "reason": "records arrived late"},
                         follow_redirects=False)
    assert opened.status_code == 303
    client.post(f"/cases/{case_id}/items/0", data={**form, "decision": "Overturned", "rationale": "Now supported."})
    assert sign_form(client, case_id, form).status_code == 303
    page = client.get(f"/cases/{case_id}").text
    assert "Version 2" in page and "superseded" in page and "records arrived late" in page


def test_overdue_cases_are_marked_and_filtered(world):
    today = date.today()
    old = application(received=(today - timedelta(days=80)).isoformat())
    old["ur_decision"] = {**old["ur_decision"], "date": (today - timedelta(days=95)).isoformat(),
                          "served": (today - timedelta(days=90)).isoformat()}
    created = world.client("intake").post("/api/cases", json=old).json()
    assert created["eligibility"]["eligible"], created
    client = world.client("qa")
    overdue = client.get("/api/cases?due=overdue&per_page=200").json()["items"]
    row = next(c for c in overdue if c["id"] == created["case"]["id"])
    assert row["overdue"] and date.fromisoformat(row["determination_due"]) < today
    page = client.get("/cases?due=overdue").text
    assert 'class="overdue"' in page and "tag bad" in page


def test_a_case_built_from_a_letter_does_not_cite_that_letter(world):
    detail = world.client("rev_a").get(f"/api/cases/{world.cases['rev_a']}").json()
    from openimr import db as dbmod
    from openimr.cases import record
    from openimr.cases.tables import CaseRow
    from openimr.library import search as library_search

    with dbmod.session_scope(world.url) as session:
        case = session.get(CaseRow, world.cases["rev_a"])
        source = record.documents(session, case)[0].source_case_number
        raw = {h.case_number for item in record.disputed_items(case)
               for h in library_search.search(session, item["request"], per_page=4).items}
    assert source in raw, "without the exclusion the letter itself would be cited"
    cited = {p["case_number"] for item in detail["disputed_items"] for p in (item["draft"] or {}).get("precedents", [])}
    assert cited and source not in cited


def test_queue_filters_by_reviewer_for_qa_only(world):
    rows = world.client("qa").get(f"/api/cases?reviewer={world.panel['rev_b']}&per_page=200").json()["items"]
    assert rows and {r["assigned_reviewer"] for r in rows} == {"Dr. Bertrand Yoshida"}
    page = world.client("admin").get(f"/cases?reviewer={world.panel['rev_b']}").text
    assert 'id="f-reviewer"' in page and f'href="/cases/{world.cases["rev_a"]}"' not in page
    assert world.client("intake").get(f"/api/cases?reviewer={world.panel['rev_b']}").status_code == 403
