"""Publication: redaction of parties, addresses, DOB and claim numbers; measured on the 129 real letters."""

from __future__ import annotations

import json

import pytest

from bench.redaction_plant import as_text, make_case, plant, survivors
from openimr.cases.intake import parse_application
from openimr.cases.redact import Redactor, for_application

CLINICAL = (
    "MRI of the lumbar spine at L4-L5 showed a 3 mm protrusion. Norco 10/325 mg #60 was renewed on "
    "March 3, 2016 per MTUS Chronic Pain Medical Treatment Guidelines page 80."
)


def test_known_parties_in_every_written_form(app_data):
    redactor = for_application([parse_application(app_data)])
    text = (
        "The applicant, Maria Gonzalez (DOB: 01/02/1980), of 1234 Elm Street, Fresno, CA 93701, "
        "GONZALEZ, MARIA, claim WC2025001234, employed by Acme Logistics, was seen by Dr. Reyes at "
        "Valley Surgery Center; born January 2, 1980. Adjuster Peter Novak of Golden State Claims Services. "
        + CLINICAL
    )
    out = redactor.redact_text(text)
    for gone in ("Gonzalez", "GONZALEZ", "Maria", "01/02/1980", "1234 Elm", "93701", "WC2025001234", "Acme",
                 "Reyes", "Valley Surgery", "January 2, 1980", "Novak", "Golden State"):
        assert gone not in out
    assert out.endswith(CLINICAL)
    assert out.startswith("The applicant,  (DOB: ), of ")


def test_patterns_without_known_parties():
    out = Redactor().redact_text(
        "Seen by Dr. John Smith. Claim No.: ABC-12345. ADJ9876543. Phone (559) 555-1212. "
        "Lives at 77 Oak Ave, Visalia, CA 93277. Date of birth: 4/5/1966. " + CLINICAL
    )
    for gone in ("John", "Smith", "ABC-12345", "ADJ9876543", "555-1212", "77 Oak", "Visalia", "4/5/1966"):
        assert gone not in out
    assert CLINICAL in out


def test_removed_name_leaves_two_spaces_like_the_published_letters():
    redactor = Redactor()
    redactor.add_name("Tom Baker", "employee")
    assert redactor.redact_text("The applicant is a represented Tom Baker employee") == (
        "The applicant is a represented  employee"
    )


@pytest.fixture(scope="module")
def real_letters(letter_pdfs):
    import openimr

    return [(pdf.name, openimr.read_letter(pdf)) for pdf in letter_pdfs]


REVIEWER = {
    "id": "R-PAIN-01", "name": "Dr. Hidden Reviewername", "profession": "MD",
    "licenses": [{"state": "CA", "unrestricted": True}, {"state": "OR", "unrestricted": True}],
    "board_certifications": [{"board": "ABA", "specialty": "Pain Medicine", "current": True}],
    "years_active_practice": 12, "hours_per_week": 30,
}


def test_cli_publish_with_letter_and_assigned_reviewer(cli, write_json, db_url, real_letters, tmp_path):
    name, letter = real_letters[0]
    planted = make_case(0, outsiders=False)
    planted.application["received"] = "2016-11-14"
    planted.application["ur_decision"]["items"] = [{"request": "Facet joint injections L4-5, L5-S1", "outcome": "denied"}]
    number = cli("case", "new", write_json(planted.application), "--db", db_url).stdout.split(":")[0]
    assert cli("panel", "add", write_json(REVIEWER), "--db", db_url).exit_code == 0
    assert cli("case", "assign", number, "--db", db_url, "--on", "2016-11-20").exit_code == 0
    dirty = plant(letter, planted)
    dirty = dirty.model_copy(update={"clinical_case_summary": dirty.clinical_case_summary + " Reviewed by Dr. Hidden Reviewername."})
    letter_file = write_json(json.loads(dirty.model_dump_json()), "letter.json")
    out = tmp_path / "published.txt"
    result = cli("case", "publish", number, "--letter", letter_file, "--format", "text", "--out", out, "--db", db_url)
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    for form in [form for _, form in planted.forms] + ["Reviewername"]:
        assert form not in text
    assert "Oregon" in text and "Pain Medicine" in text  # the assigned reviewer's credentials block
    assert "Facet joint injections" in text
    case = json.loads(cli("case", "show", number, "--db", db_url).stdout)
    assert case["status"] == "published" and case["has_letter"]
    assert cli("audit", "verify", "--db", db_url).exit_code == 0


def test_cli_publish_without_letter_is_one_line(cli, write_json, app_data, db_url):
    number = cli("case", "new", write_json(app_data), "--db", db_url).stdout.split(":")[0]
    result = cli("case", "publish", number, "--db", db_url)
    assert result.exit_code == 1 and "no letter yet" in result.stderr
    bad = write_json({"layout": "L2016", "items": [{"request": "x"}]}, "bad-letter.json")
    result = cli("case", "publish", number, "--letter", bad, "--db", db_url)
    assert result.exit_code == 1 and "items.0.decision" in result.stderr
    assert json.loads(cli("case", "show", number, "--db", db_url).stdout)["has_letter"] is False


def test_short_and_apostrophe_names_alone():
    redactor = Redactor()
    redactor.add_name("Li O'Brien", "employee")
    redactor.add_name("An García-López", "physician")
    out = redactor.redact_text("Li said O'Brien and García-López agreed. In an exam, li was not capitalised. An MRI.")
    assert "Li " not in out and "O'Brien" not in out and "García-López" not in out
    assert "In an exam,  was not capitalised. An MRI." in out  # a name part in any case; "An" is never one alone


