"""The one vocabulary: regions, drugs; data files validated at load."""

from __future__ import annotations

import pytest

from openimr.vocab import VocabError, find_region, region, region_keys
from openimr.vocab.drugs import ingredients_of, load_drugs
from openimr.vocab.regions import load_regions


@pytest.mark.parametrize(
    "text, key",
    [
        ("MRI of the lumbar spine", "lumbar"), ("C-spine x-rays", "cervical"), ("MRI cervical and lumbar spine", "cervical"),
        ("Spine surgery evaluation for the lumbar", "lumbar"), ("Back support", "spine"), ("EMG of the arms", "upper_extremity"),
        ("Right L5 transforaminal epidural", "lumbar"), ("MRI of the left wrist", "hand"), ("Knee scooter", "knee"),
        ("mid back pain", "thoracic"), ("EEG", "head"), ("Physical therapy", None),
        # a vertebral level named with its fracture binds the fracture to the spine
        ("He sustained an L1 compression fracture", "lumbar"), ("a C6 fracture treated in a collar", "cervical"),
    ],
)
def test_region_of_a_text(text, key):
    assert find_region(text) == key


def test_region_keys_are_stable_and_described():
    keys = region_keys()
    assert {"cervical", "thoracic", "lumbar", "shoulder", "elbow", "hand", "hip", "knee", "ankle", "foot"} <= set(keys)
    assert region("upper_extremity").covered_by == ["cervical"]
    assert region("lumbar").odg == "Low Back" and region("knee").acoem_chapter == 13


def test_combination_products_give_their_generics():
    assert ingredients_of("Norco") == ["hydrocodone", "acetaminophen"]
    assert ingredients_of("HCl") == []


def test_bad_region_file_names_the_file_and_field(tmp_path):
    bad = tmp_path / "regions.yaml"
    bad.write_text("regions:\n  - {key: Lumbar, label: x, odg: y, patterns: ['lumb']}\n")
    with pytest.raises(VocabError, match=r"regions.yaml: regions.0.key"):
        load_regions(bad)
    bad.write_text("regions:\n  - {key: lumbar, label: x, odg: y, patterns: ['(']}\n")
    with pytest.raises(VocabError, match=r"regions.yaml: regions.0.patterns"):
        load_regions(bad)
    bad.write_text("regions: [\n")
    with pytest.raises(VocabError, match=r"regions.yaml: cannot read"):
        load_regions(bad)


def test_bad_drug_file_names_the_product(tmp_path):
    bad = tmp_path / "drugs.yaml"
    bad.write_text("generics: [hydrocodone]\nproducts:\n  norco: [hydrocodone, acetaminophen]\n")
    with pytest.raises(VocabError, match=r"drugs.yaml: .*products.norco"):
        load_drugs(bad)


# --- guidelines ---------------------------------------------------------------------------

from openimr.vocab.guidelines import by_acoem_chapter, by_name, guideline, guidelines, load_guidelines  # noqa: E402


def test_one_registry_serves_reader_library_and_knowledge_base():
    from openimr.engine.kb import default_kb
    from openimr.letters.read.citations import canonical_guideline, chapter_of
    from openimr.library.classify import normalise_guideline

    # the reader's canonical names are the registry's printed names
    assert canonical_guideline("Chronic Pain Medical Treatment Guidelines") == guideline("mtus-chronic-pain").name
    assert chapter_of("Low Back Complaints") == guideline("mtus-acoem-low-back").acoem_chapter == 12
    # the library's keys are the registry's keys, whatever the wording
    assert normalise_guideline("CA MTUS Chronic Pain Medical Treatment Guidelines Page(s): 78").key == "mtus-chronic-pain"
    assert normalise_guideline("Low Back", "MTUS", 12).key == by_acoem_chapter(12).key
    assert normalise_guideline("Medicare Physician Fee Schedule", "non-MTUS").key == "medicare-fee-schedule"
    # every knowledge-base file's head names a registry guideline, and takes its scope and chapter
    for e in default_kb().entries:
        g = guideline(e.guideline.key)
        assert g is not None and e.guideline.scope == g.scope and e.guideline.chapter == g.acoem_chapter


def test_every_guideline_has_a_title_and_scope_and_keys_are_unique():
    keys = [g.key for g in guidelines()]
    assert len(keys) == len(set(keys)) and len(keys) >= 20
    assert by_name("Official Disability Guidelines (ODG)", "non-MTUS").key == "odg"
    assert by_acoem_chapter(3).key == "mtus-acoem-general-approaches"


def test_bad_guideline_file_names_the_problem(tmp_path):
    bad = tmp_path / "guidelines.yaml"
    bad.write_text("guidelines:\n  - {key: a, title: A, scope: MTUS}\n  - {key: a, title: B, scope: MTUS}\n")
    with pytest.raises(VocabError, match="duplicate guideline key"):
        load_guidelines(bad)
    bad.write_text("guidelines:\n  - {key: a, name: X, title: A, scope: MTUS}\n  - {key: b, name: x, title: B, scope: MTUS}\n")
    with pytest.raises(VocabError, match="already names a"):
        load_guidelines(bad)
    bad.write_text("guidelines:\n  - {key: a, title: A, scope: WHO}\n")
    with pytest.raises(VocabError, match=r"guidelines.yaml: guidelines.0.scope"):
        load_guidelines(bad)


def test_the_mtus_edition_in_force_follows_the_date():
    from datetime import date

    low_back = guideline("mtus-acoem-low-back")
    assert low_back.in_force(date(2017, 11, 30)) == ("Low Back Complaints", 2004)
    assert low_back.in_force(date(2017, 12, 1)) == ("Low Back Disorders", 2016)
    assert low_back.in_force(None) == ("Low Back Complaints", 2004)
    assert guideline("mtus-chronic-pain").in_force(date(2019, 5, 1)) == ("ACOEM Chronic Pain Guideline", 2017)
    assert guideline("mtus-acupuncture").in_force(date(2019, 5, 1)) == ("Acupuncture Treatment", 2007)  # not replaced
    # letters citing the successor read as the same key
    assert by_name("ACOEM Opioids Guideline", "MTUS").key == "mtus-opioids"


def test_a_successor_must_be_one_of_the_guidelines_spellings(tmp_path):
    bad = tmp_path / "guidelines.yaml"
    bad.write_text("guidelines:\n  - {key: a, name: X, title: A, scope: MTUS, superseded: {since: 2017-12-01, by: Y}}\n")
    with pytest.raises(VocabError, match="superseded by 'Y', which is not one of its spellings"):
        load_guidelines(bad)


def test_knowledge_base_head_must_name_a_registry_guideline(tmp_path):
    import shutil

    from openimr.engine.kb import DATA_DIR, GUIDELINES_DIR, KBError, load_kb

    gdir = tmp_path / "g"
    shutil.copytree(GUIDELINES_DIR, gdir)
    path = gdir / "knee.yaml"
    path.write_text(path.read_text().replace("key: mtus-acoem-knee", "key: mtus-acoem-kneecap"))
    with pytest.raises(KBError, match="knee.yaml: guideline"):
        load_kb(gdir, DATA_DIR)
