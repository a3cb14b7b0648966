"""Long-term use is tied to the drug in question (issue 10): "has been taking ibuprofen" is no
long-term use of a requested opioid; "has been taking Norco" is."""

from __future__ import annotations

from functools import partial

from tests.support.engine_case import decide_one

BACK = (
    "The applicant is a 40-year-old male who injured his low back lifting a box. He complained of low back "
    "pain rated 7/10. On examination there was lumbar tenderness and decreased range of motion."
)


_item = partial(decide_one, weeks=3)


def test_another_drug_taken_is_no_long_term_use_of_the_opioid(nlp_loaded):
    item = _item(BACK + " He has been taking ibuprofen 600 mg without relief of the pain.", "Tramadol 50mg #30")
    assert item.rule != "rule:op_acute_subacute:continuation_without_function"
    assert item.rule == "criteria:op_acute_subacute:met"
    assert item.decision == "Overturned"


def test_the_opioid_itself_taken_is_long_term_use(nlp_loaded):
    item = _item(BACK + " Ibuprofen was tried without relief. He has been taking tramadol for the pain.", "Tramadol 50mg #30")
    assert item.rule == "rule:op_acute_subacute:continuation_without_function"
    assert item.decision == "Upheld"


def test_a_drug_of_the_same_class_counts(nlp_loaded):
    item = _item(BACK + " Ibuprofen was tried without relief. He has been taking Norco for the pain.", "Tramadol 50mg #30")
    assert item.rule == "rule:op_acute_subacute:continuation_without_function"
