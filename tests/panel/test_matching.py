"""Panel matching: each exclusion code, conflicts with every kind of party, ranking, credentials."""

from __future__ import annotations

from datetime import date

import pytest

from openimr.cases.intake import parse_application
from openimr.panel.conflicts import same_party
from openimr.panel.matching import credentials, fit_table, match
from openimr.panel.reviewers import ReviewerError, parse_reviewers

ON = date(2026, 3, 15)


def run(app_data, panel_data, **kw):
    return match([parse_application(app_data)], parse_reviewers(panel_data, "panel.json"), on=ON, **kw)


def codes(result, reviewer_id):
    return {r["code"] for e in result["excluded"] if e["reviewer"] == reviewer_id for r in e["reasons"]}


def test_sample_panel(app_data, panel_data):
    result = run(app_data, panel_data)
    assert [e["reviewer"] for e in result["eligible"]] == ["R-PMR-02", "R-OCC-01"]
    assert codes(result, "R-ORTHO-03") == {"conflict"}
    assert codes(result, "R-DC-04") == {"specialty"}
    assert codes(result, "R-NEW-05") == {"license", "certification", "experience", "active_practice", "specialty", "workload"}


def test_names_are_confidential_unless_asked(app_data, panel_data):
    import json

    plain = json.dumps(run(app_data, panel_data))
    assert not any(r["name"] in plain for r in panel_data)
    named = run(app_data, panel_data, show_names=True)
    assert named["eligible"][0]["name"] == "Dr. Omar Haddad"


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("licenses", [{"state": "CA", "type": "MD", "unrestricted": True, "expires": "2026-01-01"}], "license"),
        ("board_certifications", [{"board": "ABPMR", "specialty": "Physical Medicine and Rehabilitation", "current": False}], "certification"),
        ("years_active_practice", 5, "experience"),
        ("hours_per_week", 23.5, "active_practice"),
        ("open_cases", 25, "workload"),
        ("affiliations", [{"name": "ACME LOGISTICS", "kind": "employer", "relation": "consultant"}], "conflict"),
    ],
)
def test_each_exclusion_code(app_data, panel_data, field, value, code):
    panel_data[1][field] = value  # R-PMR-02, otherwise the best
    result = run(app_data, panel_data)
    assert codes(result, "R-PMR-02") >= {code}
    assert "R-PMR-02" not in [e["reviewer"] for e in result["eligible"]]


PARTY_CASES = [
    ("employer", "Acme Logistics", None),
    ("insurer", "Golden State Claims Services", None),
    ("claims_administrator", "Peter Novak", None),
    ("ur_organization", "Pacific UR Partners", lambda d: d["ur_decision"].update(organization="Pacific UR Partners")),
    ("physician", "Alan Reyes", None),
    ("medical_group", "Central Valley Orthopedic Group", None),
    ("facility", "Valley Surgery Center", None),
    ("manufacturer", "Medtronic", lambda d: d["parties"].append({"name": "Medtronic", "kind": "manufacturer"})),
    ("attorney", "Reyna Lopez", lambda d: d.update(attorney={"name": "Reyna Lopez", "firm": "Lopez Law"})),
    ("employee", "Gonzalez, Maria", None),
    ("family", "Maria Gonzalez", None),
]


@pytest.mark.parametrize("kind, name, setup", PARTY_CASES, ids=[c[0] for c in PARTY_CASES])
def test_conflict_with_every_kind_of_party(app_data, panel_data, kind, name, setup):
    if setup:
        setup(app_data)
    panel_data[1]["affiliations"] = [{"name": name, "kind": kind, "relation": "paid adviser"}]
    result = run(app_data, panel_data)
    assert codes(result, "R-PMR-02") == {"conflict"}


def test_reviewer_who_treated_the_employee_conflicts(app_data, panel_data):
    panel_data[1]["patients_treated"] = ["Maria Gonzalez"]
    assert codes(run(app_data, panel_data), "R-PMR-02") == {"conflict"}


def test_unrelated_affiliation_is_no_conflict(app_data, panel_data):
    panel_data[1]["affiliations"] = [{"name": "Acme Freight", "kind": "employer", "relation": "former"}]
    assert "R-PMR-02" in [e["reviewer"] for e in run(app_data, panel_data)["eligible"]]


def test_name_matching():
    assert same_party("Dr. John Q. Smith", "Smith, John")
    assert same_party("Acme Logistics, Inc.", "ACME Logistics")
    assert not same_party("John Smith", "Jane Smith")
    assert not same_party("Acme", "Acme Logistics")


