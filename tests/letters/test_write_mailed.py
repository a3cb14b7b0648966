"""The mailable Final Determination letter (render_determination), rendered to PDF by
WeasyPrint and read back with pypdfium2 and the project's reader: letterhead, parties,
documents reviewed, how the determination was made, appeal rights, a superseded letter;
the published version without the parties; never the reviewer's name."""

from __future__ import annotations

import json
import re

import pypdfium2
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from openimr.cli import app
from openimr.letters.read import parse_text, read_letter
from openimr.letters.read.common import collapse
from openimr.letters.write import APPEAL_HEADING, render, render_determination, surviving_fields
from openimr.letters.write.mailing import document_dates
from openimr.letters.write.organization import (
    ORGANIZATION_ENV,
    OrganizationError,
    configured_organization,
    load_organization,
)
from openimr.letters.write.samples import RandomChooser, sample_context
from openimr.models import LAYOUTS, LetterContext, ReviewerCredentials

REVIEWER_NAME = "Dr. Evelyn Hargrove"
PARTY_KEYS = ("employee", "employer", "claims_administrator", "requesting_physician", "attorney", "claim_number")


def pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def pdf_image_count(data: bytes) -> int:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return sum(
            1 for page in pdf for obj in page.get_objects() if obj.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE
        )
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def context() -> LetterContext:
    ctx = sample_context(RandomChooser(7), "L2016", supersedes=True)
    # The panel's statement is free text: a name in it must never reach the letter.
    reviewer = ctx.reviewer.model_copy(update={"statement": f"{REVIEWER_NAME} reviewed this case."})
    items = [ctx.letter.items[0].model_copy(update={"decision": "Overturned", "medically_necessary": True})]
    letter = ctx.letter.model_copy(update={"items": items + ctx.letter.items[1:]})
    return ctx.model_copy(update={"reviewer": reviewer, "letter": letter})


