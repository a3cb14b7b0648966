"""Round trip on the 129 real letters: read(render(read(x))) == read(x), text and PDF.

Each letter is read once per test worker (cached), and rendered by the test that needs it,
so that pytest-xdist spreads the PDF rendering over the workers.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from openimr.letters.read import parse_text, read_letter
from openimr.letters.write import render, surviving_fields
from openimr.models import LAYOUTS, Letter
from tests.conftest import LETTERS_DIR

LETTERS = sorted(p.name for p in LETTERS_DIR.glob("*.pdf"))


@cache
def original(name: str) -> Letter:
    return read_letter(LETTERS_DIR / name)


def differences(expected: dict, actual: dict, where: str = "") -> list[str]:
    """The dotted names of the fields that differ (items compared field by field)."""
    out = []
    for key in expected:
        a, b = expected[key], actual.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += differences(a, b, f"{where}{key}.")
        elif isinstance(a, list) and isinstance(b, list) and a and isinstance(a[0], dict):
            if len(a) != len(b):
                out.append(f"{where}{key} (count {len(a)} != {len(b)})")
            else:
                for index, (x, y) in enumerate(zip(a, b)):
                    out += differences(x, y, f"{where}{key}[{index}].")
        elif a != b:
            out.append(f"{where}{key}: {str(a)[:80]!r} != {str(b)[:80]!r}")
    return out


def test_all_129_letters_are_here():
    assert len(LETTERS) == 129


@pytest.mark.parametrize("name", LETTERS)
def test_text_round_trip(name):
    letter = original(name)
    again = parse_text(render(letter, "text"), name)
    assert differences(letter.model_dump(mode="json"), again.model_dump(mode="json")) == []


@pytest.mark.parametrize("name", LETTERS)
def test_pdf_round_trip(name):
    letter = original(name)
    data = render(letter, "pdf")
    assert data[:5] == b"%PDF-"
    again = read_letter(data)
    assert differences(letter.model_dump(mode="json"), again.model_dump(mode="json")) == []


@pytest.mark.parametrize("layout", [layout for layout in LAYOUTS if layout != "L2016"])
def test_real_letters_in_every_other_layout_keep_what_that_layout_prints(layout):
    """Each real letter rendered (as text) in another layout reads back with the fields that layout carries."""
    failures = []
    for name in LETTERS:
        letter = original(name).model_copy(
            update={"layout": layout, "documents_reviewed": ["Progress report, 11/02/2016", "UR determination, 11/09/2016"]}
        )
        again = parse_text(render(letter, "text"), name)
        diff = differences(surviving_fields(letter), surviving_fields(again, layout))
        if diff:
            failures.append(f"{name}: {diff[:3]}")
    assert failures == []


def test_2013_text_letter_round_trips(letter_2013_text: Path):
    letter = read_letter(letter_2013_text)
    assert letter.layout == "L2013"
    for fmt in ("text", "pdf"):
        rendered = render(letter, fmt)
        again = read_letter(rendered) if fmt == "pdf" else parse_text(rendered)
        assert differences(letter.model_dump(mode="json"), again.model_dump(mode="json")) == [], fmt
