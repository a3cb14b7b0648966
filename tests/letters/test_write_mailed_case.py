"""The mailed letter from a real case record (SQLite): the context the signing code builds
from the stored application, documents and credentials, rendered to PDF and read back.
This is the call documented in docs/letter-writer.md for the case part's signing."""

from __future__ import annotations

import json
from datetime import date

from openimr import db
from openimr.cases import record, store
from openimr.cases.intake import Application, parse_application
from openimr.cases.settings import load_settings
from openimr.letters.read import read_letter
from openimr.letters.read.common import collapse
from openimr.letters.write import APPEAL_HEADING, render_determination
from openimr.letters.write.mailing import parties_of
from openimr.models import DocumentReviewed, LetterContext, ReviewerCredentials, Supersedes
from tests.letters.test_write_mailed import pdf_text


def test_a_case_record_gives_the_mailed_letter_its_parties_and_documents(sqlite_url, app_data, on_panel):
    app_data["attorney"] = {"name": "Rosa Lind", "firm": "Lind & Ortiz LLP"}
    credentials = ReviewerCredentials(licensure=["California"], specialties=["Orthopedic Surgery"],
                                      years_in_practice=12, statement="ignored free text")
    store.ready(sqlite_url)
    on_panel(sqlite_url)
    with db.session_scope(sqlite_url) as session:
        number = store.create_case(session, parse_application(app_data, "app.json"), load_settings(),
                                   "intake")["case_number"]
        record.add_document(session, number, "clinical_summary", "Clinical summary", "Low back pain.", "intake",
                            day="2026-02-18")
        record.add_document(session, number, "medical_record", "PR-2 progress report", "Exam notes.", "intake",
                            day="2026-02-12")
        store.update(session, number, "assign", {"reviewer_id": "R-1", "credentials": credentials.model_dump_json()},
                     "admin")
        record.decide(session, number, 0, "Upheld", "MTUS", "Not supported by the records.", "R-1", "dr", "reviewer")
        row = store.get(session, number)
        letter = record.letter_of(session, row, row.decisions_version)
        # (An L2016 letter without "Date Assigned:" reads back as L2013: this case was assigned
        # without a date, so give it one.)
        letter = letter.model_copy(update={"date_assigned": date(2026, 3, 2)})
        # What record.sign would build (previous: the determination in force when superseding).
        context = LetterContext(
            letter=letter,
            parties=parties_of(Application.model_validate(json.loads(row.application))),
            documents=[DocumentReviewed(title=d.name, date=d.day) for d in record.documents(session, row)],
            reviewer=ReviewerCredentials.model_validate_json(row.credentials),
            supersedes=Supersedes(determination=f"{number} v1", date=date(2026, 3, 1), reason="Wrong UR date."),
        )
    mailed = render_determination(context, "pdf")
    text = collapse(pdf_text(mailed.content))
    for name in ("Maria L. Gonzalez", "Acme Logistics", "Golden State Claims Services", "Dr. Alan Reyes",
                 "Rosa Lind, Lind & Ortiz LLP", "WC-2025-001234"):
        assert name in text
    assert "PR-2 progress report 02/12/2026" in text and "12 years" in text
    assert APPEAL_HEADING in text and f"{number} v1 dated 03/01/2026" in text
    assert "ignored free text" not in text
    back = read_letter(mailed.content)
    assert (back.layout, back.case_number, back.review_organization) == ("L2016", number, mailed.letter.review_organization)
    assert back.reviewer == mailed.letter.reviewer.model_copy(update={"years_in_practice": None})
    assert [(i.request, i.decision, i.rationale) for i in back.items] == [
        (i.request, i.decision, i.rationale) for i in mailed.letter.items]
    published = collapse(pdf_text(render_determination(context, "pdf", published=True).content))
    assert "Maria L. Gonzalez" not in published and "WC-2025-001234" not in published
