"""Fixtures of the panel tests (app_data, write_json and cli are in tests/conftest.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

PANEL = json.loads((Path(__file__).parent / "data" / "reviewers.json").read_text())


@pytest.fixture
def panel_data() -> list[dict]:
    """A fresh copy of the sample panel (five reviewers, each excluded or eligible for a reason)."""
    return copy.deepcopy(PANEL)
