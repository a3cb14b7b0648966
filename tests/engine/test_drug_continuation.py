"""Continuing a neuropathic agent, a lidocaine patch or topical agent, or a sleep aid needs
documented pain reduction or functional improvement from the earlier course; a first trial
goes by the guideline's trial criteria (issue 10)."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest

from tests.support.engine_case import decide_one

NEURO = (
    "The applicant is a 50-year-old female who injured her low back. She complained of low back pain radiating "
    "down the left leg with numbness, rated 7/10. The diagnosis is lumbar radiculopathy with neuropathic pain."
)


_item = partial(decide_one, weeks=40, injury=date(2015, 1, 5))


@pytest.mark.parametrize(("taken", "request_", "rule"), [
    ("She has been taking gabapentin 300 mg for six months.", "Gabapentin 300mg #90",
     "rule:cp_antidepressant_anticonvulsant:continuation_without_benefit"),
    ("She has been using Lidoderm patches for four months.", "Lidoderm 5% patch #30",
     "rule:cp_lidocaine_patch:continuation_without_benefit"),
    ("She has been taking Belsomra 10 mg nightly for five months.", "Belsomra 10mg #30",
     "rule:odg_insomnia:sleep_aid_continuation_without_benefit"),
])
def test_continuing_without_documented_benefit_is_upheld(nlp_loaded, taken, request_, rule):
    item = _item(NEURO + " " + taken, request_)
    assert item.rule == rule
    assert item.decision == "Upheld"


def test_continuing_with_documented_benefit_goes_on_to_the_criteria(nlp_loaded):
    item = _item(NEURO + " She has been taking gabapentin 300 mg for six months with 50% relief of her leg pain"
                 " and improved ability to walk.", "Gabapentin 300mg #90")
    assert item.rule != "rule:cp_antidepressant_anticonvulsant:continuation_without_benefit"
    assert item.decision == "Overturned"


def test_a_first_trial_is_not_a_continuation(nlp_loaded):
    # chronic pain alone (40 weeks) does not make a first prescription a continuation
    item = _item(NEURO + " Ibuprofen was tried without relief.", "Gabapentin 300mg #90")
    assert item.rule != "rule:cp_antidepressant_anticonvulsant:continuation_without_benefit"
    assert item.decision == "Overturned"


def test_zolpidem_beyond_a_short_course_is_upheld_even_with_better_sleep(nlp_loaded):
    # zolpidem and the other non-benzodiazepine hypnotics are for short-term treatment of insomnia only
    for taken in ("She has been taking Ambien 10 mg nightly for five months.",
                  "She has been taking Ambien 10 mg nightly for five months and sleeps better with it."):
        item = _item(NEURO + " " + taken, "Ambien 10mg #30")
        assert item.rule == "rule:odg_insomnia:hypnotic_long_term" and item.decision == "Upheld"


def test_another_drug_taken_does_not_make_the_sleep_aid_a_continuation(nlp_loaded):
    item = _item(NEURO + " She has been taking ibuprofen for five months.", "Ambien 10mg #30")
    assert item.rule not in ("rule:odg_insomnia:sleep_aid_continuation_without_benefit", "rule:odg_insomnia:hypnotic_long_term")


KNEE = "The applicant is a 60-year-old male with osteoarthritis of the right knee, pain rated 6/10. Naproxen was tried."


def test_a_topical_agent_continued_needs_documented_benefit(nlp_loaded):
    item = _item(KNEE + " He has been using Voltaren gel on the knee for four months.", "Voltaren 1% gel 100g")
    assert item.rule == "rule:cp_topical:continuation_without_benefit" and item.decision == "Upheld"
    # benefit documented: the entry's criteria decide
    text = KNEE + " He has been using Voltaren gel on the knee for four months with 40% relief and better walking."
    assert _item(text, "Voltaren 1% gel 100g").rule.startswith("criteria:cp_topical:")


def test_a_first_topical_nsaid_for_an_arthritic_knee_needs_no_failed_antidepressant(nlp_loaded):
    # imr-facts.md 5.9: topical NSAIDs for osteoarthritis of a joint suited to topical treatment, short term;
    # the failed first-line oral agents are the condition for neuropathic pain
    item = _item(KNEE, "Voltaren 1% gel 100g")
    assert item.rule == "rule:cp_topical:topical_nsaid_osteoarthritis" and item.decision == "Overturned"
    spine = "The applicant is a 60-year-old male with osteoarthritis of the lumbar spine, pain rated 6/10. Naproxen was tried."
    assert _item(spine, "Voltaren 1% gel 100g").decision == "Upheld"


def test_an_old_injury_alone_is_no_long_term_use_of_a_drug(nlp_loaded):
    """A drug first prescribed in chronic care is not "already in long-term use" because the
    injury is old; a drug the records show taken before, at that stage, is."""
    summary = "The injured worker is a 48-year-old man with chronic neck pain and spasm. He takes ibuprofen."
    first = decide_one(summary, "Diazepam 5mg #10", weeks=30)
    assert first.rule != "rule:cp_benzodiazepine:long_term", first.rationale
    assert "part of chronic care" not in first.rationale
    taken = decide_one(summary + " He has been prescribed diazepam for the spasm.", "Diazepam 5mg #10", weeks=30)
    assert taken.rule == "rule:cp_benzodiazepine:long_term", taken.rationale
    assert taken.decision == "Upheld"


def test_a_drug_named_with_a_decimal_strength_is_read_as_taken(nlp_loaded):
    """"Norco 7.5/325 mg" once cut the sentence at its point, and the drug before it was lost."""
    from openimr.engine.history import treatment_history
    from openimr.engine.models import Case, CaseDocument, DisputedRequest

    text = "She has been taking Norco 7.5/325 mg three times a day for two years. She is working."
    case = Case(documents=[CaseDocument(kind="clinical_summary", text=text)],
                disputed_items=[DisputedRequest(request="Norco 7.5/325mg #90")])
    history = treatment_history(case)
    assert "hydrocodone" in history.drugs, list(history.drugs)
    assert history.drugs["hydrocodone"].months == 24
