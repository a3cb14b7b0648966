"""Migration cases_0003 from the previous head (cases_0002, with a case and a document in it):
the document keeps its text and digest and gains the index's columns (NULL); the new columns
store and read back; a downgrade drops them again."""

from __future__ import annotations

import sqlalchemy as sa


def _upgrade(url: str, *targets: str, down: str | None = None) -> None:
    from alembic import command
    from alembic.config import Config

    from openimr import db as dbmod

    config = Config()
    config.set_main_option("script_location", str(dbmod.MIGRATIONS))
    with dbmod.engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        for target in targets:
            command.upgrade(config, target)
        if down:
            command.downgrade(config, down)


def _columns(url: str) -> set[str]:
    from openimr import db as dbmod

    return {c["name"] for c in sa.inspect(dbmod.engine_for(url)).get_columns("imr_documents")}


def test_cases_0003_adds_the_index_columns_and_keeps_documents(db_url, app_data):
    from openimr import db as dbmod
    from openimr.cases import audit, record, store
    from openimr.cases.intake import parse_application
    from openimr.cases.settings import load_settings
    from openimr.cases.tables import DocumentRow

    _upgrade(db_url, "heads")
    _upgrade(db_url, down="cases_0002")  # the previous head of the cases branch, the others as they are
    assert "doc_type" not in _columns(db_url)
    engine = dbmod.engine_for(db_url)
    with engine.begin() as connection:  # a case and a document as cases_0002 stored them
        connection.execute(sa.text(
            "INSERT INTO imr_cases (case_number, status, review_type, employee_key, physician_key, date_of_injury,"
            " received, application, reasons, assumptions, created_at, decisions_version, assignment) VALUES"
            " ('CM26-9100001', 'eligible', 'standard', 'k', 'p', '2025-01-02', '2026-03-02', :app, '[]', '[]',"
            " '2026-03-02T00:00:00', 0, '{}')"), {"app": parse_application(app_data).model_dump_json()})
        case_id = connection.scalar(sa.text("SELECT id FROM imr_cases"))
        connection.execute(sa.text(
            "INSERT INTO imr_documents (case_id, kind, name, day, text, sha256, added_at) VALUES"
            " (:c, 'medical_record', 'PR-2', '2026-01-05', 'Low back pain.', 'x', '2026-03-02')"), {"c": case_id})
    _upgrade(db_url, "heads")
    assert {"doc_type", "author", "first_page", "last_page", "scanned", "ocr_confidence",
            "duplicate_of"} <= _columns(db_url)
    store._migrated.add(db_url)
    with dbmod.session_scope(db_url) as session:
        old = session.scalar(sa.select(DocumentRow))
        assert (old.text, old.doc_type, old.duplicate_of, old.scanned) == ("Low back pain.", None, None, None)
    number = store.run(db_url, store.create_case, parse_application(app_data), load_settings(), actor="t")["case_number"]
    with store.transaction(db_url) as session:
        first = record.add_document(session, number, "medical_record", "p. 1-2", "[page 1]\nMRI", "t",
                                    index={"doc_type": "imaging_report", "author": "Dr. A", "first_page": 1,
                                           "last_page": 2, "scanned": True, "ocr_confidence": 81.5})
        copy = record.add_document(session, number, "medical_record", "p. 3-4", "[page 3]\nMRI", "t",
                                   index={"doc_type": "imaging_report", "duplicate_of": first.id})
        ids = first.id, copy.id
    with dbmod.session_scope(db_url) as session:
        a, b = (session.get(DocumentRow, i) for i in ids)
        assert (a.doc_type, a.author, a.first_page, a.last_page, a.scanned, a.ocr_confidence) == (
            "imaging_report", "Dr. A", 1, 2, True, 81.5)
        assert b.duplicate_of == a.id
        assert [d.id for d in record.reviewed(record.documents(session, store.get(session, number)))] == [a.id]
    with dbmod.session_scope(db_url) as session:  # only the raw row put in above is unaudited
        assert audit.verify(session)[1] == [f"document {old.id} of case CM26-9100001: stored but never entered "
                                            "in the audit log"]
    _upgrade(db_url, down="cases_0002")
    assert "duplicate_of" not in _columns(db_url)


def test_a_duplicate_must_copy_a_document_of_the_same_case(db_url, app_data):
    import pytest

    from openimr.cases import record, store
    from openimr.cases.errors import CaseError
    from openimr.cases.intake import parse_application
    from openimr.cases.settings import load_settings

    number = store.run(db_url, store.create_case, parse_application(app_data), load_settings(), actor="t")["case_number"]
    with pytest.raises(CaseError, match="duplicate_of: document 999"), store.transaction(db_url) as session:
        record.add_document(session, number, "medical_record", "x", "y", "t", index={"duplicate_of": 999})
    with pytest.raises(CaseError, match="index: unknown field 'pages'"), store.transaction(db_url) as session:
        record.add_document(session, number, "medical_record", "x", "y", "t", index={"pages": 3})
