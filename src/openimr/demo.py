"""`openimr demo`: the workbench on the embedded database, ready to try.

Sets up the database, puts the real sample letters in the library, adds demo users and a
demo case (built from a real letter's clinical summary and disputed items, the outcome
hidden) assigned to the demo reviewer (linked to their record on the expert reviewer panel), prints the URL and the demo sign-ins,
then serves. Running it again reuses what is there.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer

SHARED = Path(os.environ.get("OPENIMR_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))
SHARED_LETTERS = SHARED / "data" / "letters"
DEMO_PASSWORD = "openimr-demo"
# the demo reviewers' records on the expert reviewer panel (the one registry: licences,
# certifications, practice); the workbench accounts below only link to them
DEMO_PANEL: tuple[dict[str, Any], ...] = (  # JSON records, as `openimr panel add` reads them
    {"id": "DEMO-PMR-01", "name": "Dr. Dana Demo", "profession": "MD",
     "licenses": [{"state": "CA", "type": "MD"}],
     "board_certifications": [{"board": "American Board of Physical Medicine and Rehabilitation",
                               "specialty": "Physical Medicine and Rehabilitation"}],
     "years_active_practice": 14, "hours_per_week": 32},
    {"id": "DEMO-ORTHO-02", "name": "Dr. Robin Second", "profession": "MD",
     "licenses": [{"state": "CA", "type": "MD"}],
     "board_certifications": [{"board": "American Board of Orthopaedic Surgery", "specialty": "Orthopaedic Surgery"}],
     "years_active_practice": 11, "hours_per_week": 30},
)
DEMO_USERS = (
    # username, role, display name, panel reviewer id
    ("admin", "admin", "Demo Administrator", None),
    ("intake", "intake", "Demo Intake Clerk", None),
    ("qa", "qa", "Demo QA Nurse", None),
    ("reviewer", "reviewer", "Dr. Dana Demo", "DEMO-PMR-01"),
    ("reviewer2", "reviewer", "Dr. Robin Second", "DEMO-ORTHO-02"),
)


def letter_paths(folder: Path) -> list[Path]:
    """The letters (PDF or text) under a folder, sorted."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".pdf", ".txt"))


def load_letters(url: str, paths: list[Path], workers: int = 2) -> dict:
    """Ingest letters into the precedent library (in parallel): {added, unchanged, failed}."""
    if not paths:
        return {"added": 0, "unchanged": 0, "failed": []}
    from openimr.library.ingest import ingest

    done = ingest([str(p) for p in paths], url, workers=workers)
    return {"added": done.added + done.replaced, "unchanged": done.unchanged,
            "failed": [f"{name}: {why}" for name, why in done.failed]}


def ensure_users(url: str, password: str = DEMO_PASSWORD) -> None:
    """The demo reviewers on the panel and the demo users, added once."""
    from sqlalchemy import select

    from openimr.db import session_scope
    from openimr.panel import reviewers
    from openimr.web import auth
    from openimr.web.tables import User

    with session_scope(url) as session:
        missing = [r for r in DEMO_PANEL if reviewers.record(session, r["id"]) is None]
        if missing:
            reviewers.add(session, reviewers.parse_reviewers(list(missing), "demo panel"), "demo")
    with session_scope(url) as session:
        for username, role, name, panel_id in DEMO_USERS:
            if session.scalar(select(User).where(User.username == username)) is None:
                auth.create_user(session, username, password, role, name, panel_id)


def demo_application(letter, today: date) -> tuple[dict, list[dict]]:
    """An application and its records built from a real letter, the outcome left out."""
    received = today - timedelta(days=12)
    application: dict[str, object] = {
        "review_type": "regular", "received": received.isoformat(), "signed": True,
        "ur_decision_attached": True,
        "date_of_injury": (letter.date_of_injury or received - timedelta(days=400)).isoformat(),
        "employee": {"name": "(demo employee)"}, "employer": {"name": "(demo employer)"},
        "claims_administrator": {"name": "(demo claims administrator)"},
        "requesting_physician": {"name": "(demo physician)", "specialty": ""},
        "attorney": None, "parties": [],
        "ur_decision": {"date": (received - timedelta(days=14)).isoformat(),
                        "served": (received - timedelta(days=12)).isoformat(), "service": "mail",
                        "missing_information": False,
                        "items": [{"request": item.request, "outcome": "denied",
                                   "guideline": item.claims_administrator_guideline.text} for item in letter.items]},
        "liability_dispute": False, "formulary_drug": False, "prior_imr_requests": [],
    }
    documents = [{"kind": "clinical_summary", "name": "Clinical summary", "date": received.isoformat(),
                  "text": letter.clinical_case_summary, "source_case_number": letter.case_number}]
    return application, documents


