"""QA before issue and the notes on a case (SQLite and PostgreSQL): with the organization's
setting `qa_before_issue` a signed determination waits in `qa_review` until QA approves it
(issued) or returns it with a reason (never issued; the reviewer signs again); a repeat
changes nothing, an illegal act is 409 with one line, a role the lifecycle does not list 403;
notes are audit entries, bounded, kept once, never shown to intake."""

from __future__ import annotations

import pytest

from openimr import bounds

from .test_workflow import _decide_all, _new_assigned_case, sign, sign_form


@pytest.fixture
def qa_required(tmp_path, monkeypatch):
    path = tmp_path / "settings.yaml"
    path.write_text("qa_before_issue: true\n", encoding="utf-8")
    monkeypatch.setenv("OPENIMR_CASE_SETTINGS", str(path))


def _actions(world, case_id: int) -> list[str]:
    return [a["action"] for a in world.client("admin").get(f"/api/cases/{case_id}/audit").json()]


def _signed_draft(world) -> int:
    case_id = _new_assigned_case(world)
    _decide_all(world.client("rev_a"), case_id)
    signed = sign(world.client("rev_a"), case_id)
    assert signed.status_code == 201, signed.text
    return case_id


def test_without_the_setting_signing_issues_at_once(world):
    case_id = _signed_draft(world)
    assert world.client("qa").get(f"/api/cases/{case_id}").json()["status"] == "determined"
    refused = world.client("qa").post(f"/api/cases/{case_id}/qa/approve")
    assert refused.status_code == 409
    assert refused.json()["detail"].endswith("status determined: cannot qa approve (only from qa_review)")


def test_qa_approves_a_signed_draft_once_and_it_is_issued(world, qa_required):
    case_id = _signed_draft(world)
    qa = world.client("qa")
    detail = qa.get(f"/api/cases/{case_id}").json()
    assert detail["status"] == "qa_review" and len(detail["determinations"]) == 1
    assert sign(world.client("rev_a"), case_id).status_code == 409  # a second sign while QA holds it
    assert world.client("rev_a").post(f"/api/cases/{case_id}/qa/approve").status_code == 403
    assert world.client("intake").post(f"/api/cases/{case_id}/qa/approve").status_code == 403
    done = qa.post(f"/api/cases/{case_id}/qa/approve")
    assert done.status_code == 200 and done.json()["status"] == "determined" and done.json()["changed"] is True
    again = qa.post(f"/api/cases/{case_id}/qa/approve")  # a double submit
    assert again.status_code == 200 and again.json()["changed"] is False
    assert qa.post(f"/api/cases/{case_id}/qa/return", json={"reason": "too late"}).status_code == 409
    assert _actions(world, case_id).count("qa_approved") == 1
    assert qa.get(f"/api/cases/{case_id}").json()["status"] == "determined"


def test_qa_returns_a_signed_draft_and_the_reviewer_signs_again(world, qa_required):
    case_id = _signed_draft(world)
    qa, reviewer = world.client("qa"), world.client("rev_a")
    assert qa.post(f"/api/cases/{case_id}/qa/return", json={"reason": ""}).status_code == 422
    back = qa.post(f"/api/cases/{case_id}/qa/return", json={"reason": "item 1 cites the wrong guideline"})
    assert back.status_code == 200 and back.json()["status"] == "under_review" and back.json()["changed"]
    twice = qa.post(f"/api/cases/{case_id}/qa/return", json={"reason": "item 1 cites the wrong guideline"})
    assert twice.status_code == 200 and twice.json()["changed"] is False
    assert qa.post(f"/api/cases/{case_id}/qa/approve").status_code == 409  # returned, not waiting
    detail = qa.get(f"/api/cases/{case_id}").json()
    assert detail["determinations"][0]["qa_returned"] == "item 1 cites the wrong guideline"
    _decide_all(reviewer, case_id, "Overturned")
    assert sign(reviewer, case_id).status_code == 201
    assert qa.post(f"/api/cases/{case_id}/qa/approve").json()["changed"] is True
    detail = qa.get(f"/api/cases/{case_id}").json()
    newest, returned = detail["determinations"]
    assert (newest["version"], newest["qa_returned"], newest["superseded_by"]) == (2, None, None)
    assert returned["superseded_by"] is None  # never issued: the new letter supersedes nothing
    from .test_workflow import pdf_text

    text = pdf_text(qa.get(newest["pdf_url"]).content)
    assert "supersede" not in text.lower()
    actions = _actions(world, case_id)
    assert actions.count("qa_returned") == 1 and actions.count("qa_approved") == 1
    trail = qa.get(f"/api/cases/{case_id}/audit").json()
    assert next(a for a in trail if a["action"] == "qa_returned")["detail"]["reason"] == \
        "item 1 cites the wrong guideline"


