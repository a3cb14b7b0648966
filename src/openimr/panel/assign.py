"""Assigning a case to the best eligible expert reviewer of the stored panel."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

from openimr.cases import lifecycle, store
from openimr.cases.publish import case_applications
from openimr.panel import reviewers as panel
from openimr.panel.matching import credentials, match


def match_case(session, case_number: str, on: date | None = None, show_names: bool = False, pool=None,
               load: dict[str, int] | None = None) -> dict:
    """`panel match` for a stored case (its consolidated applications included), in the
    caller's session; `pool` the reviewers to match (default: the stored panel) and `load`
    their open cases (default: `panel.assigned_load`), read once by a caller matching many."""
    apps = case_applications(session, store.get(session, case_number))
    pool = pool if pool is not None else panel.stored(session)
    return match(apps, pool, load if load is not None else panel.assigned_load(session), on, show_names)


def why_none(result: dict) -> str:
    """A one-line account of why no reviewer is eligible."""
    if not result["excluded"]:
        return "the panel is empty (add reviewers with `openimr panel add`)"
    counts = Counter(r["code"] for entry in result["excluded"] for r in entry["reasons"])
    parts = ", ".join(f"{code} {n}" for code, n in counts.most_common())
    return f"all {len(result['excluded'])} reviewers excluded (reasons: {parts})"


def assign_action(status: str) -> str:
    """The lifecycle's action that assigns a reviewer from `status`: reassign once assigned."""
    return "reassign" if status in lifecycle.sources("reassign") else "assign"


def assign_to(session, case_number: str, reviewer_id: str, why: list[str], actor: str | None,
              role: str = store.CLI_ROLE, on: date | None = None) -> dict:
    """Assign (or reassign) the case to one reviewer of the panel, in the caller's session:
    only a reviewer who may sign it (the registry: on the panel, active, licensed; refused
    with one line otherwise), with the letter's credentials block from their panel record
    and `why` they were chosen. Returns the case (snapshot)."""
    from openimr.cases.record import assignment_of

    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        action = assign_action(row.status)
        lifecycle.transition(case_number, row.status, action, role)  # refused before the registry
        reviewer = panel.signer(s, reviewer_id, on)
        block = credentials(reviewer, on)
        explained = assignment_of(row) | {"why": why, "at": datetime.now(UTC).isoformat()}
        changes = {"reviewer_id": reviewer.id, "credentials": block.model_dump_json(),
                   "assignment": json.dumps(explained)}
        return store.update(s, case_number, action, changes, actor, role)


def assign(session, case_number: str, on: date | None = None, actor: str | None = None) -> dict:
    """Assign the best eligible reviewer (in the caller's transaction); CaseError explains
    why none can be."""
    with store.writing(session):
        row = store.get(session, case_number, fresh=True)
        lifecycle.transition(case_number, row.status, "assign", store.CLI_ROLE)  # refused before matching
        pool = {r.id: r for r in panel.stored(session)}
        result = match(case_applications(session, row), pool.values(), panel.assigned_load(session), on)
        if not result["eligible"]:
            raise store.CaseError(f"case {case_number}: no eligible reviewer: {why_none(result)}")
        best, ranked_first = result["eligible"][0], result["ranking"]["text"]
        case = assign_to(session, case_number, best["reviewer"],
                         [f"panel match score {best['score']}", best["why"], ranked_first], actor, store.CLI_ROLE, on)
    return {"case_number": case_number, "reviewer": best["reviewer"], "score": best["score"], "why": best["why"],
            "ranking": ranked_first, "credentials": case["credentials"]}
