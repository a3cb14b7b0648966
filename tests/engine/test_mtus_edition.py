"""The MTUS in force on the UR decision's date (8 CCR 9792.22-9792.24.4): from 1 December 2017 the
MTUS is ACOEM's updated guidelines, whose text the knowledge base does not hold. A draft for a
later decision names the guideline in force, never cites the earlier edition's pages as if they
were current, says what the physician must check, and is never `clear`."""

from __future__ import annotations

from datetime import date

BACK = ("The applicant is a 45-year-old female with low back pain after lifting boxes at work. On examination "
        "there was lumbar tenderness and decreased range of motion. Neurological examination is normal.")


def test_a_decision_before_december_2017_cites_the_edition_the_rules_encode(nlp_loaded, decide_one):
    item = decide_one(BACK, "MRI of the lumbar spine", weeks=60, injury=date(2015, 1, 5))
    assert item.imr_guideline.text.startswith("Decision based on MTUS Low Back Complaints 2004")
    assert "303" in item.imr_guideline.pages and item.guideline_note is None
    assert item.confidence == "clear"  # the firm "no red flag, no deficit" rule


def test_a_later_decision_names_the_guideline_in_force_and_asks_for_a_check(nlp_loaded, decide_one):
    item = decide_one(BACK, "MRI of the lumbar spine", weeks=60, injury=date(2018, 3, 1))  # UR on 2019-04-25
    early = decide_one(BACK, "MRI of the lumbar spine", weeks=60, injury=date(2015, 1, 5))
    assert item.decision == early.decision and item.rule == early.rule  # the same rule decides
    assert item.imr_guideline.text == "Decision based on MTUS Low Back Disorders 2016."
    assert item.imr_guideline.pages == [] and item.imr_guideline.sections == []  # the earlier edition's pages are not current
    assert item.confidence == "uncertain"
    assert "04/25/2019" in item.guideline_note
    old = "the MTUS ACOEM Practice Guidelines, Chapter 12 Low Back Complaints (2004)"
    assert old in item.guideline_note and old in item.rationale  # the earlier edition named alike in both
    assert "Low Back Disorders (2016)" in item.guideline_note
    assert "Guideline relied on: the MTUS Low Back Disorders (2016)" in item.rationale
    assert "which it replaced on 1 December 2017, and are to be checked against it" in item.rationale


def test_a_guideline_the_update_left_in_place_is_cited_as_before(nlp_loaded, decide_one):
    summary = ("The injured worker is a 52-year-old man with chronic low back pain since a fall at work. He has "
               "taken ibuprofen and finished a home exercise programme. He has never had acupuncture.")
    item = decide_one(summary, "Acupuncture once a week for 6 weeks, lumbar spine", weeks=60, injury=date(2018, 3, 1))
    assert item.kb_entry == "ac_acupuncture"
    assert item.guideline_note is None and "Acupuncture" in item.imr_guideline.text


def test_the_chronic_pain_guideline_gives_way_to_acoems(nlp_loaded, decide_one):
    summary = BACK + " She takes Norco 10/325 mg four times a day; no pain scores or urine drug screens are documented."
    item = decide_one(summary, "Norco 10/325 mg #120", weeks=60, injury=date(2018, 3, 1))
    assert item.imr_guideline.text.startswith("Decision based on MTUS ACOEM"), item.imr_guideline.text
    assert item.confidence == "uncertain" and item.guideline_note
