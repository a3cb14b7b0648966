"""QA before issue and notes in a real browser (Debian's Chromium via Playwright) against the
app served by uvicorn: QA reads the signed draft held for it, leaves a note, returns it; the
reviewer sees the note and the return; QA approves the new signature, a stale second approve
says it is done already; intake never sees notes, another reviewer gets the error page that
leads back. Screenshots under test-output/screenshots/."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from .test_browser import SHOTS, _check_accessible, _page, _sign_in, browser, server  # noqa: F401  (fixtures)
from .test_qa import qa_required  # noqa: F401  (fixture)
from .test_workflow import _decide_all, _new_assigned_case, application, pdf_text, sign

pytestmark = pytest.mark.browser


def test_qa_returns_and_approves_with_notes_and_each_roles_error_path(server, browser, sqlite_world,  # noqa: F811
                                                                       qa_required):  # noqa: F811
    case_id = _new_assigned_case(sqlite_world)
    _decide_all(sqlite_world.client("rev_a"), case_id)
    assert sign(sqlite_world.client("rev_a"), case_id).status_code == 201
    qa = _page(browser)
    _sign_in(qa, server, "qa")
    qa.goto(f"{server}/cases/{case_id}")
    assert "Signed and held for QA" in qa.locator("#qa-waiting").inner_text()
    _check_accessible(qa, "30-qa-review")
    qa.get_by_label("A note for QA and the reviewer").fill("Item 1: say which guideline section applies.")
    qa.get_by_role("button", name="Add the note").click()
    qa.wait_for_selector("ol.notes li")
    assert "Item 1: say which guideline section applies." in qa.locator("ol.notes").inner_text()
    qa.get_by_role("button", name="Return to the reviewer").click()  # no reason yet: the browser asks for one
    assert qa.evaluate("!document.querySelector('#qa-reason').checkValidity()")
    assert "Signed and held for QA" in qa.locator("#qa-waiting").inner_text()  # nothing sent
    qa.get_by_label("Return to the reviewer: reason").fill("the guideline section is missing")
    qa.get_by_role("button", name="Return to the reviewer").click()
    qa.wait_for_selector("text=Returned to the reviewer")
    assert "Returned by QA, never issued" in qa.locator("#determinations").inner_text()
    assert qa.locator("#qa").count() == 0  # nothing waits for QA now
    qa.screenshot(path=str(SHOTS / "31-qa-returned.png"), full_page=True)

    reviewer = _page(browser)
    _sign_in(reviewer, server, "rev_a")
    reviewer.goto(f"{server}/cases/{case_id}")
    assert "Item 1: say which guideline section applies." in reviewer.locator("ol.notes").inner_text()
    assert "the guideline section is missing" in reviewer.locator("#determinations").inner_text()
    reviewer.get_by_label("A note for QA and the reviewer").fill("Section added to item 1.")
    reviewer.get_by_role("button", name="Add the note").click()
    reviewer.wait_for_selector("text=Section added to item 1.")
    _decide_all(sqlite_world.client("rev_a"), case_id, "Overturned")
    assert sign(sqlite_world.client("rev_a"), case_id).status_code == 201
    reviewer.screenshot(path=str(SHOTS / "32-reviewer-after-return.png"), full_page=True)
    reviewer.context.close()

    qa.goto(f"{server}/cases/{case_id}")
    stale = qa.context.new_page()  # the same page open twice: the second approve is a repeat
    stale.goto(f"{server}/cases/{case_id}")
    qa.get_by_role("button", name="Approve and issue").click()
    qa.wait_for_selector("text=Approved: the Final Determination is issued")
    stale.get_by_role("button", name="Approve and issue").click()
    stale.wait_for_selector("text=Already approved and issued")
    assert "determined" in qa.locator(".facts").first.inner_text()
    qa.screenshot(path=str(SHOTS / "33-qa-approved.png"), full_page=True)
    qa.context.close()

    intake = _page(browser)
    _sign_in(intake, server, "intake")
    intake.goto(f"{server}/cases/{case_id}")
    assert intake.locator("#notes").count() == 0 and "Section added" not in intake.content()
    response = intake.goto(f"{server}/api/cases/{case_id}/notes")
    assert response.status == 403
    intake.screenshot(path=str(SHOTS / "34-intake-no-notes.png"), full_page=True)
    intake.context.close()

    other = _page(browser)
    _sign_in(other, server, "rev_b")
    other.goto(f"{server}/cases")
    other.evaluate(f"location.href = '/cases/{case_id}'")
    other.wait_for_url(f"**/cases/{case_id}")
    assert other.get_by_role("alert").inner_text() == "this case is not assigned to you"
    other.screenshot(path=str(SHOTS / "35-other-reviewer-refused.png"))
    other.get_by_role("link", name="Back to where you were").click()
    other.wait_for_url(lambda url: url.endswith("/cases"))
    other.context.close()


def test_admin_pages_users_and_panel_editor(server, browser, sqlite_world):  # noqa: F811
    page = _page(browser)
    _sign_in(page, server, "admin")
    page.goto(f"{server}/users")
    _check_accessible(page, "36-users")
    name = "b" + uuid.uuid4().hex[:8]
    page.get_by_label("User name").fill(name)
    page.get_by_label("Role").select_option("intake")
    page.get_by_label("Password (at least 8 characters)").fill("short")  # the browser refuses it first
    page.get_by_role("button", name="Add the user").click()
    assert page.evaluate("!document.querySelector('#password').checkValidity()")
    page.get_by_label("Password (at least 8 characters)").fill("a long enough password")
    page.get_by_label("Panel record (expert reviewers only: their id on the panel)").fill("R-A")
    page.get_by_role("button", name="Add the user").click()
    page.wait_for_selector("[role=alert]")
    assert page.get_by_role("alert").inner_text() == "panel_id: only a reviewer is linked to the panel"
    assert page.get_by_label("User name").input_value() == name  # what was typed is kept
    page.get_by_label("Panel record (expert reviewers only: their id on the panel)").fill("")
    page.get_by_label("Password (at least 8 characters)").fill("a long enough password")
    page.get_by_role("button", name="Add the user").click()
    page.wait_for_selector(f"text=Added {name} (intake)")
    page.goto(f"{server}/panel")
    page.get_by_role("link", name="edit").first.click()
    page.wait_for_url("**/panel?edit=*")
    assert '"licenses"' in page.get_by_label("Reviewer record (JSON)").input_value()
    page.get_by_label("Reviewer record (JSON)").fill('{"id": "R-BAD"}')
    page.get_by_role("button", name="Save to the panel").click()
    page.wait_for_selector("[role=alert]")
    assert "name" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Reviewer record (JSON)").input_value() == '{"id": "R-BAD"}'  # kept to fix
    _check_accessible(page, "37-panel-editor")
    # a new reviewer: a bad record first (refused, naming the place), then a good one added, then
    # edited; licensed in Oregon only (never matched to the other tests' cases) and taken off at the end
    walk_id = "R-WALK-" + uuid.uuid4().hex[:6]
    record = {"id": walk_id, "name": "Dr. Wanda Walkthrough", "profession": "MD",
              "licenses": [{"state": "OR", "type": "MD"}],  # no Californian licence: never matched
              "board_certifications": [{"board": "American Board of Orthopaedic Surgery",
                                        "specialty": "Orthopaedic Surgery"}],
              "years_active_practice": "many", "hours_per_week": 20}
    page.get_by_label("Reviewer record (JSON)").fill(json.dumps(record))
    page.get_by_role("button", name="Save to the panel").click()
    page.wait_for_selector("[role=alert]")
    assert "years_active_practice" in page.get_by_role("alert").inner_text()
    page.get_by_label("Reviewer record (JSON)").fill(json.dumps(record | {"years_active_practice": 9}))
    page.get_by_role("button", name="Save to the panel").click()
    page.wait_for_selector(".notice")
    assert walk_id in page.locator(".notice").inner_text() and "added" in page.locator(".notice").inner_text().lower()
    row = page.locator("table.list tbody tr", has_text=walk_id)
    assert "Dr. Wanda Walkthrough" in row.inner_text() and "Oregon" in row.inner_text()
    assert re.search(r"\b9(\.0)? / 20(\.0)?\b", row.inner_text())
    row.get_by_role("link", name="edit").click()  # edit it: the editor holds its record
    page.wait_for_url(f"**/panel?edit={walk_id}*")
    edited = json.loads(page.get_by_label("Reviewer record (JSON)").input_value()) | {"hours_per_week": 12}
    page.get_by_label("Reviewer record (JSON)").fill(json.dumps(edited))
    page.get_by_role("button", name="Save to the panel").click()
    page.wait_for_selector(".notice")
    assert "replaced" in page.locator(".notice").inner_text().lower()
    assert re.search(r"\b9(\.0)? / 12(\.0)?\b", page.locator("table.list tbody tr", has_text=walk_id).inner_text())
    page.screenshot(path=str(SHOTS / "38-panel-edited.png"), full_page=True)
    page.get_by_label("Reviewer record (JSON)").fill(json.dumps(edited | {"active": False}))
    page.get_by_role("button", name="Save to the panel").click()
    page.wait_for_selector(".notice")
    assert page.locator("table.list tbody tr", has_text=walk_id).count() == 0
    page.context.close()


def test_admin_walk_assigns_consolidates_and_publishes_once(server, browser, sqlite_world):  # noqa: F811
    """Admin's case work: assign a reviewer with the match explanation shown, join a second
    application of the same matter in the consolidation box, publish the redacted letter
    (a second click records nothing)."""
    intake = sqlite_world.client("intake")
    worker = {"name": f"Walk Consolidated {uuid.uuid4().hex[:6]}", "date_of_birth": "1979-05-06"}
    first = intake.post("/api/cases", json=application(employee=worker)).json()["case"]
    other = application(employee=worker)  # the same worker, physician and injury; another request
    other["ur_decision"]["items"] = [{"request": "Acupuncture 6 sessions", "outcome": "denied"}]
    second = intake.post("/api/cases", json=other).json()["case"]
    page = _page(browser)
    _sign_in(page, server, "admin")
    page.goto(f"{server}/cases/{first['id']}")
    box = page.locator("section[aria-labelledby=consolidate-h]")
    assert box.get_by_label(second["case_number"]).count() == 1  # the other application is offered
    box.get_by_role("button", name="Join the ticked cases into this one").click()  # nothing ticked
    page.wait_for_selector(".notice")
    assert page.locator(".notice").inner_text() == "join: tick at least one case to join"
    box.get_by_label(second["case_number"]).check()
    box.get_by_role("button", name="Join the ticked cases into this one").click()
    page.wait_for_selector(f"text=Joined {second['case_number']}")
    assert sqlite_world.client("admin").get(f"/api/cases/{second['id']}").json()["status"] == "consolidated"
    page.screenshot(path=str(SHOTS / "39-admin-consolidated.png"), full_page=True)
    # assign: each reviewer offered with the match's explanation; the one chosen is explained on the case
    chooser = page.get_by_label("Reviewer", exact=True)
    options = chooser.locator("option").all_inner_texts()
    mine = next(o for o in options if f"({sqlite_world.panel['rev_a']})" in o)
    assert "panel match score" in mine and "open cases" in mine
    assert chooser.locator("option[disabled]").count() >= 1  # the lapsed licence is not eligible
    chooser.select_option(sqlite_world.panel["rev_a"])
    page.get_by_role("button", name="Assign").click()
    page.wait_for_selector("text=Reviewer assigned")
    assert "panel match score" in page.locator("text=Current match:").inner_text()
    assert "Dr. Alice Zamora" in page.locator(".facts").first.inner_text()
    _check_accessible(page, "40-admin-assigned")
    _decide_all(sqlite_world.client("rev_a"), first["id"])
    assert sign(sqlite_world.client("rev_a"), first["id"]).status_code == 201
    page.goto(f"{server}/cases/{first['id']}")
    for _ in range(2):  # publish, then the same click again (a double submit)
        with page.expect_popup() as tab, page.context.expect_event(
                "response", lambda r: r.url.endswith(f"/cases/{first['id']}/publish")) as published:
            page.get_by_role("button", name="Publish the redacted letter (PDF)").click()
        assert published.value.status == 200 and published.value.headers["content-type"] == "application/pdf"
        tab.value.close()
    api = sqlite_world.client("admin")
    assert api.get(f"/api/cases/{first['id']}").json()["status"] == "published"
    actions = [a["action"] for a in api.get(f"/api/cases/{first['id']}/audit").json()]
    assert actions.count("publish") == 1
    text = pdf_text(api.post(f"/api/cases/{first['id']}/publish").content)  # the letter as published
    assert worker["name"] not in text and "Zamora" not in text and "HOW TO APPEAL" in text
    page.reload()
    assert "published" in page.locator(".facts").first.inner_text()
    page.screenshot(path=str(SHOTS / "41-admin-published.png"), full_page=True)
    page.context.close()