def ensure_demo_case(url: str) -> int | None:
    """A case from a real letter, assigned to the demo reviewer; its id (None without letters)."""
    from sqlalchemy import select

    from openimr.cases.tables import CaseRow
    from openimr.db import session_scope
    from openimr.panel.assign import assign_to
    from openimr.web import workflow
    from openimr.web.auth import principal_of
    from openimr.web.tables import User

    with session_scope(url) as session:
        existing = session.scalar(select(CaseRow).order_by(CaseRow.id).limit(1))
        if existing is not None:
            return existing.id
        letter = _demo_letter(session)
        if letter is None:
            return None
        application, documents = demo_application(letter, date.today())
        # ensure_users made both users
        intake = principal_of(session, session.execute(select(User).where(User.username == "intake")).scalar_one(), "")
        reviewer = session.execute(select(User).where(User.username == "reviewer")).scalar_one()
        if reviewer.panel_reviewer_id is None:
            raise ValueError("user 'reviewer' is not linked to the expert reviewer panel; the demo case needs them")
        case = workflow.create_case(session, intake, application, documents)
        assign_to(session, case.case_number, reviewer.panel_reviewer_id, ["the demo's reviewer"], "web:admin", "admin")
        return case.id


def _demo_letter(session):
    """A letter with a clinical summary and two or three items, preferring a mix of outcomes."""
    from openimr.library import store as library

    candidates = [r for r in library.list_letters(session, 1, 500).items if 2 <= r.items <= 3]
    candidates.sort(key=lambda r: (r.overturned == 0, str(r.case_number)))
    for row in candidates:
        letter = library.get_letter(session, row.id)
        if letter is not None and len(letter.clinical_case_summary) > 200:
            return letter
    return None


def demo(
    db: str = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite file, or $OPENIMR_DB)."),
    letters: Path = typer.Option(SHARED_LETTERS, help="Folder of real letters to put in the library."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    serve: bool = typer.Option(True, help="Serve after setting up (--no-serve only sets up)."),
) -> None:
    """Set up the workbench with the real letters and a demo case, then serve it.

    Example: openimr demo --port 8000
    """
    from openimr import db as dbmod

    url = dbmod.normalise_url(db or dbmod.default_url())
    listener = _reserve_port(host, port) if serve else None
    in_use = lambda: typer.echo(f"database {url} is in use: another `openimr demo` is setting it up; "  # noqa: E731
                                "waiting for it to finish, then reusing what it made", err=True)
    with dbmod.exclusive(url, "demo", in_use):  # a second demo on this database waits, then reuses it
        dbmod.migrate(url)
        ensure_users(url)
        paths = letter_paths(letters) if letters.is_dir() else []
        if not paths:
            typer.echo(f"no letters found in {letters}; the library starts empty", err=True)
        summary = load_letters(url, paths)
        typer.echo(f"library: {summary['added']} letters added, {summary['unchanged']} already there, "
                   f"{len(summary['failed'])} unreadable")
        case_id = ensure_demo_case(url)
    typer.echo(f"database: {url}")
    typer.echo(f"\nOpenIMR workbench: http://{host}:{port}/")
    if case_id:
        typer.echo(f"demo case to review: http://{host}:{port}/cases/{case_id}")
    typer.echo(f"sign in as 'reviewer' (on the panel: may sign), 'intake', 'qa' or 'admin', password '{DEMO_PASSWORD}'\n")
    if listener is not None:  # serving
        import uvicorn

        from openimr.web.app import create_app

        config = uvicorn.Config(create_app(url), log_level="warning", timeout_keep_alive=75)
        uvicorn.Server(config).run(sockets=[listener])


def _reserve_port(host: str, port: int):
    """The listening address, bound now: a second demo learns at once that it is taken."""
    import socket

    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(2048)
    except OSError as error:
        listener.close()
        typer.echo(f"error: {host}:{port} is in use ({error.strerror}): another workbench is running there; "
                   "choose another --port", err=True)
        raise typer.Exit(1) from None
    return listener


def register(app: typer.Typer) -> None:
    """Add the demo command."""
    app.command("demo")(demo)
