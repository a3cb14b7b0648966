"""Migration cases_0004 from the previous head (cases_0003): imr_determinations gains
`qa_returned` (NULL for every determination there, all issued); a downgrade drops it."""

from __future__ import annotations

import sqlalchemy as sa

from .test_migration_document_index import _upgrade


def _columns(url: str) -> set[str]:
    from openimr import db as dbmod

    return {c["name"] for c in sa.inspect(dbmod.engine_for(url)).get_columns("imr_determinations")}


def test_cases_0004_adds_qa_returned_and_downgrades(db_url):
    _upgrade(db_url, "heads")
    assert "qa_returned" in _columns(db_url)
    _upgrade(db_url, down="cases_0003")
    assert "qa_returned" not in _columns(db_url)
    _upgrade(db_url, "heads")
    assert "qa_returned" in _columns(db_url)
