"""Thin adapters from the workbench to the other parts of OpenIMR.

Each function uses the part's public API when the part is installed and falls back to a
small stand-in of the workbench's own otherwise (named `fallback` in the result's
`backend`), so the web app works while the parts are being built.
"""

from __future__ import annotations

import importlib
import logging
from datetime import date, timedelta
from pathlib import Path

from openimr.models import Letter


log = logging.getLogger("openimr.web")


def _module(name: str):
    """The part's module, or None when it is missing or fails to import (work in progress)."""
    try:
        return importlib.import_module(name)
    except Exception as error:  # a part being written may not import yet
        if not isinstance(error, ModuleNotFoundError):
            log.warning("%s unavailable: %s", name, type(error).__name__)
        return None


# ---------------------------------------------------------------- reader
def read_letter(source: "str | Path | bytes", name: str = "upload") -> Letter:
    """Read a letter with the letter reader; ValueError with a one-line reason otherwise."""
    from openimr import read_letter as _read

    try:
        return _read(source)
    except ImportError as error:
        raise ValueError(f"{name}: the letter reader is not available ({error})") from None
    except Exception as error:  # the reader's LetterError and any parsing failure
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{name}: not a readable IMR letter: {message}") from None


def pdf_text(content: bytes, name: str = "upload") -> str:
    """The text of a PDF (pypdfium2); ValueError when it is not a readable PDF."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(content, password="")
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    except Exception as error:
        raise ValueError(f"{name}: not a readable PDF ({type(error).__name__})") from None


# ---------------------------------------------------------------- eligibility
LATE_AFTER_DAYS = 30  # Labor Code 4610.5(h)(1): filed within 30 days of service of the UR decision


def _cases():
    """The case part's intake, eligibility, settings and store modules, or None."""
    names = ("openimr.cases.intake", "openimr.cases.eligibility", "openimr.cases.settings", "openimr.cases.store")
    modules = [_module(n) for n in names]
    return None if any(m is None for m in modules) else modules


def _application(intake, application: dict):
    """The case part's Application; ValueError listing each problem (field: reason)."""
    try:
        return intake.parse_application(application, "application")
    except ValueError as error:
        problems = getattr(error, "problems", None) or [str(error)]
        raise ValueError("; ".join(problems)) from None


def check_eligibility(application: dict) -> dict:
    """{"eligible", "reasons": [{code, message}], "deadlines": {...}, "backend"} for an
    application, without storing it (the case part's rules when installed)."""
    cases = _cases()
    if cases is None:
        return _fallback_eligibility(application)
    intake, eligibility, settings, _store = cases
    result = eligibility.check(_application(intake, application), settings.load_settings()).as_json()
    result["backend"] = "openimr.cases"
    return result


def register_case(url: str, application: dict, actor: str) -> dict | None:
    """Record the application in the case part's store (its number, status, reasons and
    deadlines, prior IMRs checked); None when the case part is not installed."""
    cases = _cases()
    if cases is None:
        return None
    intake, _eligibility, settings, store = cases
    snap = store.create_case(url, _application(intake, application), settings.load_settings(), actor)
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
    if isinstance(value, date) or value is None:
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _fallback_eligibility(app: dict) -> dict:
    ur = app.get("ur_decision") or {}
    reasons = []
    if not app.get("signed"):
        reasons.append(("unsigned", "the application is not signed (8 CCR 9792.10.1(b)(1))"))
    served, received = _as_date(ur.get("served")), _as_date(app.get("received"))
    if served and received and (received - served).days > LATE_AFTER_DAYS:
        reasons.append(("late", f"filed {(received - served).days} days after service of the UR decision; "
                        f"the limit is {LATE_AFTER_DAYS} (Labor Code 4610.5(h)(1))"))
    if not app.get("ur_decision_attached"):
        reasons.append(("ur_decision_missing", "the UR decision is not attached (8 CCR 9792.10.1(b)(1))"))
    if ur.get("missing_information"):
        reasons.append(("not_medical_necessity", "UR denied for missing information, not medical necessity "
                        "(8 CCR 9792.9.1(f))"))
    if app.get("prior_imr_requests"):
        reasons.append(("prior_imr", "an IMR on the same treatment was already decided (Labor Code 4610.5)"))
    if app.get("liability_dispute"):
        reasons.append(("liability_dispute", "liability for the claim is disputed: review deferred "
                        "(8 CCR 9792.10.1(b)(2))"))
    return {
        "eligible": not reasons,
        "reasons": [{"code": c, "message": m} for c, m in reasons],
        "deadlines": _fallback_deadlines(app, served, received),
        "backend": "fallback",
    }


