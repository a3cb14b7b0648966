"""Shared fixtures: the real letters, throw-away databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OPENIMR_SHARED", ROOT.parent / "shared"))
LETTERS_DIR = SHARED / "data" / "letters"
LETTERS_TEXT_DIR = SHARED / "data" / "letters-text"
FIXTURES = Path(__file__).parent / "fixtures"


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
    from openimr import pgserver

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
