"""Case events and the late report on the workbench: the API route and the page form call the
case part's record_event / late_report (as the CLI does); roles from the lifecycle file; a
double submit records one event; bad input one 4xx line."""

from __future__ import annotations

from datetime import date, timedelta

from .test_workflow import _new_assigned_case, application


def _new_case(world) -> dict:
    return world.client("intake").post("/api/cases", json=application()).json()["case"]


def test_intake_records_the_notice_and_records_once_and_deadlines_follow(world):
    case = _new_case(world)
    intake = world.client("intake")
    day = (date.today() - timedelta(days=4)).isoformat()
    sent = intake.post(f"/api/cases/{case['id']}/events", json={"kind": "notice_sent", "day": day, "method": "mail"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "notice_sent"
    assert sent.json()["events"] == [{"kind": "notice_sent", "day": day, "method": "mail"}]
    again = intake.post(f"/api/cases/{case['id']}/events", json={"kind": "notice_sent", "day": day, "method": "mail"})
    assert again.status_code == 200 and len(again.json()["events"]) == 1  # a double submit changes nothing
    records_day = (date.today() - timedelta(days=1)).isoformat()
    got = intake.post(f"/api/cases/{case['id']}/events", json={"kind": "records_received", "day": records_day})
    assert got.status_code == 200 and got.json()["status"] == "records_received"
    assert got.json()["determination_due"] != sent.json()["determination_due"]  # runs from the records now
    trail = world.client("admin").get(f"/api/cases/{case['id']}/audit").json()
    assert [a["action"] for a in trail].count("notice_sent") == 1


def test_bad_event_input_is_one_line_and_roles_are_the_lifecycles(world):
    case = _new_case(world)
    intake = world.client("intake")
    bad_kind = intake.post(f"/api/cases/{case['id']}/events", json={"kind": "lunch", "day": "2026-01-01"})
    assert bad_kind.status_code == 422 and bad_kind.json()["detail"].startswith("kind:")
    no_method = intake.post(f"/api/cases/{case['id']}/events",
                            json={"kind": "notice_sent", "day": date.today().isoformat()})
    assert no_method.status_code == 422 and "mail or electronic" in no_method.json()["detail"]
    early = intake.post(f"/api/cases/{case['id']}/events", json={"kind": "records_received", "day": "2000-01-01"})
    assert early.status_code == 422 and "before the application was received" in early.json()["detail"]
    qa = world.client("qa").post(f"/api/cases/{case['id']}/events",
                                 json={"kind": "records_received", "day": date.today().isoformat()})
    assert qa.status_code == 403 and "is for intake or admin" in qa.json()["detail"]


def test_the_case_page_form_records_an_event_once(world):
    case = _new_case(world)
    intake = world.client("intake")
    page = intake.get(f"/cases/{case['id']}").text
    assert f'action="/cases/{case["id"]}/events"' in page
    assert f'action="/cases/{case["id"]}/events"' not in world.client("qa").get(f"/cases/{case['id']}").text
    form = {"csrf_token": intake.csrf, "kind": "converted_expedited", "day": date.today().isoformat(), "method": ""}
    done = intake.post(f"/cases/{case['id']}/events", data=form, follow_redirects=False)
    assert done.status_code == 303 and "Recorded" in done.headers["location"]
    twice = intake.post(f"/cases/{case['id']}/events", data=form, follow_redirects=False)
    assert twice.status_code == 303 and "Already+recorded" in twice.headers["location"]
    assert intake.get(f"/api/cases/{case['id']}").json()["priority"] == "expedited"
    bad = intake.post(f"/cases/{case['id']}/events", data=form | {"day": "yesterday"}, follow_redirects=False)
    assert bad.status_code == 303 and "is+not+a+date" in bad.headers["location"]


def test_the_late_report_hides_the_reviewer_from_intake(world):
    case_id = _new_assigned_case(world)
    number = world.client("admin").get(f"/api/cases/{case_id}").json()["case_number"]
    far = (date.today() + timedelta(days=400)).isoformat()
    rows = [r for r in world.client("admin").get(f"/api/late?as_of={far}").json() if r["case_number"] == number]
    assert rows and rows[0]["reviewer"] == world.panel["rev_a"]
    intake_rows = [r for r in world.client("intake").get(f"/api/late?as_of={far}").json() if r["case_number"] == number]
    assert intake_rows and "reviewer" not in intake_rows[0]
    assert world.client("admin").get("/api/late?as_of=soon").status_code == 422
    page = world.client("admin").get(f"/late?as_of={far}")
    assert page.status_code == 200 and number in page.text
    assert world.client("admin").get("/late?as_of=soon").status_code == 422
