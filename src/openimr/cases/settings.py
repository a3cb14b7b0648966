"""Settings of the case workflow, loaded from data/settings.yaml and validated.

Each setting carries its value, a confidence tag (V verified, M probable, U uncertain, as in
imr-facts.md; O for the organization's own choice, no rule), its source and its meaning. An override file maps names to values.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ValidationError

from openimr.models import Model, first_error

DATA = Path(__file__).parent / "data"
SETTINGS_FILE = DATA / "settings.yaml"


class SettingsError(ValueError):
    """A settings file that cannot be used (one line: file, field, reason)."""


class SettingEntry(Model):
    """One documented setting of data/settings.yaml."""

    value: int | bool | str
    tag: Literal["V", "M", "U", "O"]
    source: str
    meaning: str


class Settings(Model):
    """The values in force."""

    filing_days: int
    formulary_filing_days: int
    mail_extension_days: int
    roll_to_working_day: bool
    records_mail_days: int
    records_electronic_days: int
    records_expedited_hours: int
    notice_business_days: int
    assumed_notice_method: Literal["mail", "electronic"]
    determination_days: int
    expedited_determination_days: int
    formulary_determination_working_days: int
    include_uncertain_holidays: bool
    qa_before_issue: bool


def _read_mapping(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise SettingsError(f"{path}: cannot be read ({error.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of setting names to values")
    return data


@lru_cache(maxsize=1)
def documented() -> dict[str, SettingEntry]:
    """Every setting with its tag, source and meaning (data/settings.yaml)."""
    raw = _read_mapping(SETTINGS_FILE)
    try:
        return {name: SettingEntry.model_validate(entry) for name, entry in raw.items()}
    except ValidationError as error:
        raise SettingsError(f"{SETTINGS_FILE}: {first_error(error, 'settings')}") from None


def load_settings(override: str | Path | None = None) -> Settings:
    """The defaults, with the values of `override` (or $OPENIMR_CASE_SETTINGS) applied."""
    values = {name: entry.value for name, entry in documented().items()}
    override = override or os.environ.get("OPENIMR_CASE_SETTINGS")
    if override:
        path = Path(override)
        extra = _read_mapping(path)
        unknown = sorted(set(extra) - set(values))
        if unknown:
            raise SettingsError(f"{path}: {unknown[0]}: unknown setting")
        values.update(extra)
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        raise SettingsError(f"{override or SETTINGS_FILE}: {first_error(error)}") from None
