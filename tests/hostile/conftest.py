"""Fixtures of the hostile-input tests: a live workbench (uvicorn, two worker processes) on
SQLite and on PostgreSQL, with users and a case to upload records to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

PASSWORD = "correct horse battery"
HERE = Path(__file__).parent


@dataclass
class Live:
    url: str  # database
    base: str  # http://127.0.0.1:port
    process: subprocess.Popen
    case_id: int
    log: Path

    def client(self, username: str | None = None) -> httpx.Client:
        client = httpx.Client(base_url=self.base, timeout=60)
        if username:
            response = client.post("/api/login", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def worker_pids(self) -> list[int]:
        """The server's worker processes (uvicorn's spawned children that serve requests)."""
        return [pid for pid in children(self.process.pid)
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def documents(self) -> int:
        """How many case records the database holds."""
        from sqlalchemy import text

        from openimr import db as dbmod

        with dbmod.session_scope(self.url) as session:
            return session.execute(text("SELECT count(*) FROM imr_documents")).scalar()


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (every thread's children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except FileNotFoundError:  # the thread ended meanwhile
            pass
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kb(pid: int, field: str = "VmHWM") -> int:
    """A process's peak (VmHWM) or current (VmRSS) resident memory, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def prepare(url: str, letter_pdf: Path) -> int:
    """Migrate, add the users, and one case (from a real letter) to attach records to."""
    from sqlalchemy import select

    import openimr
    from openimr import db as dbmod
    from openimr.demo import demo_application
    from openimr.web import auth, workflow
    from openimr.web.tables import User

    dbmod.migrate(url)
    with dbmod.session_scope(url) as session:
        for username, role in (("admin", "admin"), ("intake", "intake"), ("target", "qa")):
            auth.create_user(session, username, PASSWORD, role, f"{username.title()} Person")
    letter = openimr.read_letter(letter_pdf)
    with dbmod.session_scope(url) as session:
        intake = auth.principal_of(session, session.scalar(select(User).where(User.username == "intake")), "")
        application, documents = demo_application(letter, date.today())
        return workflow.create_case(session, intake, application, documents).id


def start_server(url: str, log: Path, workers: int = 2) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    # a lower character limit than the default keeps each refusal quick (the defaults are
    # tested in test_bounded.py)
    env = {**os.environ, "OPENIMR_DB": url, "PYTHONWARNINGS": "ignore", "OPENIMR_PDF_MAX_CHARS": "1000000"}
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "openimr.web.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    ready = 0
    while time.monotonic() < deadline and ready < 3:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-2000:]}")
        try:
            ready += httpx.get(base + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            time.sleep(0.2)
    assert ready, "the server did not answer within 60 s"
    return process, base


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory, letter_pdfs):
    """A live workbench with two worker processes, on SQLite and PostgreSQL."""
    folder = tmp_path_factory.mktemp("live")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'openimr.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database("h_" + uuid.uuid4().hex[:12])
    case_id = prepare(url, letter_pdfs[0])
    process, base = start_server(url, folder / "server.log")
    yield Live(url, base, process, case_id, folder / "server.log")
    os.killpg(process.pid, 15)
    process.wait(timeout=30)


# How far a server worker's peak memory may grow, from its warmed-up state, while it refuses a
# bomb (the bomb's text or pixels never reach it: what grows is the parsing of the request)
GROWTH_KB = 64 * 1024
