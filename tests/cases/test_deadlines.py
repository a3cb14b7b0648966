"""Deadlines and the California working-day calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import yaml
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import ValidationError

from openimr.cases.deadlines import (
    CaseEvents,
    HolidayFile,
    add_working_days,
    compute,
    holiday_rules,
    is_working_day,
    state_holidays,
)
from openimr.cases.intake import parse_application
from openimr.cases.settings import load_settings


@pytest.mark.parametrize(
    "day, name",
    [
        (date(2023, 1, 2), "New Year's Day"),  # Jan 1 2023 a Sunday: observed Monday
        (date(2024, 4, 1), "Cesar Chavez Day"),  # Mar 31 2024 a Sunday
        (date(2023, 11, 10), "Veterans Day"),  # Nov 11 2023 a Saturday: the Friday before
        (date(2026, 1, 19), "Martin Luther King Jr. Day"),
        (date(2026, 2, 16), "Presidents' Day"),
        (date(2026, 5, 25), "Memorial Day"),
        (date(2013, 9, 2), "Labor Day"),
        (date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 11, 27), "Day after Thanksgiving"),
        (date(2030, 12, 25), "Christmas Day"),
    ],
)
def test_observed_holidays(day, name):
    assert state_holidays()[day] == name
    assert not is_working_day(day)


def test_saturday_holidays_other_than_veterans_day_do_not_move():
    # Jan 1 2022 and Dec 25 2021 were Saturdays: the Fridays before stay working days
    assert is_working_day(date(2021, 12, 31)) and is_working_day(date(2021, 12, 24))


def test_every_year_2013_2030_has_its_holidays():
    first, last = holiday_rules().years
    assert first <= 2013 and last >= 2030
    verified = [r for r in holiday_rules().holidays if r.certainty == "verified"]
    for year in range(2013, 2031):
        observed = [d for d in state_holidays() if d.year == year]
        saturdays = [r for r in verified if r.actual(year).weekday() == 5 and r.saturday == "none"]
        assert len(observed) + len(saturdays) >= len(verified) - 1  # Dec 31 may carry next year's Jan 1
        assert all(d.weekday() < 5 for d in observed)


def test_uncertain_holidays_only_with_the_setting():
    lincoln = date(2026, 2, 12)
    assert lincoln not in state_holidays(False) and lincoln in state_holidays(True)


def test_holiday_file_is_validated():
    data = yaml.safe_load("years: [2013, 2030]\nholidays:\n  - {name: X, month: 1, day: 1, weekday: monday, nth: 1}\n")
    with pytest.raises(ValidationError):
        HolidayFile.model_validate(data)


@hsettings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2013, 1, 1), max_value=date(2030, 6, 30)), st.integers(min_value=0, max_value=40))
def test_add_working_days_counts_only_working_days(start, count):
    end = add_working_days(start, count)
    assert count == 0 or is_working_day(end)
    between = sum(is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))
    assert between == count


def deadlines(data, events=None, **overrides):
    data.update(overrides)
    return compute(parse_application(data), load_settings(), events)


def test_records_due_after_mailed_and_electronic_notice(app_data):
    mailed = deadlines(app_data, CaseEvents(notice_sent=date(2026, 3, 11), notice_method="mail"))
    assert mailed.records_due == date(2026, 3, 26)
    electronic = deadlines(app_data, CaseEvents(notice_sent=date(2026, 3, 11), notice_method="electronic"))
    assert electronic.records_due == date(2026, 3, 23)
    assert not any("notice" in a for a in electronic.assumptions)


def test_unknown_notice_is_assumed_and_said(app_data):
    result = deadlines(app_data)
    # received Tue 2026-03-10: notice assumed the next business day, by mail
    assert result.records_due == date(2026, 3, 11) + timedelta(days=15)
    assert any("assumed sent 2026-03-11" in a for a in result.assumptions)
    assert any("assumed mail" in a for a in result.assumptions)


def test_expedited_records_in_24_hours_and_determination_in_3_days(app_data):
    result = deadlines(
        app_data, CaseEvents(notice_sent=date(2026, 3, 11), records_received=date(2026, 3, 12)), review_type="expedited"
    )
    assert result.records_due == date(2026, 3, 12)
    assert result.determination_due == date(2026, 3, 15)


def test_standard_determination_30_days_from_records(app_data):
    result = deadlines(app_data, CaseEvents(date(2026, 3, 11), "electronic", date(2026, 3, 20)))
    assert result.determination_due == date(2026, 4, 19)
    assert result.assumptions == []


def test_formulary_determination_5_working_days_skips_thanksgiving(app_data):
    result = deadlines(app_data, CaseEvents(date(2026, 11, 12), "mail", date(2026, 11, 25)), formulary_drug=True)
    # Thu 26 and Fri 27 are holidays, then the weekend: Mon 30 .. Fri Dec 4
    assert result.determination_due == date(2026, 12, 4)


def test_cli_records_event_recomputes(app_data, write_json, cli, db_url):
    number = cli("case", "new", write_json(app_data), "--db", db_url).stdout.split(":")[0]
    result = cli("case", "event", number, "notice_sent", "2026-03-12", "--method", "electronic", "--db", db_url, "--json")
    assert result.exit_code == 0, result.stderr
    import json

    case = json.loads(result.stdout)
    assert case["records_due"] == "2026-03-24"
    bad = cli("case", "event", number, "notice_sent", "2026-03-12", "--db", db_url)
    assert bad.exit_code == 1 and "--method" in bad.stderr
    converted = json.loads(cli("case", "event", number, "converted_expedited", "2026-03-13", "--db", db_url, "--json").stdout)
    assert converted["review_type"] == "expedited" and converted["records_due"] == "2026-03-14"
    early = cli("case", "event", number, "records_received", "2026-01-01", "--db", db_url)
    assert early.exit_code == 1 and "before the application was received" in early.stderr


def test_conversion_to_expedited_shortens_both_deadlines(app_data):
    events = CaseEvents(notice_sent=date(2026, 3, 11), notice_method="mail", converted_expedited=date(2026, 3, 13))
    result = deadlines(app_data, events)
    assert result.records_due == date(2026, 3, 14)
    assert result.determination_due == date(2026, 3, 17)
    assert any("converted to expedited" in a for a in result.assumptions)
    events.records_received = date(2026, 3, 13)
    assert deadlines(app_data, events).determination_due == date(2026, 3, 16)


@pytest.mark.parametrize(
    "year, expected",
    [
        (2017, ["01-02", "01-16", "02-20", "03-31", "05-29", "07-04", "09-04", "11-10", "11-23", "11-24", "12-25"]),
        (2024, ["01-01", "01-15", "02-19", "04-01", "05-27", "07-04", "09-02", "11-11", "11-28", "11-29", "12-25"]),
    ],
)
def test_whole_year_of_closed_days(year, expected):
    observed = sorted(d.strftime("%m-%d") for d in state_holidays() if d.year == year)
    assert observed == expected
