"""Withdraw, terminate and appeal on the workbench: one API route and one page form each,
who may per the lifecycle file, an illegal transition one line (409), a repeat harmless."""

from __future__ import annotations

import json

from .test_workflow import _decide_all, _new_assigned_case, application, sign


def _trail(world, case_id: int) -> list[dict]:
    return world.client("admin").get(f"/api/cases/{case_id}/audit").json()


def test_intake_withdraws_a_case_once_and_a_second_action_is_refused(world):
    case_id = world.client("intake").post("/api/cases", json=application()).json()["case"]["id"]
    intake = world.client("intake")
    done = intake.post(f"/api/cases/{case_id}/withdraw", json={"reason": "the employee withdrew the application"})
    assert done.status_code == 200, done.text
    assert done.json() | {"case_id": 0} == {"case_id": 0, "case_number": done.json()["case_number"],
                                             "status": "withdrawn", "changed": True}
    again = intake.post(f"/api/cases/{case_id}/withdraw", json={"reason": "the employee withdrew the application"})
    assert again.status_code == 200 and again.json()["changed"] is False
    refused = intake.post(f"/api/cases/{case_id}/terminate", json={"reason": "authorized meanwhile"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == (f"case {done.json()['case_number']}: status withdrawn: cannot terminate "
                                        "(only from eligible, notice_sent, records_received, assigned, under_review)")
    short = intake.post(f"/api/cases/{case_id}/appeal", json={"reason": ""})
    assert short.status_code == 422
    trail = _trail(world, case_id)
    assert [a["action"] for a in trail].count("withdraw") == 1
    assert trail[-1]["action"] == "withdraw" and trail[-1]["detail"]["reason"] == "the employee withdrew the application"
    assert world.client("intake").get(f"/api/cases/{case_id}").json()["status"] == "withdrawn"


def test_who_may_is_the_lifecycle_files(world):
    case_id = _new_assigned_case(world)
    reviewer = world.client("rev_a")
    refused = reviewer.post(f"/api/cases/{case_id}/withdraw", json={"reason": "not the reviewer's to withdraw"})
    assert refused.status_code == 403 and "withdraw is for intake or admin; you act as reviewer" in refused.text
    qa = world.client("qa").post(f"/api/cases/{case_id}/terminate", json={"reason": "authorized meanwhile"})
    assert qa.status_code == 403
    intake_appeal = world.client("intake").post(f"/api/cases/{case_id}/appeal", json={"reason": "petition"})
    assert intake_appeal.status_code == 409  # not determined yet: the status is refused before the role
    done = world.client("admin").post(f"/api/cases/{case_id}/terminate",
                                      json={"reason": "the MRI was authorized by the claims administrator"})
    assert done.status_code == 200 and done.json()["status"] == "terminated"
    assert reviewer.put(f"/api/cases/{case_id}/items/0/decision",
                        json={"decision": "Upheld", "rationale": "too late"}).status_code == 409


def test_an_appeal_of_a_signed_determination_is_recorded_by_admin(world):
    case_id = _new_assigned_case(world)
    reviewer = world.client("rev_a")
    _decide_all(reviewer, case_id)
    assert sign(reviewer, case_id).status_code == 201
    assert world.client("intake").post(f"/api/cases/{case_id}/appeal",
                                       json={"reason": "petition filed"}).status_code == 403
    admin = world.client("admin")
    appealed = admin.post(f"/api/cases/{case_id}/appeal", json={"reason": "the employer petitioned the WCAB"})
    assert appealed.status_code == 200 and appealed.json()["status"] == "appealed"
    assert admin.post(f"/api/cases/{case_id}/withdraw", json={"reason": "too late"}).status_code == 409
    detail = admin.get(f"/api/cases/{case_id}").json()
    assert detail["status"] == "appealed" and len(detail["determinations"]) == 1  # the letter stays in force


def test_the_case_page_offers_the_actions_the_role_may_make(world):
    case_id = world.client("intake").post("/api/cases", json=application()).json()["case"]["id"]
    intake = world.client("intake")
    page = intake.get(f"/cases/{case_id}").text
    assert f'action="/cases/{case_id}/withdraw"' in page and f'action="/cases/{case_id}/terminate"' in page
    assert f'action="/cases/{case_id}/appeal"' not in page
    assert 'action="/cases/' + str(case_id) + '/withdraw"' not in world.client("qa").get(f"/cases/{case_id}").text
    form = {"csrf_token": intake.csrf, "reason": "the treatment was authorized on review"}
    done = intake.post(f"/cases/{case_id}/terminate", data=form, follow_redirects=False)
    assert done.status_code == 303 and "Case+terminated" in done.headers["location"]
    twice = intake.post(f"/cases/{case_id}/terminate", data=form, follow_redirects=False)  # a double submit
    assert twice.status_code == 303 and "Already+terminated" in twice.headers["location"]
    after = intake.get(f"/cases/{case_id}").text
    assert "Terminated: the treatment was authorized on review" in after
    assert f'action="/cases/{case_id}/withdraw"' not in after
    illegal = intake.post(f"/cases/{case_id}/withdraw", data=form, follow_redirects=False)
    assert illegal.status_code == 303 and "cannot+withdraw" in illegal.headers["location"]
    assert [a["action"] for a in _trail(world, case_id)].count("terminate") == 1
    assert json.dumps(_trail(world, case_id)).count("the treatment was authorized on review") == 1
