"""Sign-in, sessions, cookies, CSRF and rate limiting on the real app and database."""

from __future__ import annotations

import re

from sqlalchemy import select

from openimr import db as dbmod
from openimr.web.tables import User

from .conftest import PASSWORD


def test_password_is_stored_as_argon2_hash(world):
    with dbmod.session_scope(world.url) as session:
        user = session.scalar(select(User).where(User.username == "rev_a"))
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_api_needs_a_session(world):
    client = world.client()
    for path in ("/api/cases", "/api/letters", "/api/search?q=mri", "/api/stats", "/api/reviewers", "/api/me"):
        assert client.get(path).status_code == 401, path
    page = client.get("/cases", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_login_sets_httponly_samesite_cookie_and_logout_ends_it(world):
    client = world.client()
    response = client.post("/api/login", json={"username": "qa", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    csrf = response.json()["csrf_token"]
    assert client.get("/api/me").json()["username"] == "qa"
    assert client.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/me").status_code == 401


def test_cookie_is_secure_behind_tls(world):
    client = world.client(base_url="https://testserver")
    response = client.post("/api/login", json={"username": "qa", "password": PASSWORD})
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_is_refused_with_one_message(world):
    client = world.client()
    for username in ("qa", "nobody"):
        response = client.post("/api/login", json={"username": username, "password": "wrong password"})
        assert response.status_code == 401
        assert response.json() == {"detail": "wrong username or password"}


def test_login_attempts_are_rate_limited(world):
    client = world.client()
    for _ in range(5):
        assert client.post("/api/login", json={"username": "lockme", "password": "guess"}).status_code == 401
    # now even the right password is refused for a while
    response = client.post("/api/login", json={"username": "lockme", "password": PASSWORD})
    assert response.status_code == 429
    assert "too many failed sign-ins" in response.json()["detail"]
    # other users are not locked out
    assert client.post("/api/login", json={"username": "qa", "password": PASSWORD}).status_code == 200


def test_api_write_without_csrf_token_is_refused(world):
    client = world.client("rev_a", fresh=True)
    case_id = world.cases["rev_a"]
    body = {"decision": "Upheld", "guideline": "MTUS", "rationale": "x"}
    del client.headers["X-CSRF-Token"]
    assert client.put(f"/api/cases/{case_id}/items/0/decision", json=body).status_code == 403
    bad = client.put(f"/api/cases/{case_id}/items/0/decision", json=body, headers={"X-CSRF-Token": "forged"})
    assert bad.status_code == 403 and "CSRF" in bad.json()["detail"]


def test_every_form_carries_a_csrf_token_and_needs_it(world):
    client = world.client("rev_a", fresh=True)
    case_id = world.cases["rev_a"]
    page = client.get(f"/cases/{case_id}").text
    forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", page, re.S)
    assert forms, "the case page has forms"
    for form in forms:
        assert 'name="csrf_token"' in form
    del client.headers["X-CSRF-Token"]
    response = client.post(f"/cases/{case_id}/items/0", data={"decision": "Upheld", "rationale": "x"})
    assert response.status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    # the token sent as a file part of a multipart form is no token: refused, not a server error
    as_file = client.post(f"/cases/{case_id}/items/0", data={"decision": "Upheld", "rationale": "x"},
                          files={"csrf_token": ("token.txt", token.encode(), "text/plain")})
    assert as_file.status_code == 403, as_file.text
    response = client.post(f"/cases/{case_id}/items/0", data={"decision": "Upheld", "rationale": "x",
                                                             "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_login_form_has_csrf_and_signs_in(world):
    client = world.client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = client.post("/login", data={"username": "qa", "password": PASSWORD, "csrf_token": "x"})
    assert refused.status_code == 403
    response = client.post("/login", data={"username": "qa", "password": PASSWORD, "csrf_token": token,
                                           "next": "/analytics"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/analytics"
    wrong = world.client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', wrong.get("/login").text).group(1)
    page = wrong.post("/login", data={"username": "qa", "password": "nope", "csrf_token": token})
    assert page.status_code == 401 and "Wrong username or password" in page.text


def test_open_redirect_after_login_is_refused(world):
    for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        client = world.client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        response = client.post("/login", data={"username": "qa", "password": PASSWORD, "csrf_token": token,
                                               "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/cases", target
