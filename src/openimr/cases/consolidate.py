"""Consolidation of applications (8 CCR 9792.10.4(a)).

The review organization may join two or more eligible applications of the same worker
when they have the same requesting physician and the same date of injury. The joined
cases point to the primary one, which then carries every disputed item.
"""

from __future__ import annotations

from sqlalchemy import select

from openimr.cases import lifecycle, store
from openimr.cases.tables import CaseRow

SOURCE = "8 CCR 9792.10.4(a)"



def _same_matter(a: CaseRow, b: CaseRow) -> list[str]:
    """Why two cases cannot be joined (empty if they can)."""
    problems = []
    if a.employee_key != b.employee_key:
        problems.append("not the same worker")
    if a.physician_key != b.physician_key:
        problems.append("not the same requesting physician")
    if a.date_of_injury != b.date_of_injury:
        problems.append("not the same date of injury")
    return problems


def candidates(session, case_number: str) -> list[str]:
    """Other cases that could be consolidated into `case_number`."""
    primary = store.get(session, case_number)
    rows = session.scalars(select(CaseRow).where(CaseRow.employee_key == primary.employee_key).order_by(CaseRow.id))
    return [
        r.case_number
        for r in rows
        if r.case_number != case_number and r.status in lifecycle.sources("consolidate")
        and not _same_matter(primary, r)
    ]


def consolidate(session, primary_number: str, others: list[str], actor: str | None = None) -> dict:
    """Join `others` into `primary_number` (one transaction; all or nothing)."""
    if not others:
        raise store.CaseError("give at least one case to join")
    with store.writing(session):
        primary = store.get(session, primary_number, fresh=True)
        lifecycle.transition(primary_number, primary.status, "join", store.CLI_ROLE)
        for number in others:
            other = store.get(session, number, fresh=True)
            if number == primary_number:
                raise store.CaseError(f"case {number}: cannot be joined to itself")
            problems = _same_matter(primary, other)
            if problems:
                raise store.CaseError(f"case {number}: cannot be joined to {primary_number}: {', '.join(problems)} ({SOURCE})")
            store.update(session, number, "consolidate", {"consolidated_into": primary_number}, actor)
        return store.snapshot(primary) | {"joined": others}