def test_publish_pdf_through_the_letter_writer(cli, write_json, sqlite_url, real_letters, tmp_path):
    import pypdfium2

    name, letter = real_letters[5]
    planted = make_case(5, outsiders=False)
    number = cli("case", "new", write_json(planted.application), "--db", sqlite_url).stdout.split(":")[0]
    letter_file = write_json(json.loads(plant(letter, planted).model_dump_json()), "letter.json")
    out = tmp_path / "published.pdf"
    result = cli("case", "publish", number, "--letter", letter_file, "--format", "pdf", "--out", out, "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    pdf = pypdfium2.PdfDocument(str(out))
    text = "\n".join(page.get_textpage().get_text_range() for page in pdf)
    assert letter.items[0].request.split()[0] in text
    assert survivors(text, planted, as_text(letter)) == []


def test_published_pdf_is_the_mailed_letter_without_parties(cli, write_json, sqlite_url, real_letters, tmp_path):
    """The published PDF is written by render_determination(published=True): the organization's
    letterhead, how the determination was made, the appeal rights, the documents reviewed
    without the providers who are people, and no party's name or claim number."""
    import pypdfium2

    from openimr.letters.write import APPEAL_HEADING
    from openimr.letters.write.organization import configured_organization

    name, letter = real_letters[5]
    planted = make_case(5, outsiders=False)
    application = planted.application
    physician = application["requesting_physician"]["name"]
    number = cli("case", "new", write_json(application), "--db", sqlite_url).stdout.split(":")[0]
    dirty = plant(letter, planted).model_copy(update={"documents_reviewed": [
        f"Progress report, {physician}, 03/01/2016", "Utilization review determination, 02/11/2016",
        "MRI lumbar spine report, Dr. Winifred Quackenbush, 01/20/2016"]})
    letter_file = write_json(json.loads(dirty.model_dump_json()), "letter.json")
    out = tmp_path / "published.pdf"
    result = cli("case", "publish", number, "--letter", letter_file, "--format", "pdf", "--out", out, "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    text = " ".join("\n".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(str(out))).split())
    organization = configured_organization()
    assert organization.name in text and organization.address[-1] in text  # the letterhead
    assert APPEAL_HEADING in text and "within 30" in text  # the appeal rights
    assert "Progress report" in text and "MRI lumbar spine report" in text  # the documents reviewed ...
    assert "Quackenbush" not in text and physician.split()[-1] not in text  # ... without the providers' names
    assert organization.name in text.split(APPEAL_HEADING)[0]
    for party in ("employee", "employer", "claims_administrator"):
        assert application[party]["name"] not in text
    assert application["employee"]["claim_number"] not in text
    assert "Claim Number:" not in text and "Employee:" not in text  # no party rows at all
    assert survivors(text, planted, as_text(letter)) == []


def test_initials_without_dots_are_removed_unless_they_spell_a_clinical_abbreviation():
    redactor = Redactor()
    redactor.add_name("Jonah Q. Szabo", "employee")
    redactor.add_name("Dr. Paula Thorne, M.D.", "physician")  # P.T.: physical therapy's letters
    redactor.add_name("Ines de la Cruz-Vidal", "attorney")
    out = redactor.redact_text(
        "JQS was seen; JS. denied numbness; per J.S the pain is 6/10. P.T. signed; PT 2x4 was asked. "
        "ID and IV wrote; JSX-2 and JS/kg stay. " + CLINICAL
    )
    assert out.startswith(" was seen; . denied numbness; per  the pain is 6/10.  signed; PT 2x4 was asked. ")
    # ID (de la Cruz) goes; IV (Vidal) is also the intravenous route and stays
    assert " and IV wrote; JSX-2 and JS/kg stay. " in out
    assert out.endswith(CLINICAL)


def test_publishing_twice_records_one_publication(cli, write_json, db_url, real_letters, tmp_path):
    """`openimr case publish` run twice with the same letter (and once more in another
    format) gives the same letter each time and records one attach_letter and one publish."""
    name, letter = real_letters[2]
    planted = make_case(2, outsiders=False)
    number = cli("case", "new", write_json(planted.application), "--db", db_url).stdout.split(":")[0]
    letter_file = write_json(json.loads(plant(letter, planted).model_dump_json()), "letter.json")
    first = cli("case", "publish", number, "--letter", letter_file, "--db", db_url)
    second = cli("case", "publish", number, "--letter", letter_file, "--db", db_url)
    assert first.exit_code == 0 and second.exit_code == 0, second.stderr
    assert first.stdout == second.stdout and json.loads(first.stdout)["items"]
    out = tmp_path / "published.txt"
    again = cli("case", "publish", number, "--format", "text", "--out", out, "--db", db_url)
    assert again.exit_code == 0 and "published already, nothing recorded" in again.stdout
    events = json.loads(cli("audit", "show", number, "--json", "--db", db_url).stdout)
    actions = [e["action"] for e in events]
    assert actions.count("publish") == 1 and actions.count("attach_letter") == 1, actions
    assert json.loads(cli("case", "show", number, "--db", db_url).stdout)["status"] == "published"
    assert cli("audit", "verify", "--db", db_url).exit_code == 0
