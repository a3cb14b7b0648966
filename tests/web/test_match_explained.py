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


def test_the_match_explanation_shows_each_check_each_party_and_why_first(world):
    app = application()
    app["requesting_physician"] = {"name": "Dr. Req Uester", "specialty": "Family Medicine"}
    app["attorney"] = {"name": "Reyna Lopez", "firm": "Lopez Law"}
    app["ur_decision"]["items"] = [{"request": "Right knee arthroscopy with partial medial meniscectomy",
                                    "outcome": "denied"}]
    case_id = world.client("intake").post("/api/cases", json=app).json()["case"]["id"]
    answer = world.client("qa").get(f"/api/cases/{case_id}/match").json()
    ranked = {r["id"]: r for r in answer["ranked"]}
    first = ranked[world.panel["rev_b"]]
    assert [c["check"] for c in first["checks"]] == ["license", "certification", "experience", "active_practice",
                                                     "specialty", "conflict", "workload"]
    assert all(c["ok"] for c in first["checks"])
    conflict = next(c for c in first["checks"] if c["check"] == "conflict")
    named = {(p["party"], p["name"]) for p in conflict["parties"]}
    assert {("the employee", app["employee"]["name"]), ("the employer", app["employer"]["name"]),
            ("the requesting physician", "Dr. Req Uester"), ("the attorney", "Reyna Lopez"),
            ("the attorney's firm", "Lopez Law")} <= named
    specialty = next(c for c in first["checks"] if c["check"] == "specialty")["detail"]
    assert "joint and extremity surgery" in specialty and "reviewed by a surgeon" in specialty
    physiatrist = ranked[world.panel["rev_a"]]
    assert physiatrist["eligible"] is False
    assert [c["check"] for c in physiatrist["checks"] if not c["ok"]] == ["specialty"]
    ranking = answer["ranking"]
    assert ranking["reviewer"] == world.panel["rev_b"] and ranking["because"] == "the only eligible reviewer"
    assert [p["reviewer"] for p in ranking["passed_over"]] == [world.panel["rev_exp"]]
    assert ranking["passed_over"][0]["excluded"].startswith("license:")
    page = world.client("qa").get(f"/cases/{case_id}").text
    assert f"Why {world.panel['rev_b']} is ranked first:" in page and "the only eligible reviewer" in page
    assert "Specialty fit with the request" in page and "Conflicts of interest" in page
    assert "the attorney, Reyna Lopez" in page and f"{world.panel['rev_exp']} (Orthopaedic Surgery" in page
    intake_page = world.client("intake").get(f"/cases/{case_id}").text
    assert "ranked first" not in intake_page and "Conflicts of interest" not in intake_page
    chosen = world.client("admin").post(f"/api/cases/{case_id}/assign", json={}).json()
    assert chosen["why"][-1] == ranking["text"]  # the stored explanation says why the first was chosen


def test_with_no_eligible_reviewer_the_page_says_so_with_each_failed_check(world):
    app = application()
    app["ur_decision"]["items"] = [{"request": "Chiropractic manipulation x 6 to the low back", "outcome": "denied"}]
    case_id = world.client("intake").post("/api/cases", json=app).json()["case"]["id"]
    answer = world.client("admin").get(f"/api/cases/{case_id}/match").json()
    assert answer["ranking"] is None and not any(r["eligible"] for r in answer["ranked"])
    assert all(any(c["check"] == "specialty" and not c["ok"] for c in r["checks"]) for r in answer["ranked"])
    page = world.client("admin").get(f"/cases/{case_id}").text
    assert "No reviewer of the panel is eligible" in page and "does not fit Chiropractic manipulation" in page
    assert "Why: Chiropractic manipulation x 6 to the low back: chiropractic" in page  # the kind's reason shown
    refused = world.client("admin").post(f"/api/cases/{case_id}/assign", json={})
    assert refused.status_code == 409 and "no eligible reviewer" in refused.text
