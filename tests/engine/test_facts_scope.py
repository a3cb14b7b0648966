"""A ConText cue acts only inside its own sentence and never on the span that holds it.

Regression tests of a bug found in review: with a token-window scope, "There were no red
flags. The physician is considering a lumbar discectomy" negated the discectomy, and
"7/10 without medication and 5/10 with medication" negated both pain scores.
"""

from __future__ import annotations

from openimr.engine.decide import decide_case
from openimr.engine.facts import extract_text
from openimr.engine.models import Case, CaseDocument, DisputedRequest

SUMMARY = (
    "The applicant has low back pain radiating to the left leg since an injury on September 1, 2025. "
    "On February 2, 2026, the treating physician documented decreased sensation in the left L5 dermatome "
    "and 4/5 weakness of the left extensor hallucis longus. There were no red flags. "
    "The physician is considering a lumbar discectomy if imaging confirms a herniation. "
    "Pain is 7/10 without medication and 5/10 with medication. No urine drug screen was documented."
)


def _mentions(fact):
    return [m for m in extract_text(SUMMARY) if m.fact == fact]


def test_a_negation_does_not_cross_into_the_next_sentence(nlp_loaded):
    [surgery] = _mentions("surgery_considered")
    assert surgery.text.startswith("considering a lumbar discectomy")
    assert surgery.negated is False


def test_the_sentence_with_the_cue_is_still_negated(nlp_loaded):
    assert all(m.negated for m in _mentions("red_flag"))
    assert all(m.negated for m in _mentions("uds"))


def test_without_medication_is_a_pain_score_not_a_negation(nlp_loaded):
    scores = _mentions("pain_relief_with_medication")
    assert scores and not any(m.negated for m in scores)


def test_lumbar_mri_criteria_follow_the_records(nlp_loaded):
    case = Case(
        case_number="CM00-0000002",
        date_of_injury="2025-09-01",
        ur_denial_date="2026-02-20",
        documents=[CaseDocument(kind="clinical_summary", text=SUMMARY)],
        disputed_items=[DisputedRequest(request="MRI of the lumbar spine without contrast")],
    )
    [item] = decide_case(case).items
    status = {c.criterion: c.status for c in item.criteria}
    assert status["surgery or an injection is being considered"] == "met"
    assert status["unequivocal objective neurologic findings"] == "met"
    assert status["a red flag (cauda equina, fracture, tumor, infection, progressive deficit)"] == "not_met"
