"""Assigning a case to the best eligible expert reviewer of the stored panel."""

from __future__ import annotations

from collections import Counter
from datetime import date

from openimr import db
from openimr.cases import lifecycle, store
from openimr.cases.publish import case_applications
from openimr.panel import reviewers as panel
from openimr.panel.matching import credentials, match


def match_case(url: str, case_number: str, on: date | None = None, show_names: bool = False, pool=None,
               session=None) -> dict:
    """`panel match` for a stored case (its consolidated applications included); in the
    caller's session when given (the workbench's request), else in one of its own."""
    if session is None:
        with db.session_scope(store.ready(url)) as own:
            return match_case(url, case_number, on, show_names, pool, own)
    apps = case_applications(session, store.get(session, case_number))
    pool = pool if pool is not None else panel.stored(url, session)
    return match(apps, pool, panel.assigned_load(url, session), on, show_names)


def why_none(result: dict) -> str:
    """A one-line account of why no reviewer is eligible."""
    if not result["excluded"]:
        return "the panel is empty (add reviewers with `openimr panel add`)"
    counts = Counter(r["code"] for entry in result["excluded"] for r in entry["reasons"])
    parts = ", ".join(f"{code} {n}" for code, n in counts.most_common())
    return f"all {len(result['excluded'])} reviewers excluded (reasons: {parts})"


def assign(url: str, case_number: str, on: date | None = None, actor: str | None = None) -> dict:
    """Assign the best eligible reviewer (one transaction); CaseError explains why none can be."""
    with store.writing(url) as session:
        row = store.get(session, case_number, fresh=True)
        lifecycle.transition(case_number, row.status, "assign", store.CLI_ROLE)  # refused before matching
        pool = {r.id: r for r in panel.stored(url, session)}
        result = match(case_applications(session, row), pool.values(), panel.assigned_load(url, session), on)
        if not result["eligible"]:
            raise store.CaseError(f"case {case_number}: no eligible reviewer: {why_none(result)}")
        best = result["eligible"][0]
        block = credentials(pool[best["reviewer"]], on)
        changes = {"reviewer_id": best["reviewer"], "credentials": block.model_dump_json()}
        store.update(url, case_number, "assign", changes, actor, session)
    return {"case_number": case_number, "reviewer": best["reviewer"], "score": best["score"], "why": best["why"],
            "credentials": block.model_dump(mode="json")}
