"""Deadlines of an IMR case: filing, records due, determination due.

Calendar days unless said otherwise; working days skip weekends and the California state
holidays of data/holidays.yaml. What a deadline depends on but is not yet known (when the
notice of assignment went out, when the records arrived) is assumed, and each assumption
is returned with the dates so that the caller can show it.

Sources: filing 8 CCR 9792.10.1(b)(1) and Lab. Code 4610.5; notice 8 CCR 9792.10.4;
records 8 CCR 9792.10.5; determination Lab. Code 4610.6(d). Values: data/settings.yaml.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator

from openimr.cases.intake import Application
from openimr.cases.settings import Settings
from openimr.models import Model

HOLIDAYS_FILE = Path(__file__).parent / "data" / "holidays.yaml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class HolidayRule(Model):
    """A holiday: a fixed date (month, day) or the nth weekday of a month (nth -1 = last)."""

    name: str
    month: int
    day: int | None = None
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] | None = None
    nth: int | None = None
    offset_days: int = 0
    saturday: Literal["none", "preceding_friday"] = "none"
    certainty: Literal["verified", "uncertain"] = "verified"
    note: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> HolidayRule:
        if (self.day is None) == (self.weekday is None):
            raise ValueError(f"{self.name}: give either day or weekday+nth")
        if self.weekday and self.nth not in (1, 2, 3, 4, -1):
            raise ValueError(f"{self.name}: nth must be 1-4 or -1")
        if not 1 <= self.month <= 12:
            raise ValueError(f"{self.name}: month out of range")
        return self

    def actual(self, year: int) -> date:
        """The holiday's own date in `year` (before observance moves it)."""
        if self.day is not None:
            return date(year, self.month, self.day)
        target = WEEKDAYS.index(self.weekday)
        days = [
            date(year, self.month, d)
            for d in range(1, _calendar.monthrange(year, self.month)[1] + 1)
            if date(year, self.month, d).weekday() == target
        ]
        chosen = days[-1] if self.nth in (-1, None) else days[(self.nth or 0) - 1]
        return chosen + timedelta(days=self.offset_days)

    def observed(self, year: int) -> date | None:
        """The day state offices close for it: Sunday moves to Monday; Saturday per rule."""
        day = self.actual(year)
        if day.weekday() == 6:
            return day + timedelta(days=1)
        if day.weekday() == 5:
            return day - timedelta(days=1) if self.saturday == "preceding_friday" else None
        return day


class HolidayFile(Model):
    years: tuple[int, int]
    holidays: list[HolidayRule]


@lru_cache(maxsize=1)
def holiday_rules() -> HolidayFile:
    """data/holidays.yaml, validated."""
    from openimr.vocab.data import load

    return load(HOLIDAYS_FILE.name, HolidayFile, HOLIDAYS_FILE, ValueError, "holidays")


@lru_cache(maxsize=4)
def state_holidays(include_uncertain: bool = False) -> dict[date, str]:
    """Observed California state holidays over the file's years (and a margin): date -> name."""
    rules = holiday_rules()
    first, last = rules.years
    result: dict[date, str] = {}
    for year in range(first - 1, last + 2):
        for rule in rules.holidays:
            if rule.certainty == "uncertain" and not include_uncertain:
                continue
            if (day := rule.observed(year)) is not None:
                result[day] = rule.name
    return result


def is_working_day(day: date, include_uncertain: bool = False) -> bool:
    """Monday to Friday and not an observed state holiday."""
    return day.weekday() < 5 and day not in state_holidays(include_uncertain)


def add_working_days(start: date, count: int, include_uncertain: bool = False) -> date:
    """The date `count` working days after `start` (start itself not counted)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day, include_uncertain):
            count -= 1
    return day


def next_working_day(day: date, include_uncertain: bool = False) -> date:
    """`day` itself if a working day, else the next one."""
    while not is_working_day(day, include_uncertain):
        day += timedelta(days=1)
    return day


@dataclass
class CaseEvents:
    """What has happened to a case, as far as deadlines care."""

    notice_sent: date | None = None
    notice_method: Literal["mail", "electronic"] | None = None
    records_received: date | None = None
    converted_expedited: date | None = None

    def expedited(self, app: Application) -> bool:
        """Expedited from the start, or converted on a physician's certification (8 CCR 9792.10.4)."""
        return app.review_type == "expedited" or self.converted_expedited is not None


