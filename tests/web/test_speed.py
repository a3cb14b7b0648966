"""Pages that read the same thing many times: the late report and the panel's waiting cases
read what they need once, not once per case (no N+1 queries); the case page reads the case's
documents and audit trail once, and of its decisions only those in force."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from itertools import count as numbers

import pytest
from sqlalchemy import event, select

from tests.web.conftest import build_world


@pytest.fixture(scope="module")
def fresh_world(tmp_path_factory, letter_pdfs):
    """A workbench of its own (SQLite): the tests add cases and count what each page reads."""
    return build_world(f"sqlite:///{tmp_path_factory.mktemp('speed') / 'openimr.sqlite'}", letter_pdfs[:4])


class Seen(list):
    """[how many statements] and the statements themselves."""

    def __init__(self):
        super().__init__([0])
        self.statements: list[str] = []

    def reading(self, table: str) -> int:
        return sum(1 for s in self.statements if f"FROM {table}" in " ".join(s.split()))


@contextmanager
def counted(url: str):
    """The number of SQL statements run on the web app's and the parts' engines meanwhile."""
    from openimr import db as dbmod
    from openimr.web.app import web_engine

    seen = Seen()

    def count(_connection, _cursor, statement, *_args):
        seen[0] += 1
        seen.statements.append(statement)

    engines = {web_engine(url), dbmod.engine_for(url)}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


WORKERS = numbers()  # a new injured worker for every case: none is a duplicate of another


def add_waiting_cases(world, n: int) -> None:
    """`n` new eligible cases, none assigned, each with a dated event (notice sent)."""
    from openimr import db as dbmod
    from openimr.cases import settings, store
    from openimr.demo import demo_application
    from openimr.library import store as library
    from openimr.web import auth, workflow
    from openimr.web.tables import User

    with dbmod.session_scope(world.url) as session:
        letters = [library.get_letter(session, r.id) for r in library.list_letters(session, 1, 50).items if r.items]
    for i in range(n):
        with dbmod.session_scope(world.url) as session:
            intake = auth.principal_of(session, session.scalar(select(User).where(User.username == "intake")), "")
            application, documents = demo_application(letters[i % len(letters)], date.today())
            application["employee"] = {"name": f"Waiting Worker {next(WORKERS)}"}
            case = workflow.create_case(session, intake, application, documents)
            store.record_event(session, case.case_number, "notice_sent", date.today(), settings.load_settings(),
                               "mail", "web:intake", role="intake")


def queries_of(world, user: str, path: str) -> int:
    client = world.client(user)
    assert client.get(path).status_code == 200
    with counted(world.url) as seen:
        assert client.get(path).status_code == 200
    return seen[0]


def test_the_late_report_reads_every_case_s_events_at_once(fresh_world):
    before = queries_of(fresh_world, "admin", "/late")
    add_waiting_cases(fresh_world, 4)
    assert queries_of(fresh_world, "admin", "/late") == before  # not one query more per open case


def test_the_panel_page_reads_the_panel_once_for_all_waiting_cases(fresh_world):
    before = queries_of(fresh_world, "admin", "/panel")
    add_waiting_cases(fresh_world, 4)
    after = queries_of(fresh_world, "admin", "/panel")
    # each waiting case costs its own row and its consolidated cases (the match's input), never
    # another read of the panel's records or loads
    assert after - before <= 2 * 4, (before, after)


def test_the_case_page_reads_documents_and_audit_once_and_only_the_decisions_in_force(fresh_world):
    case_id = fresh_world.cases["rev_a"]
    reviewer = fresh_world.client("rev_a")
    for n in range(3):  # three versions of item 1's decision; one is in force
        answer = reviewer.put(f"/api/cases/{case_id}/items/0/decision",
                              json={"decision": ("Upheld", "Overturned")[n % 2], "guideline": "MTUS",
                                    "rationale": f"version {n}"})
        assert answer.status_code == 200
    for user in ("rev_a", "admin"):
        client = fresh_world.client(user)
        assert client.get(f"/cases/{case_id}").status_code == 200  # the engine drafts it once
        with counted(fresh_world.url) as seen:
            page = client.get(f"/cases/{case_id}")
        assert page.status_code == 200 and "version 2" in page.text
        assert seen.reading("imr_documents") == 1, user
        assert seen.reading("imr_audit_log") == 2, user  # the case's trail once, and its notes
        decisions = [s for s in seen.statements if "FROM imr_decisions" in " ".join(s.split())]
        assert decisions and all("max(" in s.lower() for s in decisions), decisions
