"""Admin pages (SQLite and PostgreSQL): user management, the face of
`openimr user add` (other roles 403, a bad field one line, a double-submitted form adds one),
and consolidation, the face of `openimr case consolidate` (a repeat changes nothing)."""

from __future__ import annotations

import uuid

from .conftest import PASSWORD


def test_admin_adds_users_on_the_api_and_the_page(world):
    admin = world.client("admin")
    name = "u" + uuid.uuid4().hex[:8]
    body = {"username": name, "password": "long enough pw", "role": "qa", "display_name": "New Qa"}
    assert world.client("qa").post("/api/users", json=body).status_code == 403
    assert world.client("intake").get("/users").status_code == 403
    made = admin.post("/api/users", json=body)
    assert made.status_code == 201 and made.json()["role"] == "qa"
    again = admin.post("/api/users", json=body)
    assert again.status_code == 422 and again.json()["detail"] == f"username: {name!r} already exists"
    bad = admin.post("/api/users", json=body | {"username": name + "x", "role": "janitor"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("role: must be one of")
    unlinked = admin.post("/api/users", json=body | {"username": name + "r", "role": "reviewer",
                                                    "panel_reviewer_id": "R-NOBODY"})
    assert unlinked.status_code == 422 and "R-NOBODY" in unlinked.json()["detail"]
    page = admin.get("/users").text
    assert name in page and 'action="/users"' in page
    form = {"csrf_token": admin.csrf, "username": name + "p", "password": PASSWORD, "role": "intake",
            "display_name": "Paged Intake"}
    first = admin.post("/users", data=form)
    second = admin.post("/users", data=form)  # a double submit
    assert first.status_code == 201 and f"Added {name}p (intake)" in first.text
    assert second.status_code == 422 and "already exists" in second.text and PASSWORD not in second.text
    users = [u["username"] for u in admin.get("/api/users?per_page=200").json()["items"]]
    assert users.count(name + "p") == 1 and name + "x" not in users
    assert world.client(name + "p").get("/api/me").json()["role"] == "intake"


def test_admin_consolidates_the_same_workers_applications_once(world):
    from .test_workflow import application

    worker = {"name": "Sam Joined " + uuid.uuid4().hex[:6], "date_of_birth": "1980-01-02"}
    intake, admin = world.client("intake"), world.client("admin")
    first = intake.post("/api/cases", json=application(employee=worker)).json()["case"]
    other = application(employee=worker)
    other["ur_decision"]["items"] = [{"request": "Acupuncture 6 sessions", "outcome": "denied"}]
    second = intake.post("/api/cases", json=other).json()["case"]
    assert intake.get(f"/api/cases/{first['id']}/consolidation").status_code == 403
    found = admin.get(f"/api/cases/{first['id']}/consolidation").json()["candidates"]
    assert found == [second["case_number"]]
    page = admin.get(f"/cases/{first['id']}").text
    assert f'value="{second["case_number"]}"' in page and f'action="/cases/{first["id"]}/consolidate"' in page
    form = {"csrf_token": admin.csrf, "join": second["case_number"]}
    done = admin.post(f"/cases/{first['id']}/consolidate", data=form, follow_redirects=False)
    again = admin.post(f"/cases/{first['id']}/consolidate", data=form, follow_redirects=False)  # a double submit
    assert "Joined" in done.headers["location"] and "Already+joined" in again.headers["location"]
    assert admin.get(f"/api/cases/{second['id']}").json()["status"] == "consolidated"
    assert admin.post(f"/api/cases/{first['id']}/consolidate",
                      json={"cases": [second["case_number"]]}).json()["changed"] is False
    stranger = intake.post("/api/cases", json=application()).json()["case"]
    refused = admin.post(f"/api/cases/{first['id']}/consolidate", json={"cases": [stranger["case_number"]]})
    assert refused.status_code == 422 and "not the same worker" in refused.json()["detail"]
    actions = [a["action"] for a in admin.get(f"/api/cases/{second['id']}/audit").json()]
    assert actions.count("consolidate") == 1


def test_admin_adds_and_edits_a_reviewer_on_the_panel_page(world):
    import json

    from .conftest import PANEL

    admin = world.client("admin")
    rid = "R-W" + uuid.uuid4().hex[:6]
    record = PANEL[1] | {"id": rid, "name": "Dr. Wanda Webform"}
    assert world.client("qa").post("/api/reviewers", json=record).status_code == 403
    assert admin.post("/api/reviewers", json=record).json() == {"added": [rid], "replaced": [], "unchanged": []}
    assert admin.post("/api/reviewers", json=record).json()["unchanged"] == [rid]  # a repeat writes nothing
    editing = admin.get(f"/panel?edit={rid}").text
    assert "Dr. Wanda Webform" in editing and 'action="/panel"' in editing
    edited = admin.get(f"/api/reviewers/{rid}/record").json()
    edited["affiliations"] = [{"name": "Acme Logistics", "kind": "employer", "relation": "consultant"}]
    saved = admin.post("/panel", data={"csrf_token": admin.csrf, "record": json.dumps(edited)}, follow_redirects=False)
    assert saved.status_code == 303 and "Replaced" in saved.headers["location"]
    assert admin.get(f"/api/reviewers/{rid}/record").json()["affiliations"][0]["name"] == "Acme Logistics"
    bad = admin.post("/panel", data={"csrf_token": admin.csrf, "record": json.dumps(edited | {"hours_per_week": 500})})
    assert bad.status_code == 422 and "hours_per_week" in bad.text
    broken = admin.post("/api/reviewers", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422
    listed = [a for a in admin.get("/api/reviewers?per_page=200").json()["items"] if a["id"] == rid]
    assert len(listed) == 1
    assert "panel?edit=" not in world.client("qa").get("/panel").text
    off = admin.post("/api/reviewers", json=edited | {"active": False})  # off the panel: other tests' panel stays
    assert off.json()["replaced"] == [rid]
    assert rid not in [a["id"] for a in admin.get("/api/reviewers?per_page=200").json()["items"]]
