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
