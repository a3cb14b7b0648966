"""The assignment's match explanation comes from the panel's match (panel/matching.py):
a knee arthroscopy goes to the orthopaedic surgeon before the other specialties."""

from __future__ import annotations

from .test_workflow import application


def test_a_knee_arthroscopy_ranks_the_orthopaedic_surgeon_first_with_the_panels_reasons(world):
    app = application()
    app["requesting_physician"] = {"name": "Dr. Req Uester", "specialty": "Family Medicine"}
    app["ur_decision"]["items"] = [{"request": "Right knee arthroscopy with partial medial meniscectomy",
                                    "outcome": "denied"}]
    case_id = world.client("intake").post("/api/cases", json=app).json()["case"]["id"]
    ranked = world.client("admin").get(f"/api/cases/{case_id}/match").json()["ranked"]
    assert ranked[0]["id"] == world.panel["rev_b"] and ranked[0]["eligible"] is True
    assert "fits" in ranked[0]["why"][1] and "knee arthroscopy" in ranked[0]["why"][1].lower()
    assert "open cases" in ranked[0]["why"][1]
    others = {r["id"]: r for r in ranked[1:]}
    assert others[world.panel["rev_exp"]]["eligible"] is False and "excluded" in others[world.panel["rev_exp"]]["why"][0]
    assert world.client("intake").get(f"/api/cases/{case_id}/match").status_code == 403
    chosen = world.client("admin").post(f"/api/cases/{case_id}/assign", json={}).json()
    assert chosen["reviewer_id"] == world.panel["rev_b"]
