"""Fixtures of the case workflow tests: a valid application, a CLI runner."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "cases" / "data"
BASE = json.loads((DATA / "application.json").read_text())


@pytest.fixture
def app_data() -> dict:
    """A fresh copy of a valid APPLICATION.json (edit freely)."""
    return copy.deepcopy(BASE)


@pytest.fixture
def write_json(tmp_path):
    """Write data as a JSON file in tmp_path; returns its path."""
    counter = iter(range(10_000))

    def write(data, name: str | None = None) -> Path:
        path = tmp_path / (name or f"file{next(counter)}.json")
        path.write_text(json.dumps(data))
        return path

    return write


@pytest.fixture
def cli():
    """Run `openimr …` in-process; returns the click Result (stdout, stderr, exit_code)."""
    from typer.testing import CliRunner

    from openimr.cli import app

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run

PANEL = json.loads((Path(__file__).parent / "data" / "reviewers.json").read_text())


@pytest.fixture
def panel_data() -> list[dict]:
    """A fresh copy of the sample panel (five reviewers, each excluded or eligible for a reason)."""
    return copy.deepcopy(PANEL)
