"""Shared fixtures: the real letters, throw-away databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
import os
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests.support (the throw-away PostgreSQL server) from the work tree
    sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("OPENIMR_SHARED", ROOT.parent / "shared"))
LETTERS_DIR = SHARED / "data" / "letters"
LETTERS_TEXT_DIR = SHARED / "data" / "letters-text"
FIXTURES = Path(__file__).parent / "fixtures"
# The audit log's key in tests: fixed, and named so that no deployment copies it
# (deployments set $OPENIMR_AUDIT_KEY or $OPENIMR_AUDIT_KEY_FILE; docs/workflow.md).
os.environ.setdefault("OPENIMR_AUDIT_KEY", "test-only-audit-key-not-a-secret")


@pytest.fixture(scope="session")
def letter_pdfs() -> list[Path]:
    """The 129 real published letters (PDF)."""
    pdfs = sorted(LETTERS_DIR.glob("*.pdf"))
    assert len(pdfs) == 129, f"expected the 129 shared letters in {LETTERS_DIR}, found {len(pdfs)}"
    return pdfs


@pytest.fixture(scope="session")
def letter_2013_text() -> Path:
    return LETTERS_TEXT_DIR / "000_719f28c06be338f8.txt"


@pytest.fixture(scope="session")
def postgres_server():
    """One throw-away PostgreSQL server per test worker, on loopback."""
    from tests.support import pgserver  # the test harness, not part of the installed package

    server = pgserver.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database: an SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'openimr.sqlite'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database("t_" + uuid.uuid4().hex[:12])


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'openimr.sqlite'}"


APPLICATION = json.loads((Path(__file__).parent / "cases" / "data" / "application.json").read_text())


@pytest.fixture
def app_data() -> dict:
    """A fresh copy of a valid APPLICATION.json (edit freely)."""
    return copy.deepcopy(APPLICATION)


PANEL_REVIEWER = {"id": "R-1", "name": "Dr. Ruth Reviewer", "profession": "MD",
                  "licenses": [{"state": "CA", "type": "MD"}],
                  "board_certifications": [{"board": "American Board of Physical Medicine and Rehabilitation",
                                            "specialty": "Physical Medicine and Rehabilitation"}],
                  "years_active_practice": 10, "hours_per_week": 30}


@pytest.fixture
def on_panel():
    """Put an expert reviewer on a database's panel (the one registry; active, licensed in
    California): `on_panel(url)` adds R-1, `on_panel(url, id=..., **fields)` another."""
    from openimr.cases import store
    from openimr.panel import reviewers

    def add(url: str, **fields) -> str:
        record = {**PANEL_REVIEWER, **fields}
        store.run(url, reviewers.add, reviewers.parse_reviewers([record], "panel"), "test")
        return record["id"]

    return add


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


def pytest_collection_modifyitems(config, items):
    """Markers from what a test uses: `postgres` for every test on the throw-away PostgreSQL
    server (the `postgresql` parameter of db_url/world, or the server itself), and `slow`
    for those, for the browser tests and for tests marked slow in their module, so that
    `pytest -m "not slow"` is a fast subset on SQLite alone."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgres = "postgresql" in params.values() or "postgres_server" in getattr(item, "fixturenames", ())
        if on_postgres:
            item.add_marker(pytest.mark.postgres)
        if on_postgres or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
