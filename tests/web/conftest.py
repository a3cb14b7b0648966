"""Fixtures of the workbench tests: a real app on a real database (SQLite and PostgreSQL)
with real letters in the library, users of every role and cases assigned to reviewers."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

# Two test workers share two cores: one BLAS/torch thread each avoids oversubscription
# (set before any test imports torch or numpy's BLAS).
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT_DIR = Path(__file__).resolve().parents[2]
LETTERS = Path(os.environ.get("OPENIMR_SHARED", ROOT_DIR.parent / "shared")) / "data" / "letters"
PASSWORD = "correct horse battery"
PANEL = [  # the expert reviewer panel (the one registry); rev_exp's only licence has expired
    {"id": "R-A", "name": "Dr. Alice Zamora", "profession": "MD", "licenses": [{"state": "CA", "type": "MD"}],
     "board_certifications": [{"board": "American Board of Physical Medicine and Rehabilitation",
                               "specialty": "Physical Medicine and Rehabilitation"}],
     "years_active_practice": 12, "hours_per_week": 30},
    {"id": "R-B", "name": "Dr. Bertrand Yoshida", "profession": "MD", "licenses": [{"state": "CA", "type": "MD"}],
     "board_certifications": [{"board": "American Board of Orthopaedic Surgery", "specialty": "Orthopaedic Surgery"}],
     "years_active_practice": 15, "hours_per_week": 30},
    {"id": "R-EXP", "name": "Dr. Ezra Lapsed", "profession": "MD",
     "licenses": [{"state": "CA", "type": "MD", "expires": "2020-01-31"}],
     "board_certifications": [{"board": "American Board of Orthopaedic Surgery", "specialty": "Orthopaedic Surgery"}],
     "years_active_practice": 25, "hours_per_week": 30},
]
USERS = (
    # username, role, display name, panel reviewer id (the reviewer's record on the panel)
    ("admin", "admin", "Ada Admin", None),
    ("intake", "intake", "Ivy Intake", None),
    ("qa", "qa", "Quinn Qa", None),
    ("rev_a", "reviewer", "Dr. Alice Zamora", "R-A"),
    ("rev_b", "reviewer", "Dr. Bertrand Yoshida", "R-B"),
    ("rev_nc", "reviewer", "Rita Nonclinician", None),  # not on the panel: never assigned, never signs
    ("rev_exp", "reviewer", "Dr. Ezra Lapsed", "R-EXP"),  # on the panel, licence expired: may not sign
    ("lockme", "qa", "Lock Me", None),  # the rate-limit test locks this one out
)
REVIEWER_NAMES = ("Dr. Alice Zamora", "Dr. Bertrand Yoshida", "Rita Nonclinician", "Zamora", "Yoshida", "Lapsed")


@dataclass
class World:
    """The app, its database URL, user ids and the cases of each reviewer."""

    url: str
    app: object
    users: dict[str, int]
    cases: dict[str, int] = field(default_factory=dict)
    # username -> panel reviewer id of the users linked to the panel
    panel: dict[str, str] = field(default_factory=lambda: {u[0]: u[3] for u in USERS if u[3]})
    signed_in: dict[str, TestClient] = field(default_factory=dict)

    def client(self, username: str | None = None, base_url: str = "http://testserver",
               fresh: bool = False) -> TestClient:
        """A client signed in as `username` (None: anonymous), CSRF header set; one
        signed-in client per user is reused unless `fresh`."""
        if username and not fresh and base_url == "http://testserver" and username in self.signed_in:
            client = self.signed_in[username]
            client.headers["X-CSRF-Token"] = client.csrf
            return client
        client = TestClient(self.app, base_url=base_url)
        if username:
            response = client.post("/api/login", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            client.csrf = response.json()["csrf_token"]
            client.headers["X-CSRF-Token"] = client.csrf
            if not fresh and base_url == "http://testserver":
                self.signed_in[username] = client
        return client


@contextmanager
def live_server(app):
    """The app served by uvicorn on a free loopback port, in a thread: its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(10)
        # The server's lifespan stopped the app's case-file jobs at its end, as a process that
        # exits does; the app is shared with in-process clients (no lifespan), so start them again.
        app.state.casefile_jobs.start()


def _new_url(kind: str, tmp_path_factory, request) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('web') / 'openimr.sqlite'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database("w_" + uuid.uuid4().hex[:12])


def build_world(url: str, letter_paths) -> World:
    """Migrate, add users, put letters in the library and make three assigned cases."""
    from sqlalchemy import select

    from openimr import db as dbmod
    from openimr.cases import store
    from openimr.demo import demo_application, load_letters
    from openimr.library import store as library
    from openimr.panel import reviewers
    from openimr.panel.assign import assign_to
    from openimr.web import auth, workflow
    from openimr.web.app import create_app
    from openimr.web.tables import User

    dbmod.migrate(url)
    store.run(url, reviewers.add, reviewers.parse_reviewers(PANEL, "panel"), "fixture")
    with dbmod.session_scope(url) as session:
        for username, role, name, panel_id in USERS:
            auth.create_user(session, username, PASSWORD, role, name, panel_id)
    load_letters(url, letter_paths, workers=1)
    world = World(url=url, app=create_app(url), users={})
    with dbmod.session_scope(url) as session:
        world.users = {u.username: u.id for u in session.scalars(select(User))}
        rows = library.list_letters(session, 1, 50).items
        rows.sort(key=lambda r: -r.items)
        letters = [library.get_letter(session, r.id) for r in rows[:3]]
    for owner, letter in zip(("rev_a", "rev_b", "rev_nc"), letters):
        with dbmod.session_scope(url) as session:  # one transaction per case, as a request would
            intake = auth.principal_of(session, session.get(User, world.users["intake"]), "")
            application, documents = demo_application(letter, date.today())
            case = workflow.create_case(session, intake, application, documents)
            if owner != "rev_nc":  # a reviewer not on the panel cannot be assigned (test_roles)
                assign_to(session, case.case_number, world.panel[owner], ["fixture"], "web:admin", "admin")
            world.cases[owner] = case.id
    return world


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory, letter_pdfs) -> World:
    """A workbench on SQLite and on PostgreSQL, set up once per test worker (tests add
    their own cases and never rely on the total count of cases)."""
    url = _new_url(request.param, tmp_path_factory, request)
    return build_world(url, letter_pdfs[:8])


@pytest.fixture(scope="session")
def sqlite_world(tmp_path_factory, letter_pdfs) -> World:
    """The same workbench on SQLite only (for slower, backend-independent checks)."""
    return build_world(f"sqlite:///{tmp_path_factory.mktemp('webs') / 'openimr.sqlite'}", letter_pdfs[:8])
