"""Treatment to date (openimr.engine.history) on labelled sentences of real summaries."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from openimr.engine.history import treatment_history
from openimr.engine.models import Case, CaseDocument, DisputedRequest

LABELS = Path(__file__).parent / "data" / "history_labels.jsonl"


def _case(*texts, kind="clinical_summary", **dates):
    return Case(documents=[CaseDocument(kind=kind, text=t) for t in texts],
                disputed_items=[DisputedRequest(request="Physical therapy")], **dates)


def _items(h):
    out = {("session", k, v) for k, v in h.sessions_completed.items()}
    out |= {("drug", k) for k in h.drugs}
    out |= {("imaging", i) for i in range(len(h.prior_imaging))}
    out |= {("injection", i) for i in range(len(h.injections))}
    out |= {("surgery", i) for i in range(len(h.surgeries))}
    return out


def _gold(done):
    out = {("session", k, v) for k, v in done["sessions"].items()}
    out |= {("drug", k) for k in done["drugs"]}
    for kind, key in (("imaging", "imaging"), ("injection", "injections"), ("surgery", "surgeries")):
        out |= {(kind, i) for i in range(done[key])}
    return out


def test_labelled_sentences_precision_and_recall():
    rows = [json.loads(x) for x in LABELS.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = [r for r in rows if "text" in r]
    tp = fp = fn = 0
    for row in rows:
        got = _items(treatment_history(_case(row["text"])))
        want = _gold(row["done"])
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\ntreatment history: {len(rows)} sentences, {tp + fn} labelled items, precision {precision:.3f} recall {recall:.3f}")
    assert len(rows) >= 60
    assert precision >= 0.85 and recall >= 0.65  # measured 0.920 / 0.697 (development set)


def test_requested_ordered_or_authorized_sessions_are_not_treatment_to_date():
    for text in ["On a December 1, 2016 RFA form, 8 sessions of physical therapy were ordered.",
                 "The treatment requested for review included six sessions of physical therapy to the lumbar spine.",
                 "The injured worker had been authorized for 6 sessions of physical therapy for the shoulder.",
                 "Six sessions of physical therapy was certified at the prior review."]:
        assert treatment_history(_case(text)).sessions_completed == {}, text


def test_sessions_drugs_surgery_with_evidence_spans():
    text = ("The worker has completed 12 sessions of physical therapy and 6 acupuncture visits. "
            "She has been taking Norco for 8 months. She underwent a left carpal tunnel release on 03/15/2016.")
    h = treatment_history(_case("Unrelated first document.", text, date_of_injury=dt.date(2015, 1, 1),
                                ur_denial_date=dt.date(2016, 6, 1)))
    assert h.sessions_completed == {"physical_therapy": 12, "acupuncture": 6}
    assert set(h.drugs) == {"hydrocodone", "acetaminophen"} and h.drugs["hydrocodone"].months == 8
    (surgery,) = h.surgeries
    assert surgery.date == dt.date(2016, 3, 15) and surgery.region == "hand"
    assert h.weeks_since_injury == round((dt.date(2016, 6, 1) - dt.date(2015, 1, 1)).days / 7, 1)
    for ev in [*h.sessions["physical_therapy"].evidence, *h.drugs["hydrocodone"].evidence, surgery.evidence]:
        assert ev.document == 1 and text[ev.start:ev.end] == ev.text


def test_no_prior_therapy_is_zero_and_ur_documents_are_not_read():
    assert treatment_history(_case("Treatment to date has included no prior chiropractic therapy.")).sessions_completed == {
        "chiropractic": 0}
    assert treatment_history(_case("The worker has completed 12 sessions of physical therapy.",
                                   kind="ur_decision")).sessions_completed == {}


def test_every_shared_letter_has_a_history(letters):
    from openimr.engine.evaluate import case_from_letter

    with_sessions = 0
    for name, letter in letters:
        h = treatment_history(case_from_letter(letter, name))
        with_sessions += bool(h.sessions)
        for p in [*h.prior_imaging, *h.injections, *h.surgeries]:
            assert letter.clinical_case_summary[p.evidence.start:p.evidence.end] == p.evidence.text
    assert with_sessions >= 10


def test_therapy_given_without_a_count_is_an_earlier_course():
    for text, given in [
        ("Treatments and evaluation to date have included Tylenol and physical therapy.", {"physical_therapy"}),
        ('The worker reported "minimal improvement" despite physical therapy.', {"physical_therapy"}),
        ("Treatment to date has included chiropractic care; acupuncture and medications.", {"chiropractic", "acupuncture"}),
        ("The treatment plan includes a referral to physical therapy.", set()),  # ordered, not given
        ("There is no documentation of attendance of physical therapy sessions.", set()),
        ("Pre-operative labs included CBC and PT/PTT.", set()),  # a coagulation test, not therapy
        ("Treatment to date has included no prior chiropractic therapy.", set()),
    ]:
        assert set(treatment_history(_case(text)).done) == given, text


def test_a_count_in_a_list_of_what_was_requested_is_not_treatment_to_date():
    text = ("The request for authorization (received on 11-23-2016) shows that the following tests and treatments "
            "were requested: MRIs of neck and right hand without contrast, and 6 sessions of acupuncture.")
    assert treatment_history(_case(text)).sessions_completed == {}


def test_a_therapy_referral_or_request_is_no_therapy_given():
    ordered = treatment_history(_case("Treatment to date has included medication and a physical therapy referral "
                                      "in October 2016. Treatment has included a chiropractic request last month."))
    assert "physical_therapy" not in ordered.done and "chiropractic" not in ordered.done
    given = treatment_history(_case("Treatment to date has included medication and physical therapy in October 2016."))
    assert "physical_therapy" in given.done


def test_a_drug_named_in_a_request_or_denial_is_not_taken_because_the_sentence_says_medications():
    # "medications" alone (not "medications include ...") does not make a request's drug one taken
    denied = ("The request for tramadol was denied due to no indication of the patient trying and failing nonopiate "
              "analgesic medications prior to initiation of opioid medications.")
    pending = ("The plan of care included Lidoderm patches until approval is obtained, as he is not able to tolerate "
               "oral medications.")
    for text in (denied, pending):
        assert treatment_history(_case(text)).drugs == {}, text
    listed = "The request was reviewed. Current medications include tramadol 50 mg."
    assert "tramadol" in treatment_history(_case(listed)).drugs
