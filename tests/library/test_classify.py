"""Classification of items and normalisation of guideline names."""

from __future__ import annotations

import re

import pytest
import yaml

from openimr.library.classify import classify, compiled, normalise_guideline

from .conftest import DATA


def _accuracy(name: str) -> tuple[float, list]:
    rows = yaml.safe_load((DATA / name).read_text())
    misses = [(request, expected, classify(request).category) for request, expected in rows]
    misses = [m for m in misses if m[1] != m[2]]
    return 1 - len(misses) / len(rows), misses


def test_hand_checked_real_requests():
    rows = yaml.safe_load((DATA / "handchecked_requests.yaml").read_text())
    assert len(rows) >= 150
    accuracy, misses = _accuracy("handchecked_requests.yaml")
    assert accuracy >= 0.97, misses


def test_held_out_requests():
    accuracy, misses = _accuracy("heldout_requests.yaml")
    assert accuracy >= 0.95, misses


def test_every_expected_category_exists():
    known = set(compiled().taxonomy.categories)
    for name in ("handchecked_requests.yaml", "heldout_requests.yaml"):
        for _request, expected in yaml.safe_load((DATA / name).read_text()):
            assert expected in known, expected


def test_real_items_are_almost_all_categorised(real_library):
    from sqlalchemy import text

    from openimr.db import engine_for

    with engine_for(real_library).connect() as c:
        total, other = c.execute(text("SELECT count(*), sum(CASE WHEN category = 'other' THEN 1 ELSE 0 END) FROM library_items")).one()
    assert total >= 280
    assert (total - (other or 0)) / total >= 0.95


@pytest.mark.parametrize(
    "request_text, expected",
    [
        ("Norco 10/325mg #90", dict(category="opioid", drug="Norco", dose="10/325mg", quantity="90 tablets")),
        ("Physical therapy 2x6 for the lumbar spine", dict(category="physical_therapy", frequency="2 per week", duration="6 weeks", quantity="12 sessions",
                                                           body_region="lumbar")),
        ("Acupuncture 12 sessions for the neck", dict(category="acupuncture", quantity="12 sessions", body_region="cervical")),
        ("Chiropractic care two times a week for four weeks", dict(frequency="2 per week", duration="4 weeks", quantity="8 sessions")),
        ("Lidoderm 5% patch #30", dict(category="topical_analgesic", drug="Lidoderm")),
        ("Flurbiprofen 20%/Baclofen 5%/Lidocaine 4% cream 180gm", dict(category="compounded")),
        ("Associated surgical service: Shoulder sling", dict(category="dme", body_region="shoulder")),
        ("Butrans 10mcg/hr patch #4", dict(category="opioid")),
        ("Pantoprazole 40mg, one by mouth, twice a day #60", dict(frequency="2 per day", quantity="60 tablets", dose="40mg")),
        # a transforaminal interbody fusion (TLIF) is spine surgery, not a transforaminal epidural
        ("L4-5 transforaminal lumbar interbody fusion", dict(category="surgery", body_region="lumbar")),
        ("Right L5 transforaminal epidural steroid injection", dict(category="epidural_injection")),
    ],
)
def test_details_are_extracted(request_text, expected):
    got = classify(request_text).as_dict()
    assert {k: got[k] for k in expected} == expected


def test_disputed_portion_is_classified():
    result = classify("Norco 10/325mg #60 was the original request. Gabapentin was authorized.", "Norco 10/325mg #35")
    assert (result.category, result.quantity) == ("opioid", "35 tablets")


def test_guideline_wordings_normalise_to_one_guideline():
    a = normalise_guideline("MTUS Chronic Pain Medical Treatment 2016, Section(s): Opioids, criteria for use", "MTUS")
    b = normalise_guideline("CA MTUS Chronic Pain Medical Treatment Guidelines Page(s): 78")
    c = normalise_guideline("Chronic Pain Medical Treatment", "MTUS")
    assert a == b == c and a.key == "mtus-chronic-pain"
    odg = normalise_guideline("Official Disability Guidelines (ODG), Shoulder Chapter", "non-MTUS")
    assert odg.key == "odg"
    assert normalise_guideline("MTUS ACOEM Chapter 12", "MTUS", 12).key == "mtus-acoem-low-back"
    assert normalise_guideline("Low Back Complaints 2004, Page(s): 303", "MTUS").key == "mtus-acoem-low-back"
    unknown = normalise_guideline("Green's Operative Hand Surgery, 7th edition", "non-MTUS")
    assert unknown.key.startswith("other:") or unknown.key == "medical-literature"
    assert normalise_guideline("", "none") is None


def test_bad_taxonomy_file_is_named(tmp_path, monkeypatch):
    from openimr.library import classify as module

    (tmp_path / "taxonomy.yaml").write_text(
        re.sub(r"category: opioid,", "category: opioids,", (module.DATA / "taxonomy.yaml").read_text(), count=1)
        .replace("  opioid: [norco", "  opioids: [norco")
    )
    monkeypatch.setattr(module, "DATA", tmp_path)
    module.compiled.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"taxonomy\.yaml: .*category"):
            module.compiled()
    finally:
        module.compiled.cache_clear()
