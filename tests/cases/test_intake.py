"""Intake: APPLICATION.json validation, every problem listed with its path, nothing stored."""

from __future__ import annotations

import pytest

from openimr.cases.intake import ApplicationError, load_application, parse_application


def test_valid_application_reads(app_data):
    app = parse_application(app_data)
    assert app.ur_decision.items[0].outcome == "denied"
    kinds = dict(app.party_names())
    assert kinds["facility"] == "Valley Surgery Center" and kinds["employee"] == "Maria L. Gonzalez"


def test_every_problem_listed_with_its_field_path(app_data, write_json):
    del app_data["signed"]
    app_data["received"] = "2026-13-45"
    app_data["ur_decision"]["items"][0]["outcome"] = "approved"
    app_data["employee"]["nickname"] = "Mia"
    with pytest.raises(ApplicationError) as caught:
        load_application(write_json(app_data, "bad.json"))
    problems = caught.value.problems
    paths = {p.split(":")[0] for p in problems}
    assert {"signed", "received", "ur_decision.items.0.outcome", "employee.nickname"} <= paths
    assert all(line.startswith(str(caught.value.source)) for line in str(caught.value).splitlines())


def test_dates_out_of_order_are_problems(app_data):
    app_data["ur_decision"]["served"] = "2026-02-01"
    with pytest.raises(ApplicationError) as caught:
        parse_application(app_data, "a.json")
    assert any(p.startswith("ur_decision.served: 2026-02-01 is before") for p in caught.value.problems)


def test_prior_imr_requests_may_be_plain_text(app_data):
    app_data["prior_imr_requests"] = ["MRI of the lumbar spine", {"request": "Norco", "case_number": "CM25-0000009"}]
    app = parse_application(app_data)
    assert [p.request for p in app.prior_imr_requests] == ["MRI of the lumbar spine", "Norco"]


def test_not_json_is_one_line(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("{not json")
    with pytest.raises(ApplicationError) as caught:
        load_application(path)
    assert len(str(caught.value).splitlines()) == 1 and "not valid JSON" in str(caught.value)


def test_cli_new_rejects_invalid_file_and_stores_nothing(app_data, write_json, cli, db_url):
    app_data["ur_decision"]["items"] = []
    app_data["review_type"] = "urgent"
    result = cli("case", "new", write_json(app_data, "bad.json"), "--db", db_url)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert any("ur_decision.items" in line for line in lines) and any("review_type" in line for line in lines)
    assert "Traceback" not in result.stderr
    listed = cli("case", "list", "--db", db_url, "--json")
    assert listed.exit_code == 0 and listed.stdout.strip() == "[]"


from hypothesis import given  # noqa: E402
from hypothesis import settings as hsettings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.sampled_from(["2026-03-10", "regular", "denied"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@hsettings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["review_type", "received", "signed", "employee", "ur_decision", "parties", "x"]), JSON))
def test_any_json_is_an_application_or_a_listed_problem(data):
    try:
        parse_application(data, "fuzz.json")
    except ApplicationError as error:
        assert error.problems and all(": " in line for line in error.problems)
