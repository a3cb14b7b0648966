"""The match explanation: every check with its result, each party checked by name, and why
the first reviewer is ranked first; surgery goes to the surgical specialty."""

from __future__ import annotations

from datetime import date

import pytest

from openimr.cases.intake import parse_application
from openimr.panel.conflicts import KIND_LABELS
from openimr.panel.matching import CODES, fit_table, match
from openimr.panel.reviewers import parse_reviewers

ON = date(2026, 3, 15)
ARTHROSCOPY = "Right knee arthroscopy with partial medial meniscectomy"


def clinician(rid: str, name: str, specialty: str, board: str, **fields) -> dict:
    return {"id": rid, "name": name, "profession": "MD",
            "licenses": [{"state": "CA", "type": "MD", "unrestricted": True, "expires": "2030-12-31"}],
            "board_certifications": [{"board": board, "specialty": specialty, "current": True}],
            "years_active_practice": 12, "hours_per_week": 32, "affiliations": [], "open_cases": 1} | fields


def three() -> list[dict]:
    """An orthopaedic surgeon, a physiatrist and a pain specialist, all free and conflict-free."""
    return [
        clinician("R-SURG", "Dr. Nora Blake", "Orthopaedic Surgery", "American Board of Orthopaedic Surgery"),
        clinician("R-PHYS", "Dr. Ian Frost", "Physical Medicine and Rehabilitation",
                  "American Board of Physical Medicine and Rehabilitation", open_cases=0),
        clinician("R-PAIN", "Dr. Lea Moss", "Pain Medicine", "American Board of Anesthesiology", open_cases=0),
    ]


def run(app_data, panel, request=ARTHROSCOPY, **kw):
    app_data["ur_decision"]["items"][0]["request"] = request
    app_data["requesting_physician"]["specialty"] = "Family Medicine"
    return match([parse_application(app_data)], parse_reviewers(panel, "panel.json"), on=ON, **kw)


def check(entry: dict, code: str) -> dict:
    return next(c for c in entry["checks"] if c["check"] == code)


def test_every_check_is_shown_with_its_result(app_data):
    result = run(app_data, three(), request="MRI of the lumbar spine")
    for entry in result["eligible"] + result["excluded"]:
        assert [c["check"] for c in entry["checks"]] == list(CODES)
    first = result["eligible"][0]
    assert all(c["ok"] for c in first["checks"])
    assert "CA MD" in check(first, "license")["detail"] and "California license held" in check(first, "license")["detail"]
    assert "American Board of Physical Medicine" in check(first, "certification")["detail"]
    fit = check(first, "specialty")["detail"]
    assert "imaging of the spine or joints" in fit and "'mri' in the request" in fit and "1st of" in fit
    assert "open cases" in check(first, "workload")["detail"]


def test_conflicts_name_every_party_checked_with_its_result(app_data):
    panel = three()
    panel[1]["affiliations"] = [{"name": "Acme Logistics", "kind": "employer", "relation": "paid adviser"}]
    app_data["attorney"] = {"name": "Reyna Lopez", "firm": "Lopez Law"}
    result = run(app_data, panel, request="MRI of the lumbar spine")
    phys = next(e for e in result["excluded"] if e["reviewer"] == "R-PHYS")
    parties = {(p["party"], p["name"]): p for p in check(phys, "conflict")["parties"]}
    application = parse_application(app_data)
    for kind, name in application.party_names():  # each party, by its role and name
        assert (KIND_LABELS[kind], name) in parties, name
    assert parties[("the employer", "Acme Logistics")]["ok"] is False
    assert "paid adviser" in parties[("the employer", "Acme Logistics")]["detail"]
    assert parties[("the attorney", "Reyna Lopez")]["ok"] is True
    assert parties[("the employee as a patient", application.employee.name)]["ok"] is True
    assert parties[("the UR organization", "")]["ok"] is None  # none named: said, not counted as checked
    assert [r["code"] for r in phys["reasons"]] == ["conflict"]
    assert "Dr. Ian Frost" not in str(result)  # the reviewer is named by panel id only


def test_a_knee_arthroscopy_goes_to_the_orthopaedic_surgeon_first(app_data):
    result = run(app_data, three())
    assert [e["reviewer"] for e in result["eligible"]] == ["R-SURG"]
    assert result["ranking"]["reviewer"] == "R-SURG"
    for other in ("R-PHYS", "R-PAIN"):
        entry = next(e for e in result["excluded"] if e["reviewer"] == other)
        assert [r["code"] for r in entry["reasons"]] == ["specialty"]
        assert "reviewed by a surgeon" in check(entry, "specialty")["kinds"][0]
    assert "reviewed by a surgeon" in check(result["eligible"][0], "specialty")["detail"]