@dataclass
class Deadlines:
    filing_deadline: date | None
    records_due: date | None
    determination_due: date | None
    assumptions: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, str | None]:
        """The three dates as ISO strings (the `deadlines` object of `case check --json`)."""
        return {
            "filing_deadline": _iso(self.filing_deadline),
            "records_due": _iso(self.records_due),
            "determination_due": _iso(self.determination_due),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _calendar_deadline(start: date, days: int, settings: Settings) -> date:
    due = start + timedelta(days=days)
    if settings.roll_to_working_day:
        due = next_working_day(due, settings.include_uncertain_holidays)
    return due


def filing_deadline(app: Application, settings: Settings) -> tuple[date | None, list[str]]:
    """Last day to file (8 CCR 9792.10.1(b)(1)); None while a liability dispute is pending."""
    if app.liability_dispute:
        return None, [
            "filing period extended until 30 days after notice that the liability dispute is "
            "resolved (Lab. Code 4610.5; 8 CCR 9792.10.3(d))"
        ]
    notes = []
    days = settings.filing_days
    if app.formulary_drug:
        days = settings.formulary_filing_days
        notes.append(f"formulary drug dispute: {days}-day filing period (setting formulary_filing_days)")
    if app.ur_decision.service == "mail" and settings.mail_extension_days:
        days += settings.mail_extension_days
        notes.append(f"{settings.mail_extension_days} days added for service by mail")
    return _calendar_deadline(app.ur_decision.served, days, settings), notes


def records_due(app: Application, events: CaseEvents, settings: Settings) -> tuple[date, list[str]]:
    """When the IMRO must have the claims administrator's records (8 CCR 9792.10.5)."""
    notes = []
    notice = events.notice_sent
    if notice is None:
        notice = add_working_days(app.received, settings.notice_business_days, settings.include_uncertain_holidays)
        notes.append(
            f"notice of assignment not yet recorded: assumed sent {notice.isoformat()}, "
            f"{settings.notice_business_days} business day after receipt of the application"
        )
    expedited_days = -(-settings.records_expedited_hours // 24)
    if app.review_type == "expedited":
        return notice + timedelta(days=expedited_days), notes
    method = events.notice_method
    if method is None:
        method = settings.assumed_notice_method
        notes.append(f"notice method not recorded: assumed {method}")
    days = settings.records_mail_days if method == "mail" else settings.records_electronic_days
    due = _calendar_deadline(notice, days, settings)
    if events.converted_expedited:
        converted = max(events.converted_expedited, notice) + timedelta(days=expedited_days)
        if converted < due:
            notes.append(
                f"converted to expedited on {events.converted_expedited.isoformat()}: records assumed due "
                f"{settings.records_expedited_hours} hours after the parties were notified that day"
            )
            due = converted
    return due, notes


def determination_due(
    app: Application, events: CaseEvents, records: date, settings: Settings
) -> tuple[date, list[str]]:
    """When the determination is due (Lab. Code 4610.6(d)), from receipt of the records."""
    notes = []
    start = events.records_received
    if start is None:
        start = records
        notes.append(f"records not yet received: assumed received on their due date {records.isoformat()}")
    candidates = []
    if events.expedited(app):
        candidates.append(_calendar_deadline(start, settings.expedited_determination_days, settings))
    if app.formulary_drug:
        candidates.append(
            add_working_days(start, settings.formulary_determination_working_days, settings.include_uncertain_holidays)
        )
    if not candidates:
        candidates.append(_calendar_deadline(start, settings.determination_days, settings))
    return min(candidates), notes


def compute(app: Application, settings: Settings, events: CaseEvents | None = None) -> Deadlines:
    """Every deadline of the case from what is known, with the assumptions made."""
    events = events or CaseEvents()
    filing, notes = filing_deadline(app, settings)
    records, more = records_due(app, events, settings)
    determination, most = determination_due(app, events, records, settings)
    return Deadlines(filing, records, determination, notes + more + most)
