"""Bounded PDF work: decompression bombs and page bombs are refused in seconds, with one line
naming the file and the limit, nothing stored, and the memory of the caller bounded."""

from __future__ import annotations

import json
import resource
import time

import pytest

from openimr.letters.read import LetterError, read_letter
from openimr.letters.read.bounded import Limits, pdf_text

from .bombs import page_bomb, small_text_pdf, text_bomb


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_text_bomb_is_refused_in_seconds_without_growing_the_caller():
    bomb = text_bomb()  # 60 million characters to show, in a few KB
    assert len(bomb) < 100_000
    before, started = _peak_mb(), time.monotonic()
    with pytest.raises(LetterError) as refused:
        read_letter(bomb)
    assert time.monotonic() - started < 20
    assert str(refused.value) == "<bytes>: refused: over the limit of 5,000,000 characters of text"
    assert _peak_mb() - before < 100  # the text never reached this process


def test_page_bomb_is_refused_at_once():
    started = time.monotonic()
    with pytest.raises(LetterError, match=r"^bomb\.pdf: refused: 160000 pages, over the limit of 2,000 pages$"):
        pdf_text(page_bomb(), "bomb.pdf")
    assert time.monotonic() - started < 10


def test_memory_cpu_and_wall_limits_each_stop_the_worker():
    bomb = text_bomb()
    one_page = text_bomb(30_000_000, per_page=30_000_000)  # the PDF library itself swells
    no_text_limit = dict(max_chars=10**9)
    cases = [
        (Limits(memory_mb=300, **no_text_limit), "over the memory limit of 300 MB"),
        (Limits(cpu_seconds=1, **no_text_limit), "over the CPU time limit of 1 s"),
        (Limits(wall_seconds=1, cpu_seconds=60, **no_text_limit), "over the time limit of 1 s"),
    ]
    for limits, reason in cases:
        started = time.monotonic()
        with pytest.raises(LetterError, match=f"^b.pdf: refused: {reason}$"):
            pdf_text(one_page if limits.memory_mb == 300 else bomb, "b.pdf", limits)
        assert time.monotonic() - started < 15, reason
    # and the pool goes on: a well-behaved PDF right after
    assert pdf_text(small_text_pdf("Lumbar MRI (L4-L5)"), "ok.pdf").strip() == "Lumbar MRI (L4-L5)"


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENIMR_PDF_MAX_PAGES", "1")
    with pytest.raises(LetterError, match="2 pages, over the limit of 1 pages"):
        pdf_text(text_bomb(1_400_000), "two.pdf")
    monkeypatch.setenv("OPENIMR_PDF_MAX_PAGES", "many")
    with pytest.raises(LetterError, match="OPENIMR_PDF_MAX_PAGES: must be a whole number"):
        pdf_text(small_text_pdf("x"), "x.pdf")


@pytest.fixture
def million(monkeypatch):
    """A lower character limit (the defaults are tested above), so each refusal is quick."""
    monkeypatch.setenv("OPENIMR_PDF_MAX_CHARS", "1000000")
    return "refused: over the limit of 1,000,000 characters of text"


def test_cli_parse_refuses_the_bomb_in_one_line(cli, tmp_path, letter_pdfs, million):
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(text_bomb())
    result = cli("parse", bomb, letter_pdfs[0])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {bomb}: {million}"
    assert json.loads(result.stdout)["case_number"] == letter_pdfs[0].stem  # the good letter still read


def test_ingest_refuses_bombs_and_stores_nothing_of_them(cli, tmp_path, letter_pdfs, db_url, million):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bomb.pdf").write_bytes(text_bomb())
    (folder / "pages.pdf").write_bytes(page_bomb())
    (folder / letter_pdfs[1].name).write_bytes(letter_pdfs[1].read_bytes())
    started = time.monotonic()
    result = cli("ingest", folder, "--db", db_url, "--workers", "2", "--json")
    assert time.monotonic() - started < 60
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["added"] == 1
    reasons = {row["source"].rsplit("/", 1)[-1]: row["reason"] for row in summary["failed"]}
    assert reasons == {"bomb.pdf": million,
                       "pages.pdf": "refused: 160000 pages, over the limit of 2,000 pages"}
    from sqlalchemy import text

    from openimr.db import session_scope

    with session_scope(db_url) as session:
        assert session.execute(text("SELECT count(*) FROM library_letters")).scalar() == 1
