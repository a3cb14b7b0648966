"""A lesion a study showed is an imaging finding in either word order; a study ordered to look
for one is not."""

import pytest

from openimr.engine.facts import extract_text

FOUND = [
    "An MRI of the right shoulder on 11/18/2016 revealed a full thickness tear of the supraspinatus.",
    "There is a full-thickness supraspinatus tear on MRI.",
    "The MRI indicated the patient had a full thickness tear.",
    "A left knee MRI performed on 4/19/2016 documented a horizontal tear of the medial meniscus.",
    "He has a medial meniscus tear seen on the MRI of 3/2/2016.",
    "MRI-confirmed labral tear of the left shoulder.",
    "MRI findings of a posterior horn tear.",
    "MRI of the lumbar spine 12/07/2016: L4-5 disc herniation.",
]
NOT_FOUND = [
    "An MRI of the left shoulder to rule out rotator cuff tear is recommended.",
    "The treating physician requested an MRI of the left shoulder to evaluate for possible rotator cuff tear.",
    "The provider recommended an MRI of the knee, which was denied.",
    "A rotator cuff tear is suspected; an MRI is requested.",
    "He reports the knee gives way and a tear is suspected on examination.",
]


def _affirmed(fact: str, text: str) -> bool:
    return any(m.fact == fact and m.affirmed for m in extract_text(text))


def _found(text: str) -> bool:
    return _affirmed("imaging_finding", text)


@pytest.mark.parametrize("text", FOUND)
def test_a_lesion_shown_by_a_study_is_an_imaging_finding(text):
    assert _found(text)


@pytest.mark.parametrize("text", NOT_FOUND)
def test_a_study_ordered_to_look_for_a_lesion_is_no_finding(text):
    assert not _found(text)


# What a study is ordered to rule out is neither a fracture nor a red flag the records document;
# a fracture diagnosed, or one suspected after trauma, still is.
RED_FLAG_FOUND = [
    "The current diagnosis is closed fracture of fourth lumbar vertebra with delayed healing.",
    "A compression fracture is suspected after the fall.",
    "The x-rays showed a fracture of the T10 vertebra.",
]
RED_FLAG_NOT_FOUND = [
    "The treatment plan includes a MRI to rule out compression fracture at T10.",
    "A CT was ordered to evaluate for fracture.",
    "MRI of the thoracic spine r/o fracture.",
]


def _red_flag(text: str) -> bool:
    return any(m.fact in ("red_flag", "fracture") and m.affirmed for m in extract_text(text))


@pytest.mark.parametrize("text", RED_FLAG_FOUND)
def test_a_fracture_diagnosed_or_suspected_is_a_red_flag(text):
    assert _red_flag(text)


@pytest.mark.parametrize("text", RED_FLAG_NOT_FOUND)
def test_a_fracture_a_study_is_to_rule_out_is_no_red_flag(text):
    assert not _red_flag(text)


def test_spine_mri_to_rule_out_a_fracture_without_findings_is_upheld(nlp_loaded, decide_one):
    summary = ("The applicant is a 39-year-old male with mid back pain after a fall at work. The physical exam reveals T10 "
               "tenderness on palpation. The treatment plan includes a MRI to rule out compression fracture at T10.")
    item = decide_one(summary, "MRI of the thoracic spine", weeks=6)
    assert item.rule == "rule:lb_imaging:no_red_flag_no_deficit" and item.decision == "Upheld"
    diagnosed = summary.replace("The treatment plan includes a MRI to rule out compression fracture at T10.",
                                "The diagnosis is a compression fracture of T10.")
    assert decide_one(diagnosed, "MRI of the thoracic spine", weeks=6).decision == "Overturned"


# A nerve root the imaging shows pressed on (root_compression_imaging) is what makes a
# radiculopathy clear beside the examination; a lesion alone (a bulge, degenerative changes),
# a root spared, or a study ordered to look is not.
ROOT_COMPRESSED = [
    "A lumbar MRI shows a right L5-S1 disc extrusion compressing the right S1 nerve root.",
    "MRI of the lumbar spine dated 3/2/2016 revealed an L4-5 herniation with impingement of the left L5 nerve root.",
    "A cervical MRI shows right C5-6 foraminal stenosis with impingement of the exiting right C6 nerve root.",
    "The MRI of the lumbar spine showed severe left L5-S1 neural foraminal stenosis.",
    "Left S1 nerve root compression was seen on the lumbar MRI of March 2015.",
    "CT myelogram: displacement of the traversing L5 root by a disc fragment.",
]
ROOT_NOT_COMPRESSED = [
    "A lumbar MRI showed a disc bulge at L5-S1 without compression of the nerve root.",
    "A lumbar MRI shows multilevel degenerative changes with a 2 mm disc bulge at L4-5 and no nerve root compression.",
    "The MRI revealed mild foraminal narrowing at C5-6.",
    "An MRI was requested to evaluate for nerve root compression.",
    "A lumbar MRI shows a disc protrusion compressing the thecal sac.",
    "There was no imaging evidence of nerve root impingement.",
]


@pytest.mark.parametrize(("text", "compressed"), [(t, True) for t in ROOT_COMPRESSED] + [(t, False) for t in ROOT_NOT_COMPRESSED])
def test_a_nerve_root_compressed_on_imaging_and_a_lesion_that_compresses_none(text, compressed):
    assert _affirmed("root_compression_imaging", text) is compressed
