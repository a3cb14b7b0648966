"""Roles: a reviewer sees and changes only their own cases (403 on every case endpoint
otherwise); reviewer names never reach intake users; only a reviewer the panel's registry
lets sign (on the panel, active, licensed) is assigned a case and signs it."""

from __future__ import annotations

import re

import pytest

from .conftest import REVIEWER_NAMES
from .test_workflow import sign

# Every route with a case in its path, called by a reviewer the case is not assigned to.
CASE_ENDPOINTS = (
    ("GET", "/api/cases/{case_id}"),
    ("GET", "/api/cases/{case_id}/match"),
    ("POST", "/api/cases/{case_id}/assign"),
    ("PUT", "/api/cases/{case_id}/items/{index}/decision"),
    ("GET", "/api/cases/{case_id}/draft.pdf"),
    ("POST", "/api/cases/{case_id}/sign"),
    ("POST", "/api/cases/{case_id}/supersede"),
    ("GET", "/api/cases/{case_id}/determinations/{det_id}.pdf"),
    ("GET", "/api/cases/{case_id}/audit"),
    ("POST", "/api/cases/{case_id}/documents"),
    ("POST", "/api/cases/{case_id}/withdraw"),
    ("POST", "/api/cases/{case_id}/terminate"),
    ("POST", "/api/cases/{case_id}/appeal"),
    ("GET", "/cases/{case_id}"),
    ("POST", "/cases/{case_id}/items/{index}"),
    ("POST", "/cases/{case_id}/sign"),
    ("POST", "/cases/{case_id}/supersede"),
    ("POST", "/cases/{case_id}/assign"),
    ("POST", "/cases/{case_id}/documents"),
    ("POST", "/cases/{case_id}/withdraw"),
    ("POST", "/cases/{case_id}/terminate"),
    ("POST", "/cases/{case_id}/appeal"),
    # web/routes_review.py
    ("POST", "/api/cases/{case_id}/items/{index}/accept"),
    ("POST", "/cases/{case_id}/decisions"),
    ("POST", "/cases/{case_id}/preview.pdf"),
)


def _call(client, method: str, template: str, case_id: int):
    path = template.format(case_id=case_id, index=0, det_id=1)
    csrf = client.headers.get("X-CSRF-Token")
    if method == "GET":
        return client.get(path)
    if method == "PUT":
        return client.put(path, json={"decision": "Overturned", "guideline": "g", "rationale": "r"})
    if path.startswith("/api/") and path.endswith("/documents"):
        return client.post(path, files={"file": ("note.txt", b"records", "text/plain")})
    if path.startswith("/api/"):
        body = {"reason": "a reason"} if path.endswith(("supersede", "withdraw", "terminate", "appeal")) else {}
        return client.post(path, json={"attest": True, "version": 0} if path.endswith("/sign") else body)
    data = {"csrf_token": csrf, "decision": "Overturned", "rationale": "r", "reason": "a reason", "attest": "yes",
            "version": "0"}
    if path.endswith("/documents"):
        return client.post(path, data=data, files={"file": ("note.txt", b"records", "text/plain")})
    return client.post(path, data=data)


def test_every_case_route_is_covered(world):
    """The list above names every route that takes a case id: a new one must be added."""
    from openimr.web import routes_api, routes_pages, routes_review

    every = [*routes_api.router.routes, *routes_pages.router.routes, *routes_review.api.routes,
             *routes_review.pages.routes]
    routes = {(m, r.path) for r in every for m in getattr(r, "methods", ()) or ()
              if "{case_id}" in r.path and m != "HEAD"}
    assert routes == set(CASE_ENDPOINTS)


@pytest.mark.parametrize("method,template", CASE_ENDPOINTS)
def test_reviewer_gets_403_on_a_case_not_assigned_to_them(world, method, template):
    client = world.client("rev_b")
    response = _call(client, method, template, world.cases["rev_a"])
    assert response.status_code == 403, (method, template, response.status_code, response.text[:200])


def test_reviewer_queue_lists_only_their_cases(world):
    # other tests in this worker may assign more cases to rev_b (the world is shared), so the
    # property is: rev_b's case is listed, every listed case is rev_b's, no one else's is.
    listed = world.client("rev_b").get("/api/cases").json()
    ids = [c["id"] for c in listed["items"]]
    assert world.cases["rev_b"] in ids and listed["total"] == len(ids)
    assert not {world.cases[o] for o in world.cases if o != "rev_b"} & set(ids)
    admin = world.client("admin")
    label = {i: admin.get(f"/api/cases/{i}").json()["assigned_reviewer"] for i in ids}
    assert label[world.cases["rev_b"]] and set(label.values()) == {label[world.cases["rev_b"]]}
    page = world.client("rev_b").get("/cases").text
    assert f'href="/cases/{world.cases["rev_a"]}"' not in page


def test_qa_and_admin_see_every_case(world):
    for user in ("qa", "admin"):
        listed = world.client(user).get("/api/cases").json()
        assert {c["id"] for c in listed["items"]} >= set(world.cases.values())


def test_reviewer_sees_and_changes_their_own_case(world):
    client = world.client("rev_b")
    case_id = world.cases["rev_b"]
    assert client.get(f"/api/cases/{case_id}").status_code == 200
    response = client.put(f"/api/cases/{case_id}/items/0/decision",
                          json={"decision": "Overturned", "guideline": "MTUS", "rationale": "Supported."})
    assert response.status_code == 200


