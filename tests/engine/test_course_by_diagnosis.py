"""The physical medicine course follows the diagnosis (imr-facts.md 5.5): myalgia or myositis
9-10 visits over 8 weeks, neuralgia, neuritis or radiculitis 8-10 visits over 4 weeks, complex
regional pain syndrome 24 visits over 16 weeks (its own routed entry); and a rationale says no
earlier course is documented, never "0 visits completed", when the records say none was given; and it
states the phase of care once."""

from __future__ import annotations

import pytest

from openimr.engine.kb import KBError, load_kb

MYALGIA = ("The injured worker is a 44-year-old warehouse worker with chronic low back pain and muscle spasm since "
           "lifting a box at work. He takes naproxen. He has not had physical therapy for this injury.")
RADICULITIS = ("The injured worker is a 55-year-old carpenter with chronic lumbar radiculitis, pain radiating to the left "
               "leg. He takes gabapentin. He has not had physical therapy for this injury.")
CRPS = ("The injured worker is a 38-year-old assembler with complex regional pain syndrome of the right hand after a "
        "crush injury a year ago. She has not had physical therapy for this injury.")


def test_the_myalgia_course_is_named_for_myalgia(nlp_loaded, decide_one):
    item = decide_one(MYALGIA, "Physical therapy 2 times a week for 4 weeks, lumbar spine")
    assert item.rule == "rule:cp_physical_medicine:initial_course"
    assert "9-10 visits over 8 weeks for myalgia or myositis" in item.rationale
    assert "radiculitis" not in item.rationale.split("Guideline relied on")[0]


def test_the_radiculitis_course_is_named_for_radiculitis(nlp_loaded, decide_one):
    item = decide_one(RADICULITIS, "Physical therapy 2 times a week for 4 weeks, lumbar spine")
    assert item.rule == "rule:cp_physical_medicine:initial_course"
    assert "8-10 visits over 4 weeks for neuralgia, neuritis or radiculitis" in item.rationale
    assert "myalgia" not in item.rationale.split("Guideline relied on")[0]


def test_crps_takes_its_own_course(nlp_loaded, decide_one):
    item = decide_one(CRPS, "Physical therapy x 16, right hand")
    assert item.kb_entry == "cp_physical_medicine_crps" and item.decision == "Overturned"
    assert "24 visits over 16 weeks for complex regional pain syndrome" in item.rationale
    over = decide_one(CRPS, "Physical therapy x 30, right hand")
    assert over.decision == "Upheld"


@pytest.mark.parametrize("request_text", ["Additional physical therapy x 12 for the lumbar spine",
                                          "Additional physical therapy x 6 for the lumbar spine"])
def test_no_earlier_course_is_not_zero_visits_completed(nlp_loaded, decide_one, request_text):
    item = decide_one(MYALGIA, request_text)
    assert item.decision == "Upheld"
    assert "0 visits completed" not in item.rationale
    assert "continues an earlier course" not in item.rationale
    assert "no earlier course" in item.rationale or "none completed" in item.rationale


def test_a_course_named_by_an_unknown_fact_is_refused(tmp_path):
    import shutil
    from pathlib import Path

    import openimr.engine.kb as kb

    gdir = tmp_path / "guidelines"
    shutil.copytree(Path(kb.__file__).parent / "guidelines", gdir)
    path = gdir / "chronic_pain.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("values: [spinal_radiculopathy, neuropathic_pain]",
                                                             "values: [no_such_fact]"), encoding="utf-8")
    with pytest.raises(KBError, match="by_diagnosis"):
        load_kb(guidelines_dir=gdir)


def test_visits_beyond_the_radiculitis_course_name_it(nlp_loaded, decide_one):
    item = decide_one(RADICULITIS.replace("He has not had physical therapy for this injury.",
                                          "He has completed 8 sessions of physical therapy, after which he can walk for 30 "
                                          "minutes instead of 10."),
                      "Physical therapy x 4 for the lumbar spine")
    assert item.rule == "rule:cp_physical_medicine:over_course" and item.decision == "Upheld"
    assert "8 visits completed and 4 requested exceed the course of 8-10 visits over 4 weeks for neuralgia" in item.rationale


def test_the_phase_of_care_is_said_once(nlp_loaded, decide_one):
    item = decide_one("The injured worker is a 48-year-old forklift driver with neuropathic pain in the left foot after a "
                      "crush injury two years ago, diagnosed as complex regional pain syndrome. Gabapentin and physical "
                      "therapy have failed. He does a daily home exercise program.",
                      "TENS unit rental for a 30-day home trial")
    assert item.rule == "rule:cp_tens:trial_for_indication"
    assert item.rationale.count("60 weeks passed from the injury") == 1
    assert "Phase of care: chronic" in item.rationale
