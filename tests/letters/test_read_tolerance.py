"""The reader is tolerant: CRLF, extra spaces, split headings, pasted text, page breaks."""

from __future__ import annotations

import re

import pytest

from openimr.letters.read import parse_text
from openimr.letters.read.source import letter_text
from tests.conftest import LETTERS_DIR

SAMPLES = ["CM16-0230651.pdf", "CM16-0249724.pdf", "CM17-0006634.pdf", "CM16-0238035.pdf"]


@pytest.fixture(scope="module", params=SAMPLES)
def original(request):
    _, text = letter_text(LETTERS_DIR / request.param)
    return text, parse_text(text)


def _same(a, b):
    assert a.model_dump() == b.model_dump()


def test_crlf_line_ends(original):
    text, letter = original
    _same(parse_text(text.replace("\n", "\r\n")), letter)


def test_extra_spaces_and_trailing_blanks(original):
    text, letter = original
    spaced = "\n".join("  " + line.replace(" ", "  ") + "   " for line in text.split("\n"))
    _same(parse_text(spaced), letter)


def test_headings_split_over_lines(original):
    text, letter = original
    split = text.replace("CLINICAL CASE SUMMARY", "CLINICAL CASE\nSUMMARY")
    split = split.replace("IMR ISSUES, DECISIONS AND RATIONALES", "IMR ISSUES, DECISIONS\nAND RATIONALES")
    split = split.replace("HOW THE IMR FINAL DETERMINATION WAS MADE", "HOW THE IMR FINAL\nDETERMINATION WAS MADE")
    _same(parse_text(split), letter)


def test_page_breaks_and_blank_lines_anywhere_in_item_headings(original):
    text, letter = original
    lines = text.split("\n")
    broken = []
    for line in lines:
        broken.append(line)
        if re.search(r"(Upheld|Overturned)\s*$", line):
            continue
        if len(line) > 60 and not line.rstrip().endswith("."):
            broken.append("\f")
    _same(parse_text("\n".join(broken)), letter)


def test_pasted_from_a_viewer_with_form_feeds_and_no_break_spaces(original):
    text, letter = original
    pasted = text.replace(" of ", "\u00a0of ").replace("\n", "\r\n", 3) + "\n\f\n"
    _same(parse_text(pasted), letter)


def test_page_footers_are_not_part_of_the_letter(original):
    text, letter = original
    lines = text.split("\n")
    with_footers = []
    for index, line in enumerate(lines, 1):
        with_footers.append(line)
        if index % 40 == 0:
            with_footers.append(f"Page {index // 40} of 9")
    _same(parse_text("\n".join(with_footers)), letter)
