"""Readers of the layouts with no real sample (L2013-notice, L2015, L-professional):
the kept samples read back, and the readers are tolerant of what happens to text."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from openimr.letters.read import LetterError, parse_text, read_letter
from openimr.letters.read.source import letter_text
from openimr.letters.write import render, surviving_fields
from openimr.letters.write.wording import wording
from openimr.models import Letter
from tests.conftest import FIXTURES

SAMPLE_DIR = FIXTURES / "letters"
LAYOUTS = ("L2013-notice", "L2015", "L-professional")
MODULES = {
    "L2013-notice": "openimr.letters.read.l2013_notice",
    "L2015": "openimr.letters.read.l2015",
    "L-professional": "openimr.letters.read.professional",
}


def load(layout: str) -> tuple[str, Letter]:
    stem = SAMPLE_DIR / f"{layout}-sample"
    return Path(f"{stem}.txt").read_text(encoding="utf-8"), Letter.model_validate_json(Path(f"{stem}.json").read_text())


def assert_same(expected: Letter, actual: Letter, layout: str) -> None:
    assert surviving_fields(actual, layout) == surviving_fields(expected, layout)


def test_kept_samples_are_what_the_generator_writes_today():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_layout_samples", Path(__file__).with_name("make_layout_samples.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = module.sample_files()
    assert sorted(files) == sorted(f"{layout}-sample" for layout in LAYOUTS)
    for stem, (letter_json, text) in files.items():
        assert (SAMPLE_DIR / f"{stem}.json").read_text(encoding="utf-8") == letter_json, stem
        assert (SAMPLE_DIR / f"{stem}.txt").read_text(encoding="utf-8") == text, stem


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sample_reads_back_as_its_layout(layout):
    text, letter = load(layout)
    assert any(item.decision == "Overturned" for item in letter.items)
    assert any(item.original_request for item in letter.items)
    read = read_letter(SAMPLE_DIR / f"{layout}-sample.txt")
    assert read.layout == layout
    assert_same(letter, read, layout)
    assert read.documents_reviewed == letter.documents_reviewed
    assert [i.imr_guideline.scope for i in read.items] == [i.imr_guideline.scope for i in letter.items]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sample_as_pdf_reads_back(layout):
    _, letter = load(layout)
    assert_same(letter, read_letter(render(letter, "pdf")), layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_crlf_and_extra_spaces(layout):
    text, letter = load(layout)
    messy = "\r\n".join("  " + line.replace(" ", "   ") + " \t" for line in text.split("\n"))
    assert_same(letter, parse_text(messy), layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_headings_split_over_lines(layout):
    text, letter = load(layout)
    for heading in wording(layout).headings.values():
        words = heading.split()
        if len(words) > 2:
            text = text.replace(heading, " ".join(words[:2]) + "\n" + " ".join(words[2:]))
    assert_same(letter, parse_text(text), layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_text_pasted_from_a_pdf_viewer(layout):
    _, letter = load(layout)
    _, pasted = letter_text(render(letter, "pdf", draft=True))
    assert "Page 1 of" in pasted
    assert_same(letter, parse_text(pasted), layout)


def _sections(text: str, layout: str) -> tuple[str, list[str]]:
    """The text before the first heading, and the blocks each starting at a heading."""
    headings = [h for key, h in wording(layout).headings.items() if key not in ("title", "subtitle", "notice")]
    pattern = re.compile(r"^(?:" + "|".join(re.escape(h) for h in headings) + r")", re.MULTILINE)
    starts = [m.start() for m in pattern.finditer(text)]
    return text[: starts[0]], [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sections_in_another_order(layout):
    text, letter = load(layout)
    head, blocks = _sections(text, layout)
    reordered = head + "".join(reversed(blocks))
    assert reordered != text
    assert_same(letter, parse_text(reordered), layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_missing_section_loses_only_its_own_fields(layout):
    text, letter = load(layout)
    head, blocks = _sections(text, layout)
    summary_heading = wording(layout).headings["summary"]
    kept = [b for b in blocks if not b.startswith(summary_heading)]
    assert len(kept) == len(blocks) - 1
    read = parse_text(head + "".join(kept))
    assert read.clinical_case_summary == ""
    expected = surviving_fields(letter.model_copy(update={"clinical_case_summary": ""}), layout)
    assert surviving_fields(read, layout) == expected


@pytest.mark.parametrize("layout", LAYOUTS)
def test_only_its_own_reader_detects_the_sample(layout):
    text, _ = load(layout)
    detected = [name for name, module in MODULES.items() if importlib.import_module(module).detect(text)]
    assert detected == [layout]


def test_real_letters_are_not_taken_for_the_sample_layouts(letter_pdfs, letter_2013_text):
    texts = [letter_text(path)[1] for path in letter_pdfs[::4]] + [letter_2013_text.read_text(encoding="utf-8")]
    for module in MODULES.values():
        detect = importlib.import_module(module).detect
        assert not any(detect(text) for text in texts), module


@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_items_is_a_one_line_error_naming_the_file(layout):
    text, _ = load(layout)
    module = importlib.import_module(MODULES[layout])
    cut = text.split(wording(layout).headings["summary"])[0]
    cut = re.sub(r"(?m)^.*(?:has determined|Item \d|: Upheld|: Overturned|guideline:).*$", "", cut)
    with pytest.raises(LetterError) as error:
        module.parse(cut, "broken.txt")
    assert str(error.value).startswith("broken.txt: ") and "\n" not in str(error.value)


def test_notice_without_item_analysis_reads_its_findings_even_with_glued_words():
    """Published notices glue words ("notmedically"); the findings alone still give the decisions."""
    text, letter = load("L2013-notice")
    findings_only = text.split(wording("L2013-notice").headings["analysis"])[0].replace(" not medically", " notmedically")
    read = parse_text(findings_only)
    assert [(i.decision, i.medically_necessary) for i in read.items] == [
        (i.decision, i.medically_necessary) for i in letter.items
    ]
    assert [i.request for i in read.items] == [i.disputed_request or i.request for i in letter.items]
