"""Electrodiagnostic testing routed by the diagnosis (issue 10): a suspected peripheral nerve
entrapment to the hand chapter (nerve conduction studies first, EMG only in difficult cases), a
spinal radiculopathy to the neck or low back chapter's special studies, and no neurologic
finding to the Chronic Pain guideline's firm rule."""

from __future__ import annotations

from functools import partial

import pytest

from tests.support.engine_case import decide_one

ENTRAPMENT = (
    "The applicant is a 48-year-old female with left wrist pain. She reported numbness and tingling about "
    "the left thumb and index finger. On examination there was a positive Tinel's sign and a positive "
    "Phalen's test at the left wrist. Splinting and activity modification failed to improve her symptoms."
)
CERVICAL = (
    "The applicant is a 50-year-old male with neck pain radiating into the right arm, diagnosed with "
    "cervical radiculopathy. On examination there was a positive Spurling's test on the right and "
    "decreased sensation in the right C6 dermatome. Symptoms persisted despite physical therapy and "
    "medication, and conservative treatment failed."
)
LUMBAR = (
    "The applicant is a 45-year-old male with low back pain and sciatica down the left leg. On examination "
    "there was a positive straight leg raise on the left and decreased sensation over the left foot. "
    "Symptoms persisted despite physical therapy, and conservative treatment failed."
)
AXIAL = (
    "The applicant is a 40-year-old female with low back pain without radiation. Neurologic examination "
    "was normal, with intact sensation and 5/5 strength in both legs."
)


_item = partial(decide_one, weeks=10)


@pytest.mark.parametrize(("summary", "request_text", "guideline", "rule", "decision"), [
    (ENTRAPMENT, "NCS of the left upper extremity", "Forearm, Wrist, and Hand", "criteria:hand_entrapment_electrodiagnostic:met", "Overturned"),
    (ENTRAPMENT, "EMG of the left upper extremity", "Forearm, Wrist, and Hand",
     "rule:hand_entrapment_electrodiagnostic:emg_without_nerve_conduction", "Upheld"),
    (CERVICAL, "EMG/NCV of the right upper extremity", "Neck and Upper Back", "criteria:nk_electrodiagnostic:met", "Overturned"),
    (LUMBAR, "EMG/NCV of the left lower extremity", "Low Back", "criteria:lb_electrodiagnostic:met", "Overturned"),
    (AXIAL, "EMG/NCV of the bilateral lower extremities", "Chronic Pain",
     "rule:cp_electrodiagnostic:no_neurologic_symptom_or_sign", "Upheld"),
])
def test_nerve_studies_are_routed_by_the_diagnosis(nlp_loaded, summary, request_text, guideline, rule, decision):
    item = _item(summary, request_text)
    assert guideline in item.imr_guideline.text, item.imr_guideline.text
    assert item.rule == rule
    assert item.decision == decision


def test_spinal_studies_wait_three_or_four_weeks(nlp_loaded):
    item = _item(CERVICAL, "EMG/NCV of the right upper extremity", weeks=2)
    assert item.rule == "rule:nk_electrodiagnostic:before_four_weeks"
    assert item.decision == "Upheld"
    assert "three or four weeks" in item.rationale


def test_both_diagnoses_stay_with_the_general_section(nlp_loaded):
    # carpal tunnel findings beside a cervical radiculopathy: neither chapter alone; the Chronic
    # Pain guideline's section weighs both
    item = _item(ENTRAPMENT + " " + CERVICAL, "EMG/NCV of the bilateral upper extremities")
    assert "Chronic Pain" in item.imr_guideline.text