@pytest.mark.parametrize(
    "request_text, fits, misfits",
    [
        ("Chiropractic manipulation x 6", {"R-DC-04"}, {"R-PMR-02", "R-OCC-01"}),
        ("L4-L5 posterior lumbar fusion", {"R-ORTHO-03"}, {"R-PMR-02", "R-OCC-01", "R-DC-04"}),
        ("Cognitive behavioral therapy x 6 sessions", {"R-PSY-06"}, {"R-PMR-02", "R-DC-04"}),
        ("Norco 10/325 mg #60", {"R-PMR-02", "R-OCC-01"}, {"R-DC-04", "R-PSY-06"}),
    ],
)
def test_specialty_fits_the_treatment(app_data, panel_data, request_text, fits, misfits):
    app_data["parties"] = []  # no conflict for the orthopaedic surgeon here
    app_data["ur_decision"]["items"][0]["request"] = request_text
    panel_data.append(
        {"id": "R-PSY-06", "name": "Dr. Ana Bell", "profession": "psychologist",
         "licenses": [{"state": "CA", "type": "PhD", "unrestricted": True}],
         "years_active_practice": 11, "hours_per_week": 30}
    )
    result = run(app_data, panel_data)
    eligible = {e["reviewer"] for e in result["eligible"]}
    assert fits <= eligible
    assert all("specialty" in codes(result, r) for r in misfits)


def test_ranking_prefers_closest_specialty_then_lightest_load(app_data, panel_data):
    twin = dict(panel_data[1], id="R-PMR-07", open_cases=2)
    panel_data.append(twin)
    order = [e["reviewer"] for e in run(app_data, panel_data)["eligible"]]
    assert order == ["R-PMR-07", "R-PMR-02", "R-OCC-01"]
    # the requesting physician's own specialty (orthopaedics) lifts a farther fit above a nearer one
    app_data["parties"] = []
    order = [e["reviewer"] for e in run(app_data, panel_data)["eligible"]]
    assert order == ["R-PMR-07", "R-PMR-02", "R-ORTHO-03", "R-OCC-01"]
    app_data["requesting_physician"]["specialty"] = "Pain Management"
    order = [e["reviewer"] for e in run(app_data, panel_data)["eligible"]]
    assert order == ["R-PMR-07", "R-PMR-02", "R-OCC-01", "R-ORTHO-03"]


def test_loads_from_database_count(app_data, panel_data):
    from openimr.cases.intake import parse_application

    result = match([parse_application(app_data)], parse_reviewers(panel_data, "p"), {"R-PMR-02": 17}, ON)
    assert result["eligible"][0]["reviewer"] == "R-PMR-02"
    result = match([parse_application(app_data)], parse_reviewers(panel_data, "p"), {"R-PMR-02": 18}, ON)
    assert codes(result, "R-PMR-02") == {"workload"}


def test_credentials_block_from_the_reviewer(panel_data):
    reviewer = parse_reviewers(panel_data, "p")[0]
    block = credentials(reviewer, ON)
    assert block.licensure == ["California", "Texas"]
    assert block.specialties == ["Occupational Medicine"]
    assert block.years_in_practice == int(reviewer.years_active_practice)
    assert "more than 5 years" in block.statement and reviewer.name not in block.model_dump_json()
    chiro = credentials(parse_reviewers(panel_data, "p")[3], ON)
    assert chiro.specialties == ["Chiropractic"]


def test_invalid_reviewers_list_every_problem(panel_data):
    panel_data[0]["profession"] = "wizard"
    panel_data[2]["licenses"][0]["state"] = "ZZ"
    panel_data[3]["id"] = "R-OCC-01"
    with pytest.raises(ReviewerError) as caught:
        parse_reviewers(panel_data, "panel.json")
    text = str(caught.value)
    assert "[0].profession" in text and "[2].licenses.0.state" in text and "appears more than once" in text


def test_fit_table_is_valid_and_ends_with_catch_all():
    table = fit_table()
    assert table.kinds[-1].keywords == []
    assert table.kind_of("something never seen").kind == table.kinds[-1].kind
    assert table.canonical("orthopedic surgery") == "Orthopaedic Surgery"


def test_fit_table_rejects_an_alias_to_nowhere():
    import yaml
    from pydantic import ValidationError

    from openimr.panel.matching import DATA, FitTable

    data = yaml.safe_load((DATA / "specialty_fit.yaml").read_text())
    data["aliases"]["bone doctor"] = "Osteology"
    with pytest.raises(ValidationError, match="Osteology"):
        FitTable.model_validate(data)