@pytest.fixture(scope="module")
def png_organization(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("org")
    Image.new("RGB", (64, 64), (31, 78, 121)).save(folder / "seal.png")
    path = folder / "org.yaml"
    path.write_text(
        "name: Coastal Review Partners, Inc.\nshort_name: Coastal Review\naddress: [PO Box 100, 'Fresno, CA 93701']\n"
        "phone: (559) 555-0188\nlogo: seal.png\n",
        encoding="utf-8",
    )
    return load_organization(path)


@pytest.fixture(scope="module")
def mailed(context):
    return render_determination(context, "pdf")


@pytest.fixture(scope="module")
def published(context):
    return render_determination(context, "pdf", published=True)


def test_mailed_pdf_has_letterhead_parties_documents_and_appeal_rights(context, mailed):
    organization = configured_organization()
    text = collapse(pdf_text(mailed.content))
    assert organization.name in text
    for line in organization.address:
        assert line in text
    assert organization.phone in text
    for key in PARTY_KEYS:
        assert getattr(context.parties, key) in text, key
    assert f"Claim Number: {context.parties.claim_number}" in text
    for document in context.documents:
        row = collapse(f"{document.title} {document.author} {document_dates(document)}")
        assert row in text, row
    assert APPEAL_HEADING in text
    assert "within 30 days" in text and "Workers' Compensation Appeals Board (WCAB)" in text
    assert "Labor Code section 4610.6(h)" in text
    assert "clear and convincing" in text and "obtained by fraud" in text and "139.5" in text
    assert f"IMR case number {context.letter.case_number}" in text
    # An item was Overturned: the claims administrator's duty to authorize is stated.
    assert "within 5 working days" in text


def test_mailed_pdf_says_which_letter_it_supersedes_and_why(context, mailed):
    text = collapse(pdf_text(mailed.content))
    old = context.supersedes
    assert "SUPERSEDES AN EARLIER FINAL DETERMINATION" in text
    assert f"Final Determination {old.determination} dated {old.date:%m/%d/%Y}" in text
    assert old.reason in text


def test_how_the_determination_was_made_comes_from_the_credentials_never_a_name(context, mailed, published):
    for rendered in (mailed, published):
        text = collapse(pdf_text(rendered.content))
        assert REVIEWER_NAME not in text and "Hargrove" not in text
        assert f"{context.reviewer.years_in_practice} years" in text
        assert "State(s) of Licensure: " + ", ".join(context.reviewer.licensure) in text
        assert "Certification(s)/Specialty: " + ", ".join(context.reviewer.specialties) in text
        assert "no material professional, family or financial tie" in text
        assert "attested to having reviewed the records of the case and decided each disputed item" in text
    assert REVIEWER_NAME not in mailed.letter.model_dump_json()


def test_a_name_for_the_reviewer_is_refused():
    with pytest.raises(ValidationError, match="name"):
        ReviewerCredentials.model_validate({"licensure": ["California"], "name": REVIEWER_NAME})
    letter = sample_context(RandomChooser(2)).letter.model_dump(mode="json")
    with pytest.raises(ValidationError, match="reviewer_name"):
        LetterContext.model_validate({"letter": letter, "reviewer_name": REVIEWER_NAME})

    class PanelReviewer:  # what the panel stores: it has a name, and it is not a credentials block
        name = REVIEWER_NAME
        licensure = ["California"]

    with pytest.raises(ValidationError):
        LetterContext.model_validate({"letter": letter, "reviewer": PanelReviewer()})
    with pytest.raises(TypeError):
        render_determination({"letter": letter}, "text")


def test_published_version_has_none_of_the_parties(context, published):
    text = collapse(pdf_text(published.content))
    for key in PARTY_KEYS:
        assert getattr(context.parties, key) not in text, key
    for document in context.documents:
        assert document.author not in text
        assert collapse(f"{document.title} {document_dates(document)}") in text
    assert "Claim Number" not in text and "Employee:" not in text
    assert context.letter.case_number in text and APPEAL_HEADING in text
    assert configured_organization().name in text
    assert context.supersedes.reason in text
    assert all(author not in " ".join(published.letter.documents_reviewed or []) for author in
               (d.author for d in context.documents))


def test_the_reader_reads_the_mailed_and_published_pdfs_back(mailed, published):
    for rendered in (mailed, published):
        back = read_letter(rendered.content)
        assert surviving_fields(back) == surviving_fields(rendered.letter)
        # The appeal rights and the copies are not read into the last rationale.
        assert "WCAB" not in back.items[-1].rationale


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_mailed_as_text_reads_back(layout):
    context = sample_context(RandomChooser(11), layout, supersedes=True)
    for flag in (False, True):
        rendered = render_determination(context, "text", published=flag)
        assert rendered.letter.layout == layout
        text = rendered.content
        assert (context.parties.employee in text) is not flag
        assert APPEAL_HEADING in text and context.supersedes.reason in collapse(text)
        if layout != "L2015":  # (L2015 keeps its title: its reader knows the layout by it)
            assert "MAXIMUS" not in text.upper(), "the organization is the configured one"
        back = parse_text(text)
        assert surviving_fields(back, layout) == surviving_fields(rendered.letter, layout)


def test_the_organization_file_gives_letterhead_logo_and_guideline_label(context, png_organization, monkeypatch):
    rendered = render_determination(context, "pdf", organization=png_organization)
    text = collapse(pdf_text(rendered.content))
    assert "Coastal Review Partners, Inc." in text and "PO Box 100" in text and "(559) 555-0188" in text
    assert "Coastal Review guideline:" in text and "MAXIMUS" not in text
    assert pdf_image_count(rendered.content) == 1  # the logo, embedded
    assert read_letter(rendered.content).review_organization == "Coastal Review"
    # The deployment setting: $OPENIMR_ORGANIZATION points at the organization's own file.
    monkeypatch.setenv(ORGANIZATION_ENV, str(png_organization.logo.parent / "org.yaml"))
    assert configured_organization().name == "Coastal Review Partners, Inc."
    html = render_determination(context, "html").content
    assert "Coastal Review Partners, Inc." in html and 'src="data:image/png;base64,' in html


def test_the_bundled_organization_embeds_its_logo():
    html = render_determination(sample_context(RandomChooser(1)), "html", organization=load_organization()).content
    assert 'src="data:image/svg+xml;base64,' in html


@pytest.mark.parametrize(
    "content, reason",
    [
        ("name: X\naddress: [a]\n", "short_name: Field required"),
        ("name: X\nshort_name: lower case\naddress: [a]\n", "short_name: String should match pattern"),
        ("name: X\nshort_name: Claims Administrator\naddress: [a]\n", "short_name: Value error"),
        ("name: X\nshort_name: Org\naddress: []\n", "address: List should have at least 1 item"),
        ("name: X\nshort_name: 'Two  Spaces'\naddress: [a]\n", "short_name: Value error, must have single spaces"),
        ("name: X\nshort_name: O\naddress: [a]\n", "short_name: String should match pattern"),
        ("name: X\nshort_name: Org\naddress: [a]\nlogo: missing.png\n", "logo: "),
        ("name: X\nshort_name: Org\naddress: [a]\nlogo: org.yaml\n", "logo: org.yaml is not a PNG, JPEG or SVG"),
        ("name: X\nshort_name: Org\naddress: [a]\nlogo: fake.png\n", "logo: fake.png does not hold PNG data"),
        ("name: X\nshort_name: Org\naddress: [a]\nmotto: hi\n", "motto: Extra inputs are not permitted"),
        ("name: [unclosed\n", "not YAML"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_a_bad_organization_file_is_one_line_naming_file_and_field(tmp_path, content, reason):
    (tmp_path / "fake.png").write_bytes(b"not a png")
    path = tmp_path / "org.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OrganizationError) as error:
        load_organization(path)
    message = str(error.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


def test_the_pdf_fetches_nothing_but_the_embedded_logo(tmp_path, context):
    secret = tmp_path / "secret.png"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(secret)
    (tmp_path / "logo.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
        f'<image xlink:href="file://{secret}" width="10" height="10"/></svg>',
        encoding="utf-8",
    )
    path = tmp_path / "org.yaml"
    path.write_text("name: X\nshort_name: Org\naddress: [a]\nlogo: logo.svg\n", encoding="utf-8")
    rendered = render_determination(context, "pdf", organization=load_organization(path))
    assert pdf_image_count(rendered.content) == 0  # the file the SVG points at was not fetched


def test_a_plain_render_is_unchanged_by_the_mailing(context):
    text = render(context.letter, "text")
    assert APPEAL_HEADING not in text and context.parties.employee not in text
    assert configured_organization().name not in text
    assert re.search(r"^MAXIMUS guideline:", text, re.MULTILINE)


def test_render_cli_prints_a_mailed_letter_and_refuses_bad_input(tmp_path, context, png_organization):
    runner = CliRunner()
    context_file = tmp_path / "context.json"
    context_file.write_text(context.model_dump_json(), encoding="utf-8")
    org = png_organization.logo.parent / "org.yaml"
    result = runner.invoke(app, ["render", str(context_file), "--organization", str(org)])
    assert result.exit_code == 0, result.output
    assert "Coastal Review Partners, Inc." in result.stdout and context.parties.employee in result.stdout
    result = runner.invoke(app, ["render", str(context_file), "--published"])
    assert result.exit_code == 0 and context.parties.employee not in result.stdout
    assert APPEAL_HEADING in result.stdout

    letter_file = tmp_path / "letter.json"
    letter_file.write_text(context.letter.model_dump_json(), encoding="utf-8")
    result = runner.invoke(app, ["render", str(letter_file), "--published"])
    assert result.exit_code == 1 and "need a mailed letter" in result.output
    bad = json.loads(context.model_dump_json())
    bad["reviewer"]["name"] = REVIEWER_NAME
    context_file.write_text(json.dumps(bad), encoding="utf-8")
    result = runner.invoke(app, ["render", str(context_file)])
    assert result.exit_code == 1
    assert "not a LetterContext (field reviewer.name: Extra inputs are not permitted)" in result.output
    assert "Traceback" not in result.output
    leaky = json.loads(context.model_dump_json())
    leaky["letter"]["clinical_case_summary"] += f" Seen with {context.parties.attorney}."
    context_file.write_text(json.dumps(leaky), encoding="utf-8")
    result = runner.invoke(app, ["render", str(context_file), "--published"])
    assert result.exit_code == 1 and "the attorney is still named" in result.output
    assert context.parties.attorney not in result.output and "Traceback" not in result.output
    context_file.write_text(context.model_dump_json(), encoding="utf-8")
    result = runner.invoke(app, ["render", str(context_file), "--organization", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1 and f"{tmp_path / 'none.yaml'}: no such file" in result.output


def test_parties_come_from_the_intake_application(context):
    from pathlib import Path

    from openimr.cases.intake import Application
    from openimr.letters.write.mailing import parties_of

    data = json.loads((Path(__file__).parents[1] / "cases" / "data" / "application.json").read_text(encoding="utf-8"))
    data["attorney"] = {"name": "Rosa Lind", "firm": "Lind & Ortiz LLP"}
    parties = parties_of(Application.model_validate(data))
    assert parties.employee == "Maria L. Gonzalez" and parties.claim_number == "WC-2025-001234"
    assert parties.attorney == "Rosa Lind, Lind & Ortiz LLP"
    assert parties.requesting_physician == "Dr. Alan Reyes"
    text = render_determination(context.model_copy(update={"parties": parties}), "text").content
    assert "Employee: Maria L. Gonzalez" in text and "Claims Administrator: Golden State Claims Services" in text
    assert "Employee's Attorney: Rosa Lind, Lind & Ortiz LLP" in text


def test_a_published_letter_still_naming_a_party_is_refused(context):
    from openimr.letters.write.mailing import PublishedNamesError

    leaky = context.letter.model_copy(
        update={"clinical_case_summary": f"{context.parties.employee} saw the physician on 11/08/2016."}
    )
    with pytest.raises(PublishedNamesError) as error:
        render_determination(context.model_copy(update={"letter": leaky}), "text", published=True)
    assert "the employee is still named" in str(error.value)
    assert context.parties.employee not in str(error.value)
    # The mailed (unpublished) letter may name the parties anywhere.
    assert context.parties.employee in render_determination(
        context.model_copy(update={"letter": leaky}), "text").content


def test_a_party_named_like_a_header_field_does_not_change_what_is_read(context):
    odd = context.parties.model_copy(update={"employer": "Date of Injury: 01/01/1999", "attorney": "Priority: Expedited"})
    rendered = render_determination(context.model_copy(update={"parties": odd}), "text")
    back = parse_text(rendered.content)
    assert back.date_of_injury == context.letter.date_of_injury
    assert back.priority == context.letter.priority
