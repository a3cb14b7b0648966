"""The rationale reads as a physician would sign it (issue 10 §5): the portion decided named
plainly, what the records do not document without "documented" repeated, articles right, and
no finding quoted from another body region than the request's."""

from __future__ import annotations

from tests.support.engine_case import decide_one

PARTIAL = ("Cyclobenzaprine 7.5mg #90 was the original request. Cyclobenzaprine 7.5mg #63 was authorized by the "
           "Claims Administrator. The remaining IMR eligible portion of the original request, Cyclobenzaprine 7.5mg #27")


def test_a_partial_authorization_names_the_remainder_decided(nlp_loaded):
    item = decide_one("The injured worker has low back pain with spasm after lifting at work.", PARTIAL, weeks=3)
    lead = item.rationale.split(". Deciding")[0]
    assert lead.startswith("Upheld: the remaining portion of the request, Cyclobenzaprine 7.5mg #27 "), lead
    assert "Cyclobenzaprine 7.5mg #90 was requested and Cyclobenzaprine 7.5mg #63 authorized" in lead
    assert "was the original request" not in item.rationale


def test_an_evaluation_only_authorization_is_not_read_as_the_decided_portion(nlp_loaded):
    request = ("Partial Hospitalization day treatment was the original request. The Claims Administrator authorized "
               "an Evaluation only for a Partial Hospitalization day treatment, leaving the original request IMR "
               "eligible. The original request, Partial Hospitalization day treatment")
    item = decide_one("The injured worker has depression and anxiety after a work injury.", request, weeks=40)
    lead = item.rationale.split(" is ")[0]
    assert lead.endswith("the request for Partial Hospitalization day treatment (the claims administrator authorized "
                         "an Evaluation only for a Partial Hospitalization day treatment)"), lead


def test_what_the_records_do_not_document_is_not_followed_by_documented(nlp_loaded):
    item = decide_one("The injured worker has knee pain after a fall at work. He takes ibuprofen.",
                      "Tramadol 50mg #60", weeks=8)
    assert "do not document:" in item.rationale, item.rationale
    missing = item.rationale.split("do not document:")[1].split(".")[0]
    assert "documented" not in missing, missing


def test_the_form_note_takes_its_article(nlp_loaded):
    item = decide_one("The injured worker hurt his low back lifting a box. Sensation is intact.",
                      "Diclofenac ER 100mg #60", weeks=4)
    assert "for an oral form" in item.rationale, item.rationale
    assert "for a oral" not in item.rationale


def test_a_cervical_myotome_finding_is_not_quoted_for_a_lumbar_request(nlp_loaded):
    summary = ("The injured worker has neck and low back pain after a fall four weeks ago. On examination, manual motor testing "
               "demonstrated no focal deficits in the C5-T1 myotomes.")
    lumbar = decide_one(summary, "MRI of the lumbar spine", weeks=4)
    cervical = decide_one(summary, "MRI of the cervical spine", weeks=4)
    assert "C5-T1" not in lumbar.rationale, lumbar.rationale
    assert "C5-T1" in cervical.rationale, cervical.rationale
