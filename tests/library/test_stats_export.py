"""Statistics with Wilson intervals, charts, exports, synthetic letters."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from openimr.db import session_scope
from openimr.library import export as library_export
from openimr.library import stats as library_stats
from openimr.library.ingest import ingest
from openimr.library.stats import chart, wilson

from .conftest import make_letter, write_jsonl


def stats(url: str, by: str):
    """The library's stats, in a session of its own."""
    with session_scope(url) as session:
        return library_stats.stats(session, by)


def export(url: str, out, fmt: str) -> int:
    with session_scope(url) as session:
        return library_export.export(session, out, fmt)


def test_wilson_interval_known_values():
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 0) == (0.0, 0.0)


def test_stats_by_every_grouping(db_url, tmp_path):
    letters = [
        make_letter("CM16-2000001", [("Norco 10/325mg #90", "Upheld"), ("Acupuncture 6 sessions", "Overturned")], specialty="Anesthesiology"),
        make_letter("CM16-2000002", [("Norco 5/325mg #60", "Overturned"), ("MRI of the knee", "Upheld")]),
    ]
    ingest([write_jsonl(tmp_path / "l.jsonl", letters)], db_url, workers=1, embed=False)
    by_decision = {r.group: r for r in stats(db_url, "decision")}
    assert by_decision["Upheld"].items == 2 and by_decision["Overturned"].overturned == 2
    by_category = {r.group: r for r in stats(db_url, "category")}
    assert (by_category["Opioid"].items, by_category["Opioid"].overturned, by_category["Opioid"].overturned_rate) == (2, 1, 0.5)
    assert by_category["Opioid"].ci_low == pytest.approx(wilson(1, 2)[0], abs=1e-4)
    assert {r.group for r in stats(db_url, "specialty")} == {"Anesthesiology", "Orthopedic Surgery"}
    assert [r.group for r in stats(db_url, "month")] == ["2017-01"]
    assert {r.group for r in stats(db_url, "guideline")} == {"MTUS Chronic Pain Medical Treatment Guidelines"}
    assert sum(r.items for r in stats(db_url, "region")) == 4
    with pytest.raises(ValueError):
        stats(db_url, "colour")


def test_charts_and_exports(real_library, tmp_path):
    rows = stats(real_library, "category")
    png = chart(rows, tmp_path / "c.png", "by category")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = chart(rows, tmp_path / "c.html", "by category").read_text()
    assert "<svg" in page and "<title>" in page and "overturned" in page
    total = sum(r.items for r in rows)
    for fmt in ("csv", "parquet", "jsonl"):
        out = tmp_path / f"items.{fmt}"
        assert export(real_library, out, fmt) == total
    assert len(pd.read_csv(tmp_path / "items.csv")) == total
    frame = pd.read_parquet(tmp_path / "items.parquet")
    assert len(frame) == total and {"request", "decision", "category", "guideline", "specialties"} <= set(frame.columns)
    first = json.loads((tmp_path / "items.jsonl").read_text().splitlines()[0])
    assert first["case_number"].startswith("CM1")


def test_cli_stats_json_rows(real_library, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "openimr.cli", "stats", "--by", "decision", "--db", real_library, "--json", "--chart", str(tmp_path / "d.png")],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert set(rows[0]) == {"group", "items", "upheld", "overturned", "overturned_rate", "ci_low", "ci_high"}
    upheld = next(r for r in rows if r["group"] == "Upheld")
    assert upheld["upheld"] == upheld["items"] and upheld["overturned"] == 0
    assert (tmp_path / "d.png").exists()
    csv = subprocess.run([sys.executable, "-m", "openimr.cli", "export", "--format", "csv", "--db", real_library], capture_output=True, text=True, timeout=120)
    assert csv.returncode == 0 and csv.stdout.count("\n") > sum(r["items"] for r in rows)  # header + items (rationales span lines)
    parquet = subprocess.run([sys.executable, "-m", "openimr.cli", "export", "--format", "parquet", "--db", real_library], capture_output=True, text=True, timeout=120)
    assert parquet.returncode == 1 and "--out" in parquet.stderr


def test_synth_letters_read_back_and_ingest(tmp_path, letter_pdfs):
    out = tmp_path / "synth"
    run = subprocess.run(
        [sys.executable, "-m", "openimr.cli", "synth", "--letters", "40", "--out", str(out), "--source", str(letter_pdfs[0].parent), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["letters"] == 40
    files = sorted(out.glob("*.txt"))
    assert len(files) == 40
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    summary = ingest([out], url, workers=2)
    assert summary.added == 40 and not summary.failed
    rates = {r.group: r.items for r in stats(url, "decision")}
    assert rates.get("Upheld", 0) > rates.get("Overturned", 0)
