"""The functional restoration programme (MTUS Chronic Pain: selection criteria, a trial of about
two weeks, continuation only with demonstrated gains, 20 full days in all), acute inpatient
rehabilitation (Medicare's admission criteria, where neither the MTUS nor ODG addresses it) and
the skilled nursing facility (ODG's admission criteria): one test per rule, and the decision
always agrees with the criteria verdict (issue 10)."""

from __future__ import annotations

import pytest

from openimr.engine.kb import classify_request
from openimr.engine.models import Case, CaseDocument, DisputedRequest
from openimr.engine.rules import program_days
from openimr.request import parse_request

CANDIDATE = (
    "The applicant is a 45-year-old male with low back pain since a lifting injury two years ago. He has failed physical "
    "therapy, medications and injections. He has been off work for a year and is unable to perform his usual job. "
    "A functional restoration program evaluation on 10-1-2016 found him a good candidate, with baseline functional "
    "testing. He is highly motivated to return to work."
)


@pytest.mark.parametrize(("request_", "days"), [
    ("Functional restoration program x 160 hours", 20),
    ("Functional restoration program x 80 hours", 10),
    ("Functional restoration program, 10 days", 10),
    ("HELP functional restoration program 2 weeks", 10),
    ("Functional restoration program x 12 sessions", 12),
    ("Functional restoration program", None),
])
def test_a_day_programme_is_counted_in_full_days(request_, days):
    assert program_days(parse_request(request_)) == days


def test_a_first_trial_within_two_weeks_with_the_selection_criteria_met_is_overturned(nlp_loaded, decide_one):
    item = decide_one(CANDIDATE, "Functional restoration program x 80 hours")
    assert item.rule == "criteria:cp_functional_restoration:met"
    assert item.decision == "Overturned"
    assert "Functional restoration programs (FRPs)" in item.imr_guideline.text


def test_a_first_trial_without_the_evaluation_or_the_motivation_is_not_shown(nlp_loaded, decide_one):
    summary = ("The applicant is a 45-year-old male with low back pain. He has failed physical therapy and medications. "
               "He has been off work for a year.")
    item = decide_one(summary, "Functional restoration program x 80 hours")
    assert item.rule == "criteria:cp_functional_restoration:not_shown"
    unmet = {c.criterion for c in item.criteria if c.role == "required" and c.status != "met"}
    assert any("evaluation" in c for c in unmet) and any("motivated" in c for c in unmet)


def test_more_than_the_two_week_trial_at_first_is_upheld(nlp_loaded, decide_one):
    item = decide_one(CANDIDATE, "Functional restoration program x 160 hours")
    assert item.rule == "rule:cp_functional_restoration:trial_over_two_weeks"
    assert item.decision == "Upheld"
    assert "20 full days requested" in item.rationale


def test_continuing_without_demonstrated_gains_is_upheld(nlp_loaded, decide_one):
    item = decide_one(CANDIDATE + " He completed 10 days of the functional restoration program.",
                 "Additional functional restoration program x 80 hours")
    assert item.rule == "rule:cp_functional_restoration:continuation_without_gains"
    assert item.decision == "Upheld"


def test_continuing_with_objective_gains_within_the_total_is_overturned(nlp_loaded, decide_one):
    item = decide_one(CANDIDATE + " He completed 10 days of the functional restoration program with functional gains: "
                 "sitting tolerance rose from 20 to 45 minutes.", "Functional restoration program x 10 days")
    assert item.rule == "rule:cp_functional_restoration:continuation_with_gains"
    assert item.decision == "Overturned"
    assert "10 days completed and 10 requested" in item.rationale


def test_beyond_twenty_full_days_in_all_is_upheld(nlp_loaded, decide_one):
    item = decide_one(CANDIDATE + " He completed 20 days of the functional restoration program with functional gains.",
                 "Functional restoration program x 10 days")
    assert item.rule == "rule:cp_functional_restoration:over_total"
    assert item.decision == "Upheld"


def test_a_programme_of_no_stated_length_is_upheld(nlp_loaded, decide_one):
    item = decide_one(CANDIDATE, "Functional restoration program")
    assert item.rule == "rule:cp_functional_restoration:no_duration"


def test_surgery_being_considered_excludes_the_programme_and_its_evaluation(nlp_loaded, decide_one):
    summary = CANDIDATE + " The spine surgeon is considering a lumbar fusion."
    assert decide_one(summary, "Functional restoration program x 80 hours").rule == "rule:cp_functional_restoration:surgery_considered"
    assert decide_one(summary, "Functional restoration program evaluation").rule == "rule:cp_frp_evaluation:surgery_considered"


