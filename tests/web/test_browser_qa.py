"""QA before issue and notes in a real browser (Debian's Chromium via Playwright) against the
app served by uvicorn: QA reads the signed draft held for it, leaves a note, returns it; the
reviewer sees the note and the return; QA approves the new signature, a stale second approve
says it is done already; intake never sees notes, another reviewer gets the error page that
leads back. Screenshots under test-output/screenshots/."""

from __future__ import annotations

import pytest

from .test_browser import SHOTS, _check_accessible, _page, _sign_in, browser, server  # noqa: F401  (fixtures)
from .test_qa import qa_required  # noqa: F401  (fixture)
from .test_workflow import _decide_all, _new_assigned_case, sign

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
    import uuid

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
    _check_accessible(page, "37-panel-editor")
    page.context.close()
