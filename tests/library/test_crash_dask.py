"""kill -9 in the middle of an ingest, then again: exactly the letters given, none partial.
And parsing on a Dask distributed cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import text

from openimr.db import engine_for

from .conftest import make_letter, write_jsonl

LETTERS = 3000


def _letters(n: int):
    return [make_letter(f"CM18-{i:07d}", [("Norco 10/325mg #90", "Upheld"), (f"Physical therapy {i % 12 + 1} sessions", "Overturned"), ("MRI of the knee", "Upheld")]) for i in range(n)]


def _stored(url: str) -> int:
    try:
        with engine_for(url).connect() as c:
            return c.execute(text("SELECT count(*) FROM library_letters")).scalar() or 0
    except Exception:
        return 0


def test_kill_9_midway_then_rerun_gives_exactly_the_letters(db_url, tmp_path):
    source = write_jsonl(tmp_path / "many.jsonl", _letters(LETTERS))
    env = {**os.environ, "OPENIMR_INGEST_BATCH": "100"}
    command = [sys.executable, "-m", "openimr.cli", "ingest", str(source), "--db", db_url, "--workers", "2"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 90
    while _stored(db_url) == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = _stored(db_url)
    assert 0 < partial < LETTERS, f"the kill should land mid-run (stored {partial})"
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    with engine_for(db_url).connect() as c:
        letters = c.execute(text("SELECT count(*), count(DISTINCT case_number) FROM library_letters")).one()
        mismatched = c.execute(text(
            "SELECT count(*) FROM library_letters l WHERE l.item_count <> (SELECT count(*) FROM library_items i WHERE i.letter_id = l.id)"
        )).scalar()
        items = c.execute(text("SELECT count(*) FROM library_items")).scalar()
    assert tuple(letters) == (LETTERS, LETTERS)
    assert mismatched == 0 and items == 3 * LETTERS


def test_ingest_on_a_dask_cluster(tmp_path, letter_pdfs):
    from distributed import LocalCluster

    url = f"sqlite:///{tmp_path / 'dask.sqlite'}"
    sources = [str(p) for p in letter_pdfs[:12]] + [str(write_jsonl(tmp_path / "x.jsonl", _letters(20)))]
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        run = subprocess.run(
            [sys.executable, "-m", "openimr.cli", "ingest", *sources, "--db", url, "--cluster", cluster.scheduler_address, "--json"],
            capture_output=True, text=True, timeout=180,
        )
        assert run.returncode == 0, run.stderr
        assert cluster.scheduler.task_prefixes["prepare_chunk"].all_durations["compute"] > 0  # the parsing ran there
    assert '"added": 32' in run.stdout
    assert _stored(url) == 32
