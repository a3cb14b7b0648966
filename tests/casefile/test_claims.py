"""Case-file jobs across workbench processes (casefile/jobs.py `claim`): two processes racing
for the same jobs on one database each win a different share and never the same job, on
SQLite and PostgreSQL; a job claimed by another process is not run here; a stale claim (its
process died) is taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from openimr import db
from openimr.casefile.jobs import Jobs

RACE = textwrap.dedent("""
    import json, sys, time
    from openimr.casefile.jobs import Jobs
    jobs = Jobs(sys.argv[1], sys.argv[2])
    start = float(sys.argv[3])
    while time.time() < start:
        time.sleep(0.005)
    won = [f"job{i:04d}" for i in range(int(sys.argv[4])) if jobs.claim(f"job{i:04d}")]
    print(json.dumps(won))
""")


def test_two_processes_never_claim_the_same_job(db_url, tmp_path):
    import time

    db.migrate(db_url)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start = str(time.time() + 4)  # both begin together, once their imports are done
    runs = [subprocess.Popen([sys.executable, "-c", RACE, str(tmp_path / "jobs"), db_url, start, "60"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True) for _ in range(2)]
    outs = [r.communicate(timeout=120) for r in runs]
    assert all(r.returncode == 0 for r in runs), [e[-2000:] for _o, e in outs]
    first, second = (set(json.loads(o)) for o, _e in outs)
    assert not first & second  # never the same job twice
    assert first | second == {f"job{i:04d}" for i in range(60)}  # and every job run by one of them


def test_a_job_claimed_elsewhere_is_not_run_and_a_stale_claim_is_taken_over(sqlite_url, tmp_path, monkeypatch):
    from sqlalchemy import update

    from openimr.cases.tables import CaseFileClaimRow

    db.migrate(sqlite_url)
    here, there = Jobs(tmp_path / "jobs", sqlite_url), Jobs(tmp_path / "jobs", sqlite_url)
    manifest = {"id": "j1", "case_number": "CM26-0000001", "name": "r.pdf", "state": "queued", "page": 0}
    here._write(manifest)
    assert there.claim("j1") and there.claim("j1")  # its own claim again: still its
    ran = []
    monkeypatch.setattr(Jobs, "_index", lambda self, job: ran.append(self.owner))
    here._run("j1")
    assert ran == [] and not here.claim("j1")  # run by the other process, not here
    with db.session_scope(sqlite_url) as session:  # the other process died an hour ago
        session.execute(update(CaseFileClaimRow).values(renewed_at=0.0))
    here._run("j1")
    assert ran == [here.owner]
    assert there.claim("j1")  # released when done


def test_a_job_left_by_a_process_that_died_is_taken_over_without_a_restart(sqlite_url, tmp_path, monkeypatch):
    """The other process holds the job when this one starts (so it is not run here); it dies;
    this process's rescan takes the job over once the claim is stale, with no restart."""
    import threading
    import time

    from sqlalchemy import update

    from openimr.cases.tables import CaseFileClaimRow

    db.migrate(sqlite_url)
    here, there = Jobs(tmp_path / "jobs", sqlite_url), Jobs(tmp_path / "jobs", sqlite_url)
    here.rescan_seconds = 0.2
    here._write({"id": "j2", "case_number": "CM26-0000002", "name": "r.pdf", "state": "queued", "page": 0})
    assert there.claim("j2")  # alive and running it
    ran = threading.Event()
    monkeypatch.setattr(Jobs, "_index", lambda self, job: ran.set())
    try:
        assert here.start() == 1
        time.sleep(1.0)  # several rescans while the other process is alive
        assert not ran.is_set()
        with db.session_scope(sqlite_url) as session:  # it died: its claim is not renewed
            session.execute(update(CaseFileClaimRow).values(renewed_at=time.time() - 3600))
        assert ran.wait(10), "the stale job was not taken over by the rescan"
    finally:
        here.stop()
    assert here._watcher is None and not here._pending
