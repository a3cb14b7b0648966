"""Eligibility screening: each reason code, its source, the filing deadline, settings."""

from __future__ import annotations

import copy
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from openimr.cases.eligibility import CODES, check
from openimr.cases.intake import parse_application
from openimr.cases.settings import SettingsError, load_settings

CITATION = re.compile(r"\((?:\d+ CCR|Lab\. Code)[^)]*\)")


def screen(data, settings=None, prior=()):
    return check(parse_application(data), settings or load_settings(), prior_requests=prior)


def test_clean_application_is_eligible(app_data):
    result = screen(app_data)
    assert result.eligible and result.reasons == []


MUTATIONS = {
    "unsigned": lambda d: d.update(signed=False),
    "late": lambda d: d.update(received="2026-03-24"),
    "ur_decision_missing": lambda d: d.update(ur_decision_attached=False),
    "not_medical_necessity": lambda d: d["ur_decision"].update(missing_information=True),
    "prior_imr": lambda d: d.update(prior_imr_requests=["MRI of lumbar spine"]),
    "liability_dispute": lambda d: d.update(liability_dispute=True),
}


@pytest.mark.parametrize("code", CODES)
def test_each_reason_code_with_its_source(app_data, code):
    MUTATIONS[code](app_data)
    result = screen(app_data)
    assert not result.eligible
    assert [r.code for r in result.reasons] == [code]
    assert CITATION.search(result.reasons[0].message), result.reasons[0].message


def test_all_reasons_reported_together(app_data):
    for code in ("unsigned", "ur_decision_missing", "not_medical_necessity"):
        MUTATIONS[code](app_data)
    assert {r.code for r in screen(app_data).reasons} == {"unsigned", "ur_decision_missing", "not_medical_necessity"}


def test_filing_deadline_is_30_days_from_service(app_data):
    # served 2026-02-21: day 30 is 2026-03-23
    app_data["received"] = "2026-03-23"
    result = screen(app_data)
    assert result.deadlines.filing_deadline.isoformat() == "2026-03-23" and result.eligible
    app_data["received"] = "2026-03-24"
    assert [r.code for r in screen(app_data).reasons] == ["late"]


def test_formulary_filing_period_is_a_setting(app_data, tmp_path):
    app_data["formulary_drug"] = True
    app_data["received"] = "2026-03-05"  # 12 days after service
    assert [r.code for r in screen(app_data).reasons] == ["late"]
    override = tmp_path / "s.yaml"
    override.write_text("formulary_filing_days: 15\n")
    assert screen(app_data, load_settings(override)).eligible


def test_mail_extension_setting(app_data, tmp_path):
    app_data["received"] = "2026-03-26"
    assert not screen(app_data).eligible
    override = tmp_path / "s.json"
    override.write_text(json.dumps({"mail_extension_days": 5}))
    assert screen(app_data, load_settings(override)).eligible
    app_data["ur_decision"]["service"] = "electronic"
    assert not screen(app_data, load_settings(override)).eligible


def test_liability_dispute_defers_and_suspends_the_filing_period(app_data):
    app_data["liability_dispute"] = True
    app_data["received"] = "2026-06-30"
    result = screen(app_data)
    assert [r.code for r in result.reasons] == ["liability_dispute"] and result.deferred
    assert result.deadlines.filing_deadline is None
    assert any("liability dispute" in a for a in result.deadlines.assumptions)


def test_prior_requests_from_stored_cases(app_data):
    assert [r.code for r in screen(app_data, prior=["MRI, lumbar spine"]).reasons] == ["prior_imr"]
    assert screen(app_data, prior=["MRI of the cervical spine"]).eligible


@pytest.mark.parametrize(
    "content, expected",
    [("bogus_setting: 3\n", "bogus_setting: unknown setting"), ("filing_days: many\n", "filing_days")],
)
def test_bad_settings_file_is_one_line(tmp_path, content, expected):
    path = tmp_path / "s.yaml"
    path.write_text(content)
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_cli_check_json_contract(app_data, write_json, cli, sqlite_url):
    app_data["signed"] = False
    result = cli("case", "check", write_json(app_data), "--json", "--db", sqlite_url)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) >= {"eligible", "reasons", "deadlines"}
    assert data["eligible"] is False
    assert data["reasons"][0]["code"] == "unsigned" and set(data["reasons"][0]) == {"code", "message"}
    assert set(data["deadlines"]) == {"filing_deadline", "records_due", "determination_due"}


def test_cli_check_sees_stored_cases_but_stores_nothing(app_data, write_json, cli, db_url):
    path = write_json(app_data)
    assert json.loads(cli("case", "check", path, "--json", "--db", db_url).stdout)["eligible"]
    assert cli("case", "list", "--json", "--db", db_url).stdout.strip() == "[]"
    cli("case", "new", path, "--db", db_url)
    again = json.loads(cli("case", "check", path, "--json", "--db", db_url).stdout)
    assert [r["code"] for r in again["reasons"]] == ["prior_imr"]


def test_docs_list_every_setting_with_its_default():
    import yaml

    root = Path(__file__).resolve().parents[2]
    docs = (root / "docs" / "workflow.md").read_text()
    for data in ("src/openimr/cases/data/settings.yaml", "src/openimr/panel/data/panel.yaml"):
        for name, entry in yaml.safe_load((root / data).read_text()).items():
            value = str(entry["value"]).lower() if isinstance(entry["value"], bool) else str(entry["value"])
            assert f"| `{name}` | {value} |" in docs, name


BASE_APP = json.loads((Path(__file__).parent / "data" / "application.json").read_text())


@hsettings(max_examples=80, deadline=None)
@given(
    served=st.dates(min_value=date(2014, 1, 1), max_value=date.today() - timedelta(days=91)),  # received: never ahead
    delay=st.integers(min_value=0, max_value=90),
)
def test_late_exactly_when_more_than_30_days_after_service(served, delay):
    data = copy.deepcopy(BASE_APP)
    data["ur_decision"]["date"] = data["ur_decision"]["served"] = served.isoformat()
    data["received"] = (served + timedelta(days=delay)).isoformat()
    codes = [r.code for r in screen(data).reasons]
    assert ("late" in codes) == (delay > 30)