def _fallback_deadlines(app: dict, served: date | None, received: date | None) -> dict:
    expedited = app.get("review_type") == "expedited"
    out = {}
    if served:
        out["filing_deadline"] = (served + timedelta(days=LATE_AFTER_DAYS)).isoformat()
    if received:
        out["records_due"] = (received + timedelta(days=1 if expedited else 15)).isoformat()
        out["determination_due"] = (received + timedelta(days=3 if expedited else 30)).isoformat()
    return out


def attach_letter(url: str, case_number: str, letter: Letter, actor: str) -> None:
    """Give the signed letter to the case part (for `openimr case publish`); ValueError if refused."""
    publish, store = _module("openimr.cases.publish"), _module("openimr.cases.store")
    if publish is None or store is None:
        return
    try:
        publish.attach_letter(url, case_number, letter, actor)
    except store.CaseError as error:
        if "no such case" in str(error):  # a case the workbench holds alone
            return
        raise ValueError(str(error)) from None


# ---------------------------------------------------------------- panel
def panel_match(url: str, case_number: str) -> dict | None:
    """The panel part's match of a stored case: {"eligible": [...], "excluded": [...]} keyed
    by panel reviewer id, or None (no panel part, empty panel, or a workbench-only case)."""
    assign, reviewers = _module("openimr.panel.assign"), _module("openimr.panel.reviewers")
    if assign is None or reviewers is None:
        return None
    try:
        pool = reviewers.stored(url)
        return assign.match_case(url, case_number, pool=pool) if pool else None
    except ValueError:  # the case part does not know this case
        return None


def panel_reviewers(url: str) -> list[dict]:
    """The panel part's reviewers (name included: admin and QA pages only), [] without it."""
    reviewers = _module("openimr.panel.reviewers")
    if reviewers is None:
        return []
    load = reviewers.assigned_load(url)
    return [{"id": r.id, "name": r.name, "profession": r.profession,
             "licenses": [f"{lic.state} {lic.type}" for lic in r.licenses],
             "certifications": [c.specialty for c in r.board_certifications if c.current],
             "years": r.years_active_practice, "hours": r.hours_per_week,
             "open_cases": r.open_cases + load.get(r.id, 0)} for r in reviewers.stored(url)]


def record_assignment(url: str, case_number: str, panel_reviewer_id: str | None, actor: str) -> None:
    """Tell the case part who reviews the case, with the credentials block for the letter."""
    store, reviewers, matching = (_module("openimr.cases.store"), _module("openimr.panel.reviewers"),
                                  _module("openimr.panel.matching"))
    if None in (store, reviewers, matching) or not panel_reviewer_id:
        return
    reviewer = next((r for r in reviewers.stored(url) if r.id == panel_reviewer_id), None)
    if reviewer is None:
        return
    try:
        store.update(url, case_number, "assign", {"reviewer_id": reviewer.id, "status": "assigned",
                                                  "credentials": matching.credentials(reviewer).model_dump_json()},
                     actor)
    except store.CaseError as error:
        if "no such case" not in str(error):
            raise ValueError(str(error)) from None


def case_credentials(url: str, case_number: str):
    """The letter's credentials block the case part holds for the assigned panel reviewer, or None."""
    store = _module("openimr.cases.store")
    if store is None:
        return None
    try:
        block = store.show(url, case_number).get("credentials")
    except ValueError:
        return None
    from openimr.models import ReviewerCredentials

    return ReviewerCredentials.model_validate(block) if block else None


# ---------------------------------------------------------------- engine
def engine_drafts(case_file: dict, db_url: str | None = None) -> list[dict] | None:
    """The engine's draft per disputed item (dicts as in issue 5), or None without an engine."""
    engine, models = _module("openimr.engine.decide"), _module("openimr.engine.models")
    if engine is None or models is None or not hasattr(engine, "decide_case"):
        return None
    try:
        result = engine.decide_case(models.Case.model_validate(case_file))
    except Exception as error:  # a draft is decision support: the page still works without it
        log.warning("engine draft failed: %s", type(error).__name__)
        return None
    result = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
    return list(result.get("items", []))


# ---------------------------------------------------------------- writer
def render_pdf(letter: Letter, draft: bool = False) -> bytes:
    """The letter as PDF: the letter writer's layout, or the workbench's own template."""
    writer = _module("openimr.letters.write")
    if writer is not None and hasattr(writer, "render"):
        out = writer.render(letter, "pdf", draft=draft)
        return out if isinstance(out, bytes) else Path(out).read_bytes()
    return _fallback_pdf(letter, draft)


def _fallback_pdf(letter: Letter, draft: bool) -> bytes:
    from jinja2 import Environment, PackageLoader, select_autoescape
    from weasyprint import HTML

    env = Environment(loader=PackageLoader("openimr.web", "templates"), autoescape=select_autoescape())
    page = env.get_template("letter_pdf.html").render(letter=letter, draft=draft)
    return HTML(string=page).write_pdf()