def test_an_evaluation_for_the_programme_after_failed_treatment_is_overturned(nlp_loaded, decide_one):
    summary = ("The applicant is a 45-year-old male with low back pain. He has failed physical therapy, medications and "
               "injections, and has been off work for a year.")
    item = decide_one(summary, "Functional restoration program evaluation")
    assert item.rule == "criteria:cp_frp_evaluation:met"
    assert item.decision == "Overturned"


def test_unable_to_walk_is_no_functional_improvement(nlp_loaded):
    from openimr.engine.facts import extract_text

    facts = {m.fact for m in extract_text("She is unable to walk more than a block and unable to perform her job.")}
    assert "functional_improvement" not in facts
    assert {"functional_dependence", "functional_loss"} <= facts


# --- the setting of rehabilitation after a hospital stay ----------------------------------

AFTER_ORIF = (
    "This is a 70-year-old male who fell from a ladder and underwent ORIF of the left ankle fracture. According to the "
    "hospitalist progress note, his pain is controlled. He is not able to transfer independently and still requires "
    "assistance with ambulation; he is not safe for home yet. The goal is discharge to home."
)


@pytest.mark.parametrize(("request_", "category"), [
    ("Acute inpatient rehabilitation physical therapy and occupational therapy 7-10 days", "inpatient_rehabilitation"),
    ("Admission to an inpatient rehabilitation facility", "inpatient_rehabilitation"),
    ("Inpatient rehab stay 10 days", "inpatient_rehabilitation"),
    ("Skilled nursing facility stay x 14 days", "skilled_nursing_facility"),
    ("Subacute rehabilitation facility 14 days", "skilled_nursing_facility"),
    ("Home health skilled nursing visits 2x/week for 4 weeks", "home_health"),
    ("Physical therapy 2x4 for the left ankle", "physical_therapy"),
])
def test_the_setting_of_care_is_its_own_category(request_, category):
    assert classify_request(request_) == category


def test_inpatient_rehabilitation_for_new_dependence_after_surgery_is_overturned(nlp_loaded, decide_one):
    item = decide_one(AFTER_ORIF, "Acute inpatient rehabilitation physical therapy and occupational therapy 7-10 days", weeks=1)
    assert item.rule == "criteria:medicare_inpatient_rehabilitation:met"
    assert item.decision == "Overturned"
    assert item.evidence_step == "other guidelines"
    assert "evidence search sequence, step 3" in item.rationale
    assert "1 week passed" in item.rationale


def test_inpatient_rehabilitation_the_worker_cannot_take_part_in_is_upheld(nlp_loaded, decide_one):
    item = decide_one(AFTER_ORIF + " He has advanced dementia and is unable to participate in intensive therapy.",
                 "Inpatient rehabilitation facility admission", weeks=1)
    assert item.rule == "rule:medicare_inpatient_rehabilitation:cannot_take_part"
    assert item.decision == "Upheld"


def test_inpatient_rehabilitation_without_a_new_limitation_is_upheld(nlp_loaded, decide_one):
    item = decide_one("This is a 50-year-old male after a knee arthroscopy. He walks with a normal gait and is independent.",
                 "Inpatient rehabilitation facility admission", weeks=1)
    assert item.rule == "rule:medicare_inpatient_rehabilitation:no_new_limitation"


def test_a_skilled_nursing_facility_after_a_hospital_stay_with_new_dependence_is_overturned(nlp_loaded, decide_one):
    item = decide_one(AFTER_ORIF, "Skilled nursing facility stay x 14 days", weeks=1)
    assert item.rule == "criteria:odg_skilled_nursing_facility:met"
    assert item.decision == "Overturned"
    assert item.imr_guideline.text.startswith("Decision based on Non-MTUS Citation Official Disability Guidelines (ODG)")


def test_a_skilled_nursing_facility_without_a_hospital_stay_is_upheld(nlp_loaded, decide_one):
    item = decide_one("This is a 60-year-old female with chronic low back pain. She needs help with bathing and dressing.",
                 "Skilled nursing facility placement")
    assert item.rule == "rule:odg_skilled_nursing_facility:no_hospital_stay"


def test_a_skilled_nursing_facility_without_a_new_limitation_is_upheld(nlp_loaded, decide_one):
    item = decide_one("This is a 50-year-old male who was hospitalized for a wrist fracture repair. He walks independently.",
                 "Skilled nursing facility stay x 7 days", weeks=1)
    assert item.rule == "rule:odg_skilled_nursing_facility:no_new_limitation"


def test_the_treatment_history_counts_programme_days_attended():
    from openimr.engine.history import treatment_history

    case = Case(documents=[CaseDocument(kind="clinical_summary",
                                        text="He completed 10 days of the functional restoration program in May.")],
                disputed_items=[DisputedRequest(request="Functional restoration program x 80 hours")])
    assert treatment_history(case).sessions["functional_restoration"].count == 10
