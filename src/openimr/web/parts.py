"""Thin adapters from the workbench to the other parts of OpenIMR (their public APIs).

Every rule lives in its part: eligibility and deadlines in openimr.cases, matching in
openimr.panel, drafts in openimr.engine, letters in openimr.letters. The workbench only
translates between their models and its pages.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from openimr.models import Letter, LetterContext

log = logging.getLogger("openimr.web")


# ---------------------------------------------------------------- reader
def read_letter(source: str | Path | bytes, name: str = "upload") -> Letter:
    """Read a letter with the letter reader; ValueError with a one-line reason otherwise."""
    from openimr import read_letter as _read

    try:
        return _read(source)
    except ImportError as error:
        raise ValueError(f"{name}: the letter reader is not available ({error})") from None
    except Exception as error:  # the reader's LetterError and any parsing failure
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{name}: not a readable IMR letter: {message}") from None


# ---------------------------------------------------------------- eligibility


def _application(application: dict):
    """The case part's Application; ValueError listing each problem (field: reason)."""
    from openimr.cases import intake

    try:
        return intake.parse_application(application, "application")
    except ValueError as error:
        problems = getattr(error, "problems", None) or [str(error)]
        raise ValueError("; ".join(problems)) from None


def check_application(application: dict) -> None:
    """ValueError whose `problems` list every problem (field.path: reason) of an application."""
    from openimr.cases import intake

    intake.parse_application(application, "application")


def check_eligibility(application: dict) -> dict:
    """{"eligible", "reasons": [{code, message}], "deadlines": {...}, "backend"} for an
    application, without storing it (the case part's rules)."""
    from openimr.cases import eligibility, settings

    result = eligibility.check(_application(application), settings.load_settings()).as_json()
    result["backend"] = "openimr.cases"
    return result


def register_case(session, application: dict, actor: str, role: str) -> dict:
    """Record the application in the case part's store (its number, status, reasons and
    deadlines, prior IMRs checked), in the caller's transaction; ValueError on bad input."""
    from openimr.cases import settings, store

    snap = store.create_case(session, _application(application), settings.load_settings(), actor, role=role)
    return {
        "case_number": snap["case_number"],
        "status": snap["status"],
        "eligible": snap["status"] == "eligible",
        "reasons": snap["reasons"],
        "deadlines": {k: (str(snap[k]) if snap[k] else None)
                      for k in ("filing_deadline", "records_due", "determination_due")},
        "backend": "openimr.cases",
    }


def _as_date(value) -> date | None:
    """A date from a date or an ISO string; None when there is none or it is not a date."""
    if isinstance(value, date) or value is None:
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def update_case(session, case_number: str, action: str, changes: dict, actor: str, role: str) -> None:
    """Make a lifecycle action on the case part's record (reviewer, assignment) with its
    audit entry, in the caller's transaction; CaseError (a ValueError) if refused."""
    from openimr.cases import store

    store.update(session, case_number, action, changes, actor, role=role)


def case_events(session, case) -> list[dict]:
    """The dated events the case part holds for a case (notice sent, records received...)."""
    from openimr.cases import store

    return store.event_list(session, case)


# ---------------------------------------------------------------- panel
def panel_pool(session) -> tuple[list, dict[str, int]]:
    """The panel's active reviewers and their open cases, read once for matching many cases."""
    from openimr.panel import reviewers

    return reviewers.stored(session), reviewers.assigned_load(session)


def panel_match(session, case_number: str, pool: tuple[list, dict[str, int]] | None = None) -> dict | None:
    """The panel part's match of a stored case, in the request's session: {"eligible": [...],
    "excluded": [...]} keyed by panel reviewer id, or None (an empty panel); `pool` is
    `panel_pool`'s answer when the caller matches several cases."""
    from openimr.panel import assign

    records, load = pool if pool is not None else panel_pool(session)
    return assign.match_case(session, case_number, pool=records, load=load) if records else None


def registry_entry(reviewer, load: int = 0) -> dict:
    """What the workbench shows of a panel record (the name: never to intake users):
    licences and specialties as the letter states them, and whether they may sign."""
    from openimr.panel import matching, reviewers

    block = matching.credentials(reviewer)
    why_not = reviewers.why_cannot_sign(reviewer)
    return {"id": reviewer.id, "name": reviewer.name, "profession": reviewer.profession,
            "licensure": block.licensure, "specialties": block.specialties, "active": reviewer.active,
            "years": reviewer.years_active_practice, "hours": reviewer.hours_per_week,
            "may_sign": why_not is None, "why_not": why_not, "open_cases": reviewer.open_cases + load}


def registry(session, panel_reviewer_id: str | None) -> dict | None:
    """The panel's record of one reviewer (`registry_entry`), or None when not on the panel."""
    from openimr.panel import reviewers

    reviewer = reviewers.record(session, panel_reviewer_id)
    return registry_entry(reviewer) if reviewer is not None else None


def assign(session, case_number: str, reviewer_id: str, why: list[str], actor: str, role: str) -> dict:
    """Assign the case to a reviewer of the panel through the panel's face (only one who
    may sign it; the credentials block from their record), in the request's transaction."""
    from openimr.panel.assign import assign_to

    return assign_to(session, case_number, reviewer_id, why, actor, role)


# ---------------------------------------------------------------- engine
def engine_drafts(case_file: dict) -> list[dict] | None:
    """The engine's draft per disputed item (dicts as in issue 5), or None if drafting failed."""
    from openimr.engine import decide, models

    try:
        result = decide.decide_case(models.Case.model_validate(case_file))
    except Exception as error:  # a draft is decision support: the page still works without it
        log.warning("engine draft failed: %s", type(error).__name__)
        return None
    return list(result.model_dump(mode="json")["items"])


def warm_up() -> float:
    """Load what the first case page needs (the engine's knowledge base, clinical NLP pipeline
    and calibration; the library's semantic model) by drafting a built-in two-line case and
    encoding one request, so that the first case page after start is as fast as the rest.
    Returns the seconds it took."""
    import time

    from openimr.engine import decide, models
    from openimr.library import embed

    started = time.perf_counter()
    case = models.Case(
        disputed_items=[models.DisputedRequest(request="Physical therapy, 6 sessions, lumbar spine")],
        documents=[models.CaseDocument(kind="medical_record", text="Examination: lumbar tenderness.")])
    decide.decide_case(case)
    embed.encode(["physical therapy lumbar spine"])
    return time.perf_counter() - started


# ---------------------------------------------------------------- writer
def render_pdf(context: LetterContext, draft: bool = False) -> tuple[Letter, bytes]:
    """The mailable letter as PDF (letterhead, parties, documents reviewed, appeal rights), and
    the Letter as printed, in the letter writer's layout."""
    from openimr.letters.write import render_determination

    mailed = render_determination(context, "pdf", draft=draft)
    if not isinstance(mailed.content, bytes):  # pragma: no cover - a PDF is bytes
        raise TypeError("the PDF rendering did not give bytes")
    return mailed.letter, mailed.content
