"""User management for admins on the page and the API (SQLite and PostgreSQL): the face of
`openimr user add`; other roles 403; a bad field one line; a double-submitted form adds one."""

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