def test_a_returned_superseding_draft_puts_the_issued_letter_back_in_force(world, qa_required):
    case_id = _signed_draft(world)
    qa, reviewer = world.client("qa"), world.client("rev_a")
    assert qa.post(f"/api/cases/{case_id}/qa/approve").json()["status"] == "determined"
    assert reviewer.post(f"/api/cases/{case_id}/supersede", json={"reason": "a record arrived late"}).status_code == 200
    _decide_all(reviewer, case_id, "Overturned")
    assert sign(reviewer, case_id).status_code == 201
    back = qa.post(f"/api/cases/{case_id}/qa/return", json={"reason": "state the late record"})
    assert back.json()["status"] == "superseding"
    first = qa.get(f"/api/cases/{case_id}").json()["determinations"][-1]
    assert first["version"] == 1 and first["superseded_by"] is None  # in force again


def test_the_page_offers_qa_the_buttons_and_forms_are_safe_to_send_twice(world, qa_required):
    case_id = _new_assigned_case(world)
    reviewer = world.client("rev_a")
    _decide_all(reviewer, case_id)
    signed = sign_form(reviewer, case_id, {"csrf_token": reviewer.csrf})
    assert "held+for+QA" in signed.headers["location"]
    qa = world.client("qa")
    page = qa.get(f"/cases/{case_id}").text
    assert f'action="/cases/{case_id}/qa/approve"' in page and "Signed and held for QA" in page
    assert "qa/approve" not in reviewer.get(f"/cases/{case_id}").text
    assert "qa/approve" not in world.client("intake").get(f"/cases/{case_id}").text
    form = {"csrf_token": qa.csrf}
    first = qa.post(f"/cases/{case_id}/qa/approve", data=form, follow_redirects=False)
    second = qa.post(f"/cases/{case_id}/qa/approve", data=form, follow_redirects=False)
    assert "Approved" in first.headers["location"] and "Already+approved" in second.headers["location"]
    late = qa.post(f"/cases/{case_id}/qa/return", data=form | {"reason": "after the fact"}, follow_redirects=False)
    assert late.status_code == 303 and "cannot+qa+return" in late.headers["location"]
    assert _actions(world, case_id).count("qa_approved") == 1


def test_notes_are_kept_in_the_audit_and_never_shown_to_intake(world):
    case_id = _new_assigned_case(world)
    qa, reviewer, intake = world.client("qa"), world.client("rev_a"), world.client("intake")
    made = qa.post(f"/api/cases/{case_id}/notes", json={"text": "Check the date of the RFA."})
    assert made.status_code == 201 and made.json()["role"] == "qa"
    assert qa.post(f"/api/cases/{case_id}/notes", json={"text": "Check the date of the RFA."}).status_code == 201
    assert reviewer.post(f"/api/cases/{case_id}/notes", json={"text": "Done: it is 2024-03-01."}).status_code == 201
    notes = reviewer.get(f"/api/cases/{case_id}/notes").json()
    assert [n["text"] for n in notes] == ["Check the date of the RFA.", "Done: it is 2024-03-01."]
    assert _actions(world, case_id).count("note_added") == 2
    assert intake.get(f"/api/cases/{case_id}/notes").status_code == 403
    assert intake.post(f"/api/cases/{case_id}/notes", json={"text": "hello"}).status_code == 403
    assert "Check the date of the RFA" not in intake.get(f"/cases/{case_id}").text
    assert world.client("rev_b").get(f"/api/cases/{case_id}/notes").status_code == 403  # not their case
    long = qa.post(f"/api/cases/{case_id}/notes", json={"text": "x" * (bounds.MAX_NOTE + 1)})
    assert long.status_code == 422 and long.json()["detail"].startswith("text:")
    assert qa.post(f"/api/cases/{case_id}/notes", json={"text": ""}).status_code == 422
    page = qa.get(f"/cases/{case_id}").text
    assert "Done: it is 2024-03-01." in page and f'action="/cases/{case_id}/notes"' in page
    empty = qa.post(f"/cases/{case_id}/notes", data={"csrf_token": qa.csrf, "text": "  "}, follow_redirects=False)
    assert empty.status_code == 303 and "text%3A+the+note+is+empty" in empty.headers["location"]


