"""Benefit from a treatment, or its lack, counts for the treatment its sentence names (issue 10,
facts read from the right place): "physical therapy improved his function" is no functional
improvement on a requested opioid, and "Norco lets him do his chores" is no gain from the
physical therapy visits already given."""

from __future__ import annotations

from datetime import date, timedelta

from tests.support.engine_case import decide_one

INJURY = date(2015, 1, 5)
BACK = (
    "The injured worker is a 48-year-old man with chronic low back pain since a fall at work. "
    "On examination the lumbar paraspinal muscles are tender and flexion is limited. "
)


def _summary(text: str, request: str) -> dict[str, tuple[list[str], list[str]]]:
    """The benefit facts that count for `request` (text of the affirmed and negated mentions)."""
    from openimr.engine.decide import BENEFIT_FACTS, item_features
    from openimr.engine.models import Case, CaseDocument, DisputedRequest

    case = Case(case_number="CM00-0000000", date_of_injury=INJURY, ur_denial_date=INJURY + timedelta(weeks=80),
                documents=[CaseDocument(kind="clinical_summary", text=BACK + text)],
                disputed_items=[DisputedRequest(request=request)])
    (f,) = item_features(case)
    return {k: ([m.text for m in v["affirmed"]], [m.text for m in v["negated"]])
            for k, v in f.context.summary.items() if k in BENEFIT_FACTS and (v["affirmed"] or v["negated"])}


def test_a_therapys_benefit_is_no_benefit_of_a_requested_drug(nlp_loaded):
    facts = _summary("Physical therapy improved his function and he now walks a mile.", "Norco 10/325 mg #90")
    assert "functional_improvement" not in facts
    assert "functional_improvement" in _summary("Physical therapy improved his function and he now walks a mile.",
                                                 "Physical therapy x 6, lumbar spine")


def test_the_drugs_own_benefit_and_medications_in_general_count_for_it(nlp_loaded):
    assert "functional_improvement" in _summary("Norco improved his function and he now walks a mile.", "Norco 10/325 mg #90")
    assert "functional_improvement" in _summary("His medications improved his function and he now walks a mile.",
                                                 "Norco 10/325 mg #90")


def test_another_drug_named_is_not_the_requested_one(nlp_loaded):
    facts = _summary("Ibuprofen provided no relief.", "Norco 10/325 mg #90")
    assert "lack_of_benefit" not in facts
    assert "lack_of_benefit" in _summary("Norco provided no relief.", "Norco 10/325 mg #90")


def test_a_sentence_naming_no_treatment_counts_for_any(nlp_loaded):
    for request in ("Norco 10/325 mg #90", "Physical therapy x 6, lumbar spine", "Acupuncture x 6, lumbar spine"):
        assert "functional_improvement" in _summary("Over the last months he improved his function and he now walks a mile.", request), request


def test_another_therapys_lack_of_benefit_is_not_this_therapys(nlp_loaded):
    assert "lack_of_benefit" not in _summary("Acupuncture provided no relief.", "Physical therapy x 6, lumbar spine")
    assert "lack_of_benefit" in _summary("Acupuncture provided no relief.", "Acupuncture x 6, lumbar spine")
    assert "lack_of_benefit" not in _summary("Norco provided no relief.", "Acupuncture x 6, lumbar spine")


def test_more_visits_need_gains_from_the_visits_not_from_the_drug(nlp_loaded):
    history = "He has completed 12 sessions of physical therapy. "
    drug_helps = decide_one(BACK + history + "Norco improved his function and he now walks a mile.",
                            "Additional physical therapy x 8, lumbar spine", weeks=80, injury=INJURY)
    visits_help = decide_one(BACK + history + "Physical therapy improved his function and he now walks a mile.",
                             "Additional physical therapy x 8, lumbar spine", weeks=80, injury=INJURY)
    assert drug_helps.decision == "Upheld", drug_helps.rule
    assert "functional" in (drug_helps.rule or "") or "functional" in drug_helps.rationale.lower()
    assert visits_help.rule != drug_helps.rule
