"""The writer: every layout in text, HTML and PDF; page footers; the draft banner."""

from __future__ import annotations

import re

import pypdfium2
import pytest

from openimr.letters.read.common import collapse
from openimr.letters.write import DRAFT_BANNER, FORMATS, SURVIVING_FIELDS, render, strip_render_artifacts
from openimr.letters.write.blocks import item_heading
from openimr.letters.write.samples import RandomChooser, sample_letter
from openimr.letters.write.wording import _validate, all_wordings, wording
from openimr.models import LAYOUTS, Item

FOOTER = re.compile(r"^Page (\d+) of (\d+)$")


def pdf_pages(data: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range().replace("\r\n", "\n") for page in pdf]
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def letter():
    sample = sample_letter(RandomChooser(24), "L2016")
    first = sample.items[0]
    sample.items[0] = first.model_copy(update={"request": "Shoulder sling <large> & strap \"as needed\""})
    sample.documents_reviewed = ["Progress report, 01/04/2017", "MRI report of the lumbar spine, 12/12/2016"]
    return sample


@pytest.fixture(scope="module")
def pdfs(letter):
    """One PDF per layout, and one draft, rendered once for the module."""
    rendered = {layout: render(letter, "pdf", layout=layout) for layout in LAYOUTS}
    rendered["draft"] = render(letter, "pdf", draft=True)
    return rendered


@pytest.mark.parametrize("layout", LAYOUTS)
def test_text_carries_the_layouts_headings_and_every_item(letter, layout):
    text = render(letter, "text", layout=layout)
    flat = collapse(text)
    for heading in wording(layout).headings.values():
        assert collapse(heading) in flat, heading
    for item in letter.items:
        assert collapse(item.rationale) in flat
        assert collapse(item.imr_guideline.text) in flat
    assert "Page 1 of" not in text and DRAFT_BANNER not in text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_html_is_one_escaped_page_with_headings(letter, layout):
    html = render(letter, "html", layout=layout)
    assert html.startswith("<!DOCTYPE html>") and html.count("<html") == 1
    assert "Shoulder sling &lt;large&gt; &amp; strap &#34;as needed&#34;" in html
    assert "<large>" not in html
    assert html.count("<h2>") >= 3
    assert "counter(pages)" in html  # the print footer


@pytest.mark.parametrize("layout", LAYOUTS)
def test_pdf_pages_carry_page_n_of_m_and_the_text(letter, pdfs, layout):
    pages = pdf_pages(pdfs[layout])
    assert len(pages) >= 1
    for number, page in enumerate(pages, 1):
        footers = [m.groups() for line in page.split("\n") if (m := FOOTER.match(line.strip()))]
        assert footers == [(str(number), str(len(pages)))]
    # the text read across pages, without the footers a page break puts inside a paragraph
    flat = collapse(" ".join(line for page in pages for line in page.split("\n") if not FOOTER.match(line.strip())))
    assert 'Shoulder sling <large> & strap "as needed"' in flat
    assert collapse(letter.items[-1].rationale) in flat
    if "case_number" in SURVIVING_FIELDS[layout]:
        assert letter.case_number in flat


def test_draft_text_is_the_letter_plus_a_banner_that_strips_away(letter):
    draft = render(letter, "text", draft=True)
    assert draft.splitlines()[0] == DRAFT_BANNER
    assert strip_render_artifacts(draft).lstrip("\n") == render(letter, "text")


def test_draft_html_and_pdf_carry_the_banner_on_every_page(letter, pdfs):
    assert DRAFT_BANNER in render(letter, "html", draft=True)
    assert DRAFT_BANNER not in render(letter, "html")
    pages = pdf_pages(pdfs["draft"])
    assert all(DRAFT_BANNER in page for page in pages)
    plain = pdf_pages(pdfs["L2016"])
    assert collapse(strip_render_artifacts("\n".join(pages))) == collapse(strip_render_artifacts("\n".join(plain)))


def test_strip_render_artifacts_takes_only_whole_artifact_lines():
    text = (
        "Page 3 of 7\nPage 309 recommends injections.\nAs noted on Page 1 of 2 of the report.\n"
        f"  {DRAFT_BANNER}  \r\nDRAFT - recommendation, not signed\nA DRAFT letter.\n"
    )
    assert strip_render_artifacts(text) == (
        "Page 309 recommends injections.\nAs noted on Page 1 of 2 of the report.\nA DRAFT letter.\n"
    )


def test_dates_print_mm_dd_yyyy(letter):
    text = render(letter, "text", layout="L2016")
    assert f"Date Assigned: {letter.date_assigned:%m/%d/%Y}" in text
    assert re.search(r"Received:\n\d{2}/\d{2}/\d{4}\n", text)


def test_modified_request_heading_from_its_parts():
    item = Item(
        request="Physical therapy 2 sessions",
        decision="Upheld",
        medically_necessary=False,
        original_request="Physical therapy 8 sessions",
        authorized="Physical therapy 6 sessions",
        disputed_request="Physical therapy 2 sessions",
    )
    assert item_heading(item) == (
        "Physical therapy 8 sessions was the original request. Physical therapy 6 sessions was authorized by the "
        "Claims Administrator. The remaining IMR eligible portion of the original request, Physical therapy 2 sessions is"
    )
    printed = item.model_copy(update={"request": item_heading(item)[: -len(" is")]})
    assert item_heading(printed) == item_heading(item)
    plain = Item(request="MRI of the lumbar spine", decision="Overturned", medically_necessary=True)
    assert item_heading(plain) == "MRI of the lumbar spine"


def test_unknown_layout_or_format_is_refused(letter):
    with pytest.raises(ValueError, match="unknown layout"):
        render(letter, "text", layout="L1999")
    with pytest.raises(ValueError, match="unknown format"):
        render(letter, "docx")
    assert FORMATS == ("text", "html", "pdf")


def test_wording_file_is_validated():
    assert set(all_wordings()) == set(LAYOUTS)
    good = {name: w.model_dump() for name, w in all_wordings().items()}
    with pytest.raises(ValueError, match="missing"):
        _validate({k: v for k, v in good.items() if k != "L2015"})
    broken = dict(good, L2016={**good["L2016"], "labels": {"case_number": "Case Number:"}})
    with pytest.raises(ValueError, match="lacks labels"):
        _validate(broken)


def test_every_layout_has_a_surviving_fields_entry():
    assert set(SURVIVING_FIELDS) == set(LAYOUTS)
    for fields in SURVIVING_FIELDS.values():
        assert "items" in fields and "layout" in fields
