"""Acute and subacute versus chronic routing (issue 10): the weeks from the injury to utilization
review, and what the records say, give the phase of care; an acute-phase therapy request goes to
the ACOEM chapter's initial care and an opioid within three months to the opioid guideline's
acute and subacute sections, not only to the Chronic Pain guideline; the rationale names the
phase and why."""

from __future__ import annotations

import pytest

from openimr.engine.rules import phase_of
from tests.support.engine_case import decide_one as _item

BACK = (
    "The applicant is a 40-year-old male who injured his low back lifting a box. He complained of low back "
    "pain rated 7/10. On examination there was lumbar tenderness and decreased range of motion."
)
BACK_NSAID = BACK + " Ibuprofen 600 mg was tried without relief of the pain."
BACK_CHRONIC = BACK + " The diagnosis is chronic low back pain."




@pytest.mark.parametrize(("weeks", "phase"), [(1, "acute"), (3, "acute"), (4, "subacute"), (12, "subacute"), (13, "chronic"),
                                              (None, None)])
def test_phase_from_the_weeks_since_injury(weeks, phase):
    assert phase_of(weeks, {})[0] == phase


def test_records_calling_the_pain_chronic_make_it_chronic():
    class M:
        text = "chronic low back pain"
    phase, why = phase_of(2, {"chronic_pain_stated": {"affirmed": [M()], "negated": []}})
    assert phase == "chronic" and "chronic low back pain" in why


def test_acute_therapy_goes_to_the_chapter_initial_care(nlp_loaded):
    item = _item(BACK, "Physical therapy 2 times a week for 3 weeks for the lumbar spine", weeks=2)
    assert item.kb_entry == "lb_initial_physical_methods"
    assert "Low Back" in item.imr_guideline.text and "Initial Care" in item.imr_guideline.text
    assert item.rule == "rule:lb_initial_physical_methods:first_visits"
    assert item.decision == "Overturned"
    assert "Phase of care: acute" in item.rationale and "2 weeks passed" in item.rationale


def test_acute_therapy_beyond_the_course_is_upheld(nlp_loaded):
    item = _item(BACK, "Physical therapy 3 times a week for 4 weeks for the lumbar spine", weeks=2)
    assert item.rule == "rule:lb_initial_physical_methods:request_over_course"
    assert item.decision == "Upheld"


def test_therapy_after_three_months_stays_with_the_chronic_pain_guideline(nlp_loaded):
    item = _item(BACK, "Physical therapy 2 times a week for 3 weeks for the lumbar spine", weeks=20)
    assert item.kb_entry == "cp_physical_medicine"
    assert "Phase of care: chronic" in item.rationale
    # the records calling the pain chronic keep a recent injury's request with the Chronic Pain guideline
    item = _item(BACK_CHRONIC, "Physical therapy 2 times a week for 3 weeks for the lumbar spine", weeks=2)
    assert item.kb_entry == "cp_physical_medicine"


def test_opioid_within_three_months_uses_the_acute_and_subacute_sections(nlp_loaded):
    item = _item(BACK, "Tramadol 50mg #30", weeks=3)
    assert item.kb_entry == "op_acute_subacute"
    assert "Opioids for Acute Pain" in item.imr_guideline.text
    # no non-opioid drug taken before: not yet an opioid
    assert item.rule == "rule:op_acute_subacute:non_opioid_not_tried"
    assert item.decision == "Upheld"
    assert "Phase of care: acute" in item.rationale
    item = _item(BACK_NSAID, "Tramadol 50mg #30", weeks=3)
    assert item.rule == "criteria:op_acute_subacute:met"
    assert item.decision == "Overturned"


def test_long_acting_opioid_is_not_for_acute_pain(nlp_loaded):
    item = _item(BACK_NSAID, "OxyContin ER 10mg #60", weeks=2)
    assert item.rule == "rule:op_acute_subacute:long_acting_in_acute_phase"
    assert item.decision == "Upheld"


def test_chronic_opioid_stays_with_the_chronic_sections(nlp_loaded):
    item = _item(BACK_NSAID, "Norco 10/325mg #60", weeks=30)
    assert item.kb_entry == "op_chronic"


NSAID_BACK = ("The applicant is a 40-year-old male who strained his low back lifting a box. He complains of low back pain "
              "rated 6/10 with tenderness and spasm of the lumbar paraspinal muscles.")


def test_a_first_nsaid_in_the_subacute_phase_is_first_line(nlp_loaded, decide_one):
    item = decide_one(NSAID_BACK, "Naproxen 550mg #60", weeks=8)
    assert item.rule == "rule:cp_nsaid:first_line_early" and item.decision == "Overturned"


@pytest.mark.parametrize("extra", [
    " He has been taking ibuprofen 800 mg since the injury.",  # another NSAID already taken: its benefit must show
    " He also reports burning neuropathic pain down the leg.",  # NSAIDs have inconsistent evidence for neuropathic pain
])
def test_a_second_nsaid_or_neuropathic_pain_is_not_first_line(nlp_loaded, decide_one, extra):
    assert decide_one(NSAID_BACK + extra, "Naproxen 550mg #60", weeks=8).rule != "rule:cp_nsaid:first_line_early"


def test_an_nsaid_in_the_chronic_phase_is_not_first_line_early(nlp_loaded, decide_one):
    assert decide_one(NSAID_BACK, "Naproxen 550mg #60", weeks=20).rule != "rule:cp_nsaid:first_line_early"
