"""Processes end cleanly, on SQLite and PostgreSQL: a kill -9 of `openimr ingest` leaves no
worker behind (none holds the database open), and the next run finishes the job as if
nothing had happened."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from openimr.db import session_scope


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has ended: it only waits to be reaped


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, ...)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _letters(url: str) -> int:
    with session_scope(url) as session:
        try:
            return session.execute(text("SELECT count(*) FROM library_letters")).scalar()
        except Exception:  # noqa: BLE001 - the table is not there yet
            return 0


def _ingest(url: str, folder: Path, **popen) -> subprocess.Popen:
    openimr = str(Path(sys.executable).with_name("openimr"))
    # small chunks and batches: letters are stored while the others are still being parsed
    env = {**os.environ, "OPENIMR_INGEST_BATCH": "8", "OPENIMR_INGEST_CHUNK": "8"}
    return subprocess.Popen([openimr, "ingest", str(folder), "--db", url, "--workers", "2", "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def _cmdline(pid: int) -> bytes:
    """A process's command line, empty when it has ended meanwhile (it was listed a moment ago)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def test_kill_9_of_ingest_leaves_no_orphan_and_the_next_run_finishes(tmp_path, letter_pdfs, db_url):
    folder = tmp_path / "letters"
    folder.mkdir()
    for pdf in letter_pdfs:
        shutil.copy(pdf, folder / pdf.name)
    run = _ingest(db_url, folder)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and run.poll() is None:
        workers = descendants(run.pid)
        extraction = [p for p in workers if b"bounded" in _cmdline(p)]
        if len(workers) >= 4 and extraction and _letters(db_url) >= 8:
            break
        time.sleep(0.05)
    assert run.poll() is None, "ingest ended before it could be killed"
    assert len(workers) >= 4, workers  # two parsing processes, each with its PDF worker
    stored_before = _letters(db_url)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.05)
    assert not [p for p in workers if _alive(p)], "workers outlived the killed ingest"
    # a second run finishes the job: what was stored stays, the rest is added
    second = _ingest(db_url, folder)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out)
    assert summary["failed"] == [] and summary["added"] + summary["unchanged"] == 129
    assert summary["unchanged"] >= stored_before >= 8
    assert _letters(db_url) == 129