def test_admin_publishes_the_redacted_letter_from_the_page_and_the_api(world):
    from .test_workflow import application, pdf_text

    case_id = _signed_draft(world)
    admin = world.client("admin")
    assert world.client("qa").post(f"/api/cases/{case_id}/publish").status_code == 403
    assert admin.post(f"/api/cases/{case_id}/publish?format=doc").status_code == 422
    assert f'action="/cases/{case_id}/publish"' in admin.get(f"/cases/{case_id}").text
    assert "/publish" not in world.client("qa").get(f"/cases/{case_id}").text
    done = admin.post(f"/cases/{case_id}/publish", data={"csrf_token": admin.csrf})
    assert done.status_code == 200 and done.content.startswith(b"%PDF-")
    text = pdf_text(done.content)
    parties = application()
    for name in (parties["employee"]["name"], parties["employer"]["name"], "Zamora"):
        assert name not in text
    assert admin.get(f"/api/cases/{case_id}").json()["status"] == "published"
    as_text = admin.post(f"/api/cases/{case_id}/publish?format=text")
    assert as_text.status_code == 200 and parties["employee"]["name"] not in as_text.text
    fresh = _new_assigned_case(world)
    refused = admin.post(f"/api/cases/{fresh}/publish")
    assert refused.status_code == 409 and "cannot publish (only from determined, published)" in refused.text


def test_publishing_twice_records_one_publication(world):
    """A double submit of the publish form and the API sent again (another format too) give
    the same letter and record one `publish` entry, one change of status."""
    case_id = _signed_draft(world)
    admin = world.client("admin")
    first = admin.post(f"/api/cases/{case_id}/publish?format=json")
    second = admin.post(f"/api/cases/{case_id}/publish?format=json")
    assert first.status_code == second.status_code == 200 and first.content == second.content
    page = admin.post(f"/cases/{case_id}/publish", data={"csrf_token": admin.csrf})
    assert page.status_code == 200 and page.content.startswith(b"%PDF-")
    audit = admin.get(f"/api/cases/{case_id}/audit").json()
    assert [a["action"] for a in audit].count("publish") == 1
    assert [a["detail"]["status"] for a in audit if a["action"] == "publish"] == ["published"]
    assert admin.get(f"/api/cases/{case_id}").json()["status"] == "published"


def test_a_draft_held_for_qa_is_not_issued_so_it_can_be_late(world, qa_required):
    """The determination deadline runs while QA holds the signed draft: the late report lists
    the case until QA approves it."""
    from datetime import date, timedelta

    case_id = _signed_draft(world)
    admin = world.client("admin")
    number = admin.get(f"/api/cases/{case_id}").json()["case_number"]
    far = (date.today() + timedelta(days=400)).isoformat()

    def late() -> list[str]:
        return [r["late"] for r in admin.get(f"/api/late?as_of={far}").json() if r["case_number"] == number]

    assert "determination" in late()
    assert world.client("qa").post(f"/api/cases/{case_id}/qa/approve").status_code == 200
    assert "determination" not in late()
