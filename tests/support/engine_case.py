"""One disputed item drafted from a clinical summary: the case the engine's rule tests build."""

from __future__ import annotations

from datetime import date, timedelta


def decide_one(summary: str, request: str, weeks: int, injury: date = date(2016, 1, 4)):
    """Draft `request` for a worker injured on `injury` whose UR decision came `weeks` later;
    the draft's decision must agree with its criteria verdict (issue 10)."""
    from openimr.engine.decide import decide_case
    from openimr.engine.models import Case, CaseDocument, DisputedRequest

    case = Case(
        case_number="CM00-0000000",
        date_of_injury=injury,
        ur_denial_date=injury + timedelta(weeks=weeks),
        documents=[CaseDocument(kind="clinical_summary", text=summary)],
        disputed_items=[DisputedRequest(request=request)],
    )
    (item,) = decide_case(case).items
    assert (item.decision == "Overturned") == (item.criteria_verdict == "met"), item.rule
    return item
