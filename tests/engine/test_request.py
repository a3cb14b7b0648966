"""The one request parse (openimr.request): real requests of the shared letters, labelled."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from openimr.request import RequestParse, parse_request, partial_portions
from openimr.vocab import region_keys

LABELS = Path(__file__).parent / "data" / "request_labels.jsonl"
FIELDS = ["sessions", "quantity", "unit", "frequency_per_week", "weeks", "kind", "retrospective_date", "drug",
          "ingredients", "form", "compound", "region", "side", "remainder_after_partial"]


def _rows():
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if "text" in r]


def test_every_disputed_item_of_the_shared_letters_parses(letters):
    keys = set(region_keys())
    n = 0
    for name, letter in letters:
        for item in letter.items:
            r = parse_request(item.request)
            n += 1
            assert isinstance(r, RequestParse)
            assert r.text and r.treatment, (name, item.request)
            assert r.region is None or r.region in keys
            assert set(r.regions) <= keys and (r.region is None or r.region in r.regions)
            for v in (r.quantity, r.sessions, r.weeks):
                assert v is None or 0 < v < 10_000, (name, item.request, v)
            if r.sessions and r.frequency_per_week and r.weeks and "(" not in item.request:
                # when no count is printed, the total is frequency x weeks
                assert r.sessions <= r.frequency_per_week * r.weeks + 0.5 or r.sessions == r.quantity
            if r.form is not None and r.drug is None and not r.compound:
                assert r.form == "injection"
            assert all(i == i.lower() for i in r.ingredients)
            if item.disputed_request:
                # the letter reader's portions and the parse's agree
                assert r.disputed == " ".join(item.disputed_request.split()).strip(" ,.;")
                assert r.authorized == " ".join(item.authorized.split()).strip(" ,.;")
            else:
                assert r.disputed is None, (name, item.request)
    assert n == 285


def _score():
    out = {}
    rows = _rows()
    for f in FIELDS:
        tp = pred = gold = 0
        for row in rows:
            got = parse_request(row["text"]).model_dump(mode="json")[f]
            want = row["labels"][f]
            empty = (None, [], False, "unspecified")
            if got not in empty:
                pred += 1
            if want not in empty:
                gold += 1
            if got not in empty and got == want:
                tp += 1
        out[f] = (tp / pred if pred else 1.0, tp / gold if gold else 1.0, gold)
    return out


def test_labelled_requests_precision_and_recall_per_field():
    rows = _rows()
    assert len(rows) >= 250
    scores = _score()
    print()
    for f, (p, r, n) in scores.items():
        print(f"  {f:24s} precision {p:.3f} recall {r:.3f} (labelled {n})")
    for f, (p, r, _n) in scores.items():
        assert p >= 0.95, f
        assert r >= 0.90, f


@pytest.mark.parametrize(
    "text, expect",
    [
        ("Physical therapy 2 times a week for 6 weeks (12 sessions) to the right elbow",
         dict(sessions=12, frequency_per_week=2.0, weeks=6, region="elbow", side="right")),
        ("Physical therapy 2x6 for the lumbar spine", dict(sessions=12, frequency_per_week=2.0, weeks=6, region="lumbar")),
        ("Chiropractic treatment x 6", dict(sessions=6)),
        ("12 sessions of acupuncture", dict(sessions=12, unit="session")),
        ("Additional physical therapy 3x4 left shoulder", dict(kind="additional", sessions=12, side="left")),
        ("Continued Norco 10/325mg #90", dict(kind="continued", drug="norco", ingredients=["hydrocodone", "acetaminophen"],
                                              form="oral", quantity=90, unit="tablet")),
        ("Retrospective Toradol 60mg IM injection DOS 3/2/2016",
         dict(kind="retrospective", retrospective=True, retrospective_date=date(2016, 3, 2), form="injection",
              ingredients=["ketorolac"])),
        ("Synapryn 10mg/1ml oral suspension 500ml", dict(form="suspension", unit="ml", quantity=500)),
        ("Lidoderm 5% patch #30", dict(form="patch", quantity=30, unit="patch", ingredients=["lidocaine"])),
        ("Flurbiprofen 20%/Baclofen 2%/Lidocaine 5% cream 180gm",
         dict(form="topical", compound=True, quantity=180, unit="gram",
              ingredients=["flurbiprofen", "baclofen", "lidocaine"])),
        ("Terocin lotion", dict(form="topical", ingredients=["lidocaine", "capsaicin", "menthol", "methyl salicylate"])),
        ("Theramine #120", dict(medical_food=True, drug="theramine")),
        ("EMG/NCV of the bilateral upper extremities", dict(region="upper_extremity", side="bilateral")),
        ("Initial trial of acupuncture 6 visits", dict(kind="initial", sessions=6)),
        ("Right L5-S1 transforaminal epidural steroid injection", dict(region="lumbar", side="right", form="injection")),
    ],
)
def test_request_fields(text, expect):
    r = parse_request(text)
    for k, v in expect.items():
        assert getattr(r, k) == v, (k, getattr(r, k))


@pytest.mark.parametrize(
    "text, original, authorized, disputed, remainder, sessions",
    [
        ("12 additional therapy sessions for left hand which was modified to 6 sessions",
         "12 additional therapy sessions for left hand", "6 sessions", "6 sessions", True, 6),
        ("Physical therapy x12 modified to x6", "Physical therapy x12", "x6", "6 sessions", True, 6),
        ("Physical therapy 12 visits (6 certified, 6 non-certified)", "Physical therapy 12 visits", "6 certified",
         "6 non-certified", True, 6),
        ("Physical therapy two times a week for six weeks (12 sessions) was the original request. Physical therapy 6 "
         "sessions was authorized by the Claims Administrator. The remaining IMR eligible portion of the original "
         "request, Physical therapy 6 sessions", "Physical therapy two times a week for six weeks (12 sessions)",
         "Physical therapy 6 sessions", "Physical therapy 6 sessions", True, 6),
        ("Purchase of a bath/shower chair was the original request. The Claims Administrator authorized a bath/shower "
         "chair for 1 month, leaving the original request IMR eligible. The original request, purchase of a bath/shower "
         "chair", "Purchase of a bath/shower chair", "a bath/shower chair for 1 month", "purchase of a bath/shower chair",
         False, None),
    ],
)
def test_partial_authorizations(text, original, authorized, disputed, remainder, sessions):
    r = parse_request(text)
    assert (r.original, r.authorized, r.disputed, r.remainder_after_partial) == (original, authorized, disputed, remainder)
    assert r.sessions == sessions


def test_a_request_without_a_partial_has_no_portions():
    assert partial_portions("MRI of the lumbar spine was non-certified by utilization review") is None
    r = parse_request("Norco 10/325mg #60")
    assert r.original is r.authorized is r.disputed is None and not r.remainder_after_partial


def test_no_quantity_or_duration_is_none_not_guessed():
    r = parse_request("Physical therapy for the lumbar spine")
    assert r.sessions is r.quantity is r.weeks is r.frequency_per_week is None
    assert r.treatment == "Physical therapy for the lumbar spine"