@pytest.mark.parametrize("trouble, code", [
    ({"affiliations": [{"name": "Acme Logistics", "kind": "employer", "relation": "consultant"}]}, "conflict"),
    ({"open_cases": 25}, "workload"),
])
def test_the_surgeon_conflicted_or_at_capacity_gives_the_next_surgeon_and_says_why(app_data, trouble, code):
    panel = three()
    panel[0].update(trouble)
    alone = run(app_data, panel)
    assert alone["eligible"] == [] and alone["ranking"] is None  # no physiatrist or pain specialist for surgery
    panel.append(clinician("R-SURG2", "Dr. Otto Vance", "Orthopedic Surgery", "American Board of Orthopaedic Surgery",
                           open_cases=9))
    result = run(app_data, panel)
    assert [e["reviewer"] for e in result["eligible"]] == ["R-SURG2"]
    ranking = result["ranking"]
    assert [c["reviewer"] for c in ranking["passed_over"]] == ["R-SURG"]
    assert ranking["passed_over"][0]["excluded"].startswith(code + ":")
    assert "R-SURG (Orthopaedic Surgery, the 1st fit for joint and extremity surgery) fits as closely but is excluded" \
        in ranking["text"]


def test_why_the_first_is_ahead_of_the_second(app_data):
    panel = three() + [clinician("R-SURG2", "Dr. Otto Vance", "Orthopaedic Surgery",
                                 "American Board of Orthopaedic Surgery", open_cases=6),
                       clinician("R-HAND", "Dr. Ada Kern", "Surgery of the Hand", "American Board of Surgery",
                                 open_cases=0)]
    result = run(app_data, panel)  # a knee: the hand surgeon does not fit it
    assert [e["reviewer"] for e in result["eligible"]] == ["R-SURG", "R-SURG2"]
    ranking = result["ranking"]
    assert ranking["second"] == "R-SURG2" and "fewer open cases (1 against 6)" in ranking["because"]
    hand = next(e for e in result["excluded"] if e["reviewer"] == "R-HAND")
    assert "Surgery of the Hand fits it only in the hand, elbow, upper_extremity, not the knee" in \
        check(hand, "specialty")["detail"]
    del panel[3]
    result = run(app_data, panel, request="Right carpal tunnel release")  # a hand: the hand surgeon fits
    ranking = result["ranking"]
    assert ranking["second"] == "R-HAND" and "closer specialty fit" in ranking["because"]
    assert "Orthopaedic Surgery, the 1st fit" in ranking["because"] and "the 2nd fit" in ranking["because"]


def test_the_requesting_physicians_specialty_can_put_a_farther_fit_first(app_data):
    panel = [clinician("R-OCC", "Dr. Eve Hart", "Occupational Medicine", "American Board of Preventive Medicine"),
             clinician("R-PAIN", "Dr. Lea Moss", "Pain Medicine", "American Board of Anesthesiology", open_cases=3)]
    app_data["ur_decision"]["items"][0]["request"] = "MRI of the lumbar spine"
    app_data["requesting_physician"]["specialty"] = "Pain Management"
    result = match([parse_application(app_data)], parse_reviewers(panel, "p"), on=ON)
    assert [e["reviewer"] for e in result["eligible"]] == ["R-PAIN", "R-OCC"]
    because = result["ranking"]["because"]
    assert "requesting physician's own specialty, which R-OCC lacks" in because and "0.8333 against 0.5" in because


def test_names_stay_out_of_the_explanation(app_data):
    panel = three()
    panel[0]["affiliations"] = [{"name": "Acme Logistics", "kind": "employer", "relation": "consultant"}]
    text = str(run(app_data, panel))
    assert not any(r["name"] in text for r in panel)


@pytest.mark.parametrize("request_text, kind", [
    (ARTHROSCOPY, "joint and extremity surgery"),
    ("Assistant surgeon", "joint and extremity surgery"),  # no keyword: a surgery by the library's category
    ("L4-L5 posterior lumbar fusion", "spine surgery"),
    ("Myofascial release to the low back x 6", "other treatment"),  # a "release" that is no surgery
    ("Post-operative physical therapy after rotator cuff repair x 12", "rehabilitation"),
])
def test_surgery_is_what_the_library_classifies_as_surgery(request_text, kind):
    assert fit_table().kind_of(request_text).kind == kind


def test_fit_table_checks_categories_kinds_and_reasons():
    import yaml
    from pydantic import ValidationError

    from openimr.panel.matching import DATA, FitTable

    data = yaml.safe_load((DATA / "specialty_fit.yaml").read_text())
    for change, words in [
        (lambda d: d["kinds"][4].update(only_categories=["brain_surgery"]), "brain_surgery"),
        (lambda d: d["by_category"].update(surgery="heart surgery"), "heart surgery"),
        (lambda d: d["by_category"].update(stitches="spine surgery"), "stitches"),
        (lambda d: d["kinds"][0].pop("reason"), "reason"),
        (lambda d: d["kinds"][5]["limited_to"].update({"Dentistry": ["hand"]}), "Dentistry"),
        (lambda d: d["kinds"][5]["limited_to"].update({"Plastic Surgery": ["tail"]}), "tail"),
    ]:
        broken = yaml.safe_load(yaml.safe_dump(data))
        change(broken)
        with pytest.raises(ValidationError, match=words):
            FitTable.model_validate(broken)
