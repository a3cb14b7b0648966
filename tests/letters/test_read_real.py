"""The reader on the 129 real letters: every field, letter by letter, against reviewed facts."""

from __future__ import annotations

import json
import re

import pytest

from openimr import read_letter
from openimr.letters.read.source import letter_text
from tests.conftest import FIXTURES, LETTERS_DIR

FACTS = [json.loads(line) for line in (FIXTURES / "letter_facts.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def letters():
    return {path.name: read_letter(path) for path in sorted(LETTERS_DIR.glob("*.pdf"))}


def test_facts_cover_every_letter(letter_pdfs):
    assert sorted(f["file"] for f in FACTS) == [p.name for p in letter_pdfs]


@pytest.mark.parametrize("facts", FACTS, ids=[f["file"] for f in FACTS])
def test_letter_matches_its_facts(letters, facts):
    letter = letters[facts["file"]]
    assert letter.layout == facts["layout"] == "L2016"
    assert letter.case_number == facts["case_number"] == facts["file"].removesuffix(".pdf")
    for field in ("date_assigned", "date_of_injury", "decision_date", "ur_denial_date", "application_received"):
        assert str(getattr(letter, field)) == facts[field], field
    assert letter.priority == facts["priority"]
    assert letter.reviewer.licensure == facts["licensure"]
    assert letter.reviewer.specialties == facts["specialties"]
    assert letter.reviewer.statement.startswith(facts["statement_start"])
    assert letter.clinical_case_summary.startswith(facts["summary_start"])
    assert letter.clinical_case_summary.endswith(facts["summary_end"])
    assert len(letter.items) == len(facts["items"])
    for item, expected in zip(letter.items, facts["items"]):
        assert item.request == expected["request"]
        assert item.decision == expected["decision"]
        assert item.medically_necessary == (expected["decision"] == "Overturned")
        assert item.original_request == expected["original_request"]
        assert item.authorized == expected["authorized"]
        assert item.disputed_request == expected["disputed_request"]
        for side in ("claims_administrator_guideline", "imr_guideline"):
            citation, want = getattr(item, side), expected[side]
            assert citation.scope == want["scope"], side
            assert [r.guideline for r in citation.references] == want["guidelines"], side
            assert [r.year for r in citation.references] == want["years"], side
            assert citation.sections == want["sections"], side
            assert citation.pages == want["pages"], side
            assert citation.text.startswith(want["text_start"]), side
        assert item.rationale.startswith(expected["rationale_start"])
        assert item.rationale.endswith(expected["rationale_end"])


@pytest.mark.parametrize("path", sorted(LETTERS_DIR.glob("*.pdf")), ids=lambda p: p.name)
def test_items_agree_with_the_raw_text(letters, path):
    """Independent of the reviewed facts: counts and decisions straight from the raw text."""
    _, text = letter_text(path)
    flat = " ".join(text.split())
    claims_lines = len(re.findall(r"Claims Administrator guideline:", text))
    decisions = re.findall(r":\s*(Upheld|Overturned)\s+Claims Administrator guideline:", flat)
    letter = letters[path.name]
    assert len(letter.items) == claims_lines
    assert [item.decision for item in letter.items] == decisions
    for item in letter.items:
        assert item.request and item.rationale
        assert item.request in flat
        assert item.claims_administrator_guideline.text and item.imr_guideline.text
        assert not re.search(r"(Claims Administrator|MAXIMUS) guideline:", item.rationale)
        assert "Decision rationale" not in item.request


def test_overturn_rate_is_the_published_one(letters):
    items = [item for letter in letters.values() for item in letter.items]
    assert len(items) == 285
    overturned = sum(item.decision == "Overturned" for item in items)
    assert 0.10 < overturned / len(items) < 0.15


def test_the_2013_text_letter(letter_2013_text):
    letter = read_letter(letter_2013_text)
    assert letter.layout == "L2013"
    assert letter.case_number is None and letter.decision_date is None
    assert letter.reviewer.specialties == ["Occupational Medicine"]
    assert letter.reviewer.licensure == ["California"]
    assert letter.clinical_case_summary.startswith("The applicant is a represented employee")
    [item] = letter.items
    assert item.request == "Magnetic Resonance Imaging (MRI) of the Thoracic Spine without contrast"
    assert item.decision == "Upheld" and item.medically_necessary is False
    assert item.imr_guideline.scope == "MTUS"
    assert item.imr_guideline.chapter == 8
    assert item.imr_guideline.guideline == "Neck and Upper Back Complaints"
    assert item.imr_guideline.pages == ["178"]
    assert item.claims_administrator_guideline.scope == "MTUS"
    assert item.claims_administrator_guideline.chapter == 12
    assert item.claims_administrator_guideline.guideline == "Low Back Complaints"
    assert item.rationale.endswith("Therefore, the request is not medically necessary.")


def test_read_letter_takes_paths_bytes_and_text(letter_pdfs):
    path = letter_pdfs[0]
    from_path = read_letter(path)
    assert read_letter(str(path)) == from_path
    assert read_letter(path.read_bytes()) == from_path
    _, text = letter_text(path)
    assert read_letter(text) == from_path
