"""Store and ingest on SQLite and PostgreSQL: idempotent, replacing, bad input, real PDFs."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import text

from openimr.db import engine_for
from openimr.library.ingest import ingest

from .conftest import make_letter, write_jsonl


def counts(url: str) -> tuple[int, int, int]:
    with engine_for(url).connect() as c:
        return tuple(c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("library_letters", "library_items", "library_citations"))  # type: ignore[return-value]


def test_ingest_is_idempotent_and_replaces_changed_letters(db_url, tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [make_letter("CM16-0000001", [("Norco 10/325mg #90", "Upheld"), ("MRI of the lumbar spine", "Overturned")]), make_letter("CM16-0000002", [("Acupuncture 2x6", "Upheld")])])
    summary = ingest([first], db_url, workers=1, embed=False)
    assert (summary.added, summary.replaced, summary.unchanged, summary.failed) == (2, 0, 0, [])
    assert counts(db_url) == (2, 3, 3)
    again = ingest([first], db_url, workers=1, embed=False)
    assert (again.added, again.unchanged) == (0, 2)
    # the same letters from another file (other source hash): still unchanged by content
    copy = write_jsonl(tmp_path / "copy.jsonl", [make_letter("CM16-0000002", [("Acupuncture 2x6", "Upheld")])])
    assert ingest([copy], db_url, workers=1, embed=False).unchanged == 1
    changed = write_jsonl(tmp_path / "b.jsonl", [make_letter("CM16-0000001", [("Norco 10/325mg #60", "Upheld")])])
    summary = ingest([changed], db_url, workers=1, embed=False)
    assert (summary.added, summary.replaced) == (0, 1)
    assert counts(db_url) == (2, 2, 2)
    with engine_for(db_url).connect() as c:
        requests = sorted(r[0] for r in c.execute(text("SELECT request FROM library_items")))
    assert requests == ["Acupuncture 2x6", "Norco 10/325mg #60"]


def test_bad_input_is_reported_per_source_and_not_stored(db_url, tmp_path):
    good = make_letter("CM16-0000003", [("TENS unit", "Upheld")]).model_dump_json()
    bad = json.loads(good)
    bad["items"][0]["decision"] = "Maybe"
    path = tmp_path / "mixed.jsonl"
    path.write_text(good + "\n" + json.dumps(bad) + "\n{not json\n")
    (tmp_path / "notes.doc").write_text("x")
    summary = ingest([path, tmp_path / "notes.doc", tmp_path / "missing.pdf"], db_url, workers=1, embed=False)
    assert summary.added == 1
    reasons = dict(summary.failed)
    assert set(reasons) == {f"{path}:2", f"{path}:3", str(tmp_path / "notes.doc"), str(tmp_path / "missing.pdf")}
    assert "items.0.decision" in reasons[f"{path}:2"]
    assert all("\n" not in r for r in reasons.values())
    assert counts(db_url)[:2] == (1, 1)


def test_real_pdfs_in_parallel(db_url, letter_pdfs):
    summary = ingest(letter_pdfs[:30], db_url, workers=2)
    assert summary.added == 30 and not summary.failed
    letters, items, citations = counts(db_url)
    assert letters == 30 and items >= 30 and citations >= items
    with engine_for(db_url).connect() as c:
        assert c.execute(text("SELECT count(*) FROM library_items WHERE embedding IS NULL")).scalar() == 0
        stored = c.execute(text("SELECT sum(item_count) FROM library_letters")).scalar()
    assert stored == items
    assert ingest(letter_pdfs[:30], db_url, workers=2).unchanged == 30


def test_cli_ingest_reports_failures_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    (tmp_path / "broken.txt").write_text("this is not a letter")
    run = subprocess.run(
        [sys.executable, "-m", "openimr.cli", "ingest", str(tmp_path / "broken.txt"), "--db", url, "--workers", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert f"failed: {tmp_path / 'broken.txt'}:" in run.stderr
    assert "failed 1" in run.stdout


def test_letters_without_case_number_are_keyed_by_content(sqlite_url, tmp_path):
    letter = make_letter("CM16-0000009", [("TENS unit", "Upheld")]).model_copy(update={"case_number": None})
    path = write_jsonl(tmp_path / "n.jsonl", [letter])
    assert ingest([path], sqlite_url, workers=1, embed=False).added == 1
    assert ingest([write_jsonl(tmp_path / "n2.jsonl", [letter])], sqlite_url, workers=1, embed=False).unchanged == 1
    other = letter.model_copy(update={"clinical_case_summary": "Another worker."})
    assert ingest([write_jsonl(tmp_path / "n3.jsonl", [other])], sqlite_url, workers=1, embed=False).added == 1
    with engine_for(sqlite_url).connect() as c:
        keys = [r[0] for r in c.execute(text("SELECT letter_key FROM library_letters"))]
    assert len(keys) == 2 and all(k.startswith("sha256:") for k in keys)
