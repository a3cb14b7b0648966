"""The L2013-notice reader on the published notices' own wording, not only our writer's.

The fixture follows the structure of a published mid-2013 notice (title and "Dated:" run
together on one line, "1)" findings printed twice, "notmedically" glued, the procedural
paragraph "was filed on ... disputing the Utilization Review Denial dated ... provided to
the above parties on ...", prose credentials, a "Disclaimer:" before the case summary),
with the clinical text and the per-item blocks written here.
"""

from __future__ import annotations

from datetime import date

from openimr import read_letter
from tests.conftest import FIXTURES

TEXT = (FIXTURES / "letters" / "L2013-notice-published-form.txt").read_text()


def test_header_dates_and_credentials_from_the_published_wording():
    letter = read_letter(TEXT)
    assert letter.layout == "L2013-notice"
    assert letter.decision_date == date(2013, 9, 26)
    assert letter.application_received == date(2013, 9, 6)
    assert letter.ur_denial_date == date(2013, 8, 30)
    assert letter.date_assigned == date(2013, 9, 23)
    assert letter.reviewer.specialties == ["Occupational Medicine"]
    assert letter.reviewer.licensure == ["California"]


def test_findings_printed_twice_are_one_item_each():
    letter = read_letter(TEXT)
    assert [(i.request, i.decision) for i in letter.items] == [
        ("a 28 day functional restoration program", "Upheld"),
        ("a 6 month follow-up aftercare program", "Overturned"),
    ]
    assert letter.items[0].imr_guideline.guideline == "Shoulder Complaints"
    assert letter.items[0].claims_administrator_guideline.scope == "non-MTUS"


def test_summary_without_disclaimer_or_item_blocks():
    summary = read_letter(TEXT).clinical_case_summary
    assert summary.startswith("The patient is a 44 year-old female")
    assert "Disclaimer" not in summary and "Disputed Item" not in summary


def test_findings_alone_still_give_the_decisions():
    """Without per-item blocks the numbered findings decide (glued 'notmedically' too)."""
    opening = TEXT[: TEXT.index("Disputed Item 1:")]
    letter = read_letter(opening)
    assert [(i.request, i.decision) for i in letter.items] == [
        ("a 28 day functional restoration program", "Upheld"),
        ("a 6 month follow-up aftercare program", "Overturned"),
    ]
