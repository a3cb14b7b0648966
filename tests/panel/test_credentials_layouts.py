"""The credentials block generated from the assigned reviewer, in every layout of the letter writer."""

from __future__ import annotations

from datetime import date

import pytest

import openimr
from openimr.letters.write import SURVIVING_FIELDS, render
from openimr.panel.matching import credentials
from openimr.panel.reviewers import parse_reviewers


@pytest.fixture(scope="module")
def base_letter(letter_pdfs):
    return openimr.read_letter(letter_pdfs[0])


@pytest.mark.parametrize("layout", sorted(SURVIVING_FIELDS))
@pytest.mark.parametrize("index", [0, 3], ids=["physician", "chiropractor"])
def test_credentials_read_back_from_every_layout(panel_data, base_letter, layout, index):
    reviewer = parse_reviewers(panel_data, "panel.json")[index]
    block = credentials(reviewer, date(2026, 3, 1))
    letter = base_letter.model_copy(update={"reviewer": block, "layout": layout})
    text = render(letter, "text", layout=layout)
    assert reviewer.name not in text
    back = openimr.read_letter(text).reviewer
    for field in ("licensure", "specialties", "statement"):
        if f"reviewer.{field}" in SURVIVING_FIELDS[layout]:
            assert getattr(back, field) == getattr(block, field), field