def test_intake_cannot_decide_or_sign(world):
    client = world.client("intake")
    case_id = world.cases["rev_a"]
    assert client.put(f"/api/cases/{case_id}/items/0/decision",
                      json={"decision": "Upheld", "rationale": "x"}).status_code == 403
    assert sign(client, case_id).status_code == 403
    assert client.get("/api/reviewers").status_code == 403
    assert client.get("/panel").status_code == 403


def test_a_reviewer_who_cannot_sign_cannot_be_assigned(world):
    """A case can no longer be assigned to someone who cannot sign it: a reviewer not on the
    panel is not offered at all (404), one whose only licence expired is refused (409, with
    the reason); the case stays unassigned and out of their queues."""
    case_id = world.cases["rev_nc"]
    admin = world.client("admin")
    unknown = admin.post(f"/api/cases/{case_id}/assign", json={"reviewer_id": "NOT-ON-PANEL"})
    assert unknown.status_code == 404 and "'NOT-ON-PANEL' is not a reviewer on the panel" in unknown.json()["detail"]
    refused = admin.post(f"/api/cases/{case_id}/assign", json={"reviewer_id": world.panel["rev_exp"]})
    assert refused.status_code == 409 and "no current unrestricted license" in refused.json()["detail"]
    assert admin.get(f"/api/cases/{case_id}").json()["assigned"] is False
    for who in ("rev_nc", "rev_exp"):
        assert world.client(who).get(f"/api/cases/{case_id}").status_code == 403
        assert world.client(who).get("/api/cases").json()["total"] == 0
    ranked = admin.get(f"/api/cases/{case_id}/match").json()["ranked"]
    assert next(r for r in ranked if r["id"] == world.panel["rev_exp"])["eligible"] is False
    assert {r["id"] for r in ranked} == set(world.panel.values())  # the panel: rev_nc is not on it


def test_the_registry_decides_who_signs(world):
    """Whether an account may sign is its panel record's answer, read at each request: the
    panel marks the reviewer inactive and they can no longer sign their own assigned case
    (403 naming why); the case face refuses an assignment the web did not check."""
    from openimr import db as dbmod
    from openimr.cases import store
    from openimr.cases.errors import CaseConflict
    from openimr.cases.tables import CaseRow
    from openimr.panel import reviewers
    from openimr.panel.assign import assign_to

    from .conftest import PANEL
    from .test_workflow import _decide_all, _new_assigned_case, sign

    me = world.client("rev_b", fresh=True).get("/api/me").json()
    assert me["may_sign"] is True and me["panel_reviewer_id"] == "R-B"
    assert me["licensure"] == ["California"] and me["specialties"] == ["Orthopaedic Surgery"]
    lapsed = world.client("rev_exp", fresh=True).get("/api/me").json()
    assert lapsed["may_sign"] is False and lapsed["licensure"] == []
    assert world.client("rev_nc", fresh=True).get("/api/me").json()["may_sign"] is False
    with dbmod.session_scope(world.url) as session:
        number = session.get(CaseRow, world.cases["rev_nc"]).case_number
        try:
            assign_to(session, number, "R-EXP", ["by hand"], "web:admin", "admin")
            raise AssertionError("assigned a reviewer who cannot sign")
        except CaseConflict as error:
            assert str(error).startswith("reviewer R-EXP: no current unrestricted license")
    case_id = _new_assigned_case(world, "rev_b")
    client = world.client("rev_b", fresh=True)
    _decide_all(client, case_id)
    record_b = next(r for r in PANEL if r["id"] == "R-B")
    store.run(world.url, reviewers.add, reviewers.parse_reviewers([record_b | {"active": False}], "panel"), "admin")
    try:
        refused = sign(client, case_id)
        assert refused.status_code == 403 and refused.json()["detail"] == (
            "reviewer R-B: inactive on the panel: cannot sign a determination")
        assert "Sign and issue" not in client.get(f"/cases/{case_id}").text
    finally:
        store.run(world.url, reviewers.add, reviewers.parse_reviewers([record_b], "panel"), "admin")
    assert sign(client, case_id).status_code == 201


def _intake_views(world) -> dict[str, str]:
    client = world.client("intake")
    views = {}
    for path in ["/cases", "/intake", "/search?q=mri", "/letters", "/analytics", "/api/cases", "/api/letters",
                 "/api/search?q=mri", "/api/stats?by=specialty"]:
        response = client.get(path)
        assert response.status_code == 200, path
        views[path] = response.text
    for case_id in world.cases.values():
        for path in (f"/cases/{case_id}", f"/api/cases/{case_id}"):
            response = client.get(path)
            assert response.status_code == 200, path
            views[path] = response.text
    return views


def test_reviewer_names_never_reach_intake_users(world):
    for path, body in _intake_views(world).items():
        for name in REVIEWER_NAMES:
            assert name not in body, f"{name!r} shown to intake on {path}"
    # and the same pages do show the name to QA (so the check above is not vacuous)
    qa_page = world.client("qa").get(f"/cases/{world.cases['rev_a']}").text
    assert "Dr. Alice Zamora" in qa_page


def test_intake_sees_that_a_case_is_assigned_but_not_to_whom(world):
    listed = world.client("intake").get("/api/cases").json()["items"]
    assigned = {world.cases["rev_a"], world.cases["rev_b"]}
    mine = [c for c in listed if c["id"] in assigned]
    assert len(mine) == 2 and all(c["assigned"] and c["assigned_reviewer"] is None for c in mine)
    page = world.client("intake").get("/cases").text
    assert re.search(r"<td>assigned</td>", page)
