"""An indexed case file stored in the case record (cases' add_document, records-received)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from openimr.casefile.synth import case_file
from openimr.cli import app


def test_index_into_a_case(tmp_path, db_url, app_data, summary):
    from openimr import db
    from openimr.cases import record, store
    from openimr.cases.intake import parse_application
    from openimr.cases.settings import load_settings

    number = store.run(db_url, store.create_case, parse_application(app_data), load_settings(), actor="tester")["case_number"]
    cf = case_file(summary, seed=3, scanned_share=0.0, max_events=2)
    path = tmp_path / "records.pdf"
    path.write_bytes(cf.pdf)
    out = CliRunner().invoke(app, ["casefile", "index", str(path), "--json", "--case", number, "--db", db_url,
                                   "--actor", "intake1"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    indexed = result["documents"]
    originals = [d for d in indexed if d["duplicate_of"] is None]
    assert len(result["stored"]) == len(indexed) > len(originals)  # duplicates kept, linked
    with db.session_scope(store.ready(db_url)) as session:
        row = store.get(session, number)
        every = record.documents(session, row)
        stored = record.reviewed(every)
        assert [d.kind for d in stored] == ["ur_decision" if d["type"] == "ur_decision" else "medical_record"
                                            for d in originals]
        assert [d.day for d in stored] == [d["date"] for d in originals]
        assert stored[0].text.startswith(f"[page {originals[0]['first_page']}]")
        # what the index read is kept per document; a duplicate names the stored id of its original
        for doc, got in zip(indexed, every, strict=True):
            assert (got.doc_type, got.author, got.first_page, got.last_page, got.scanned) == (
                doc["type"], doc["author"], doc["first_page"], doc["last_page"], doc["scanned"])
            want = None if doc["duplicate_of"] is None else every[doc["duplicate_of"] - 1].id
            assert got.duplicate_of == want
        assert [e["kind"] for e in store.event_list(session, row)] == ["records_received"]
        # the letter's documents reviewed count a duplicate once
        names = [d.title for d in record.mailing_context(session, row, record.Letter(layout="L2016")).documents]
        assert names == [d.name for d in stored]
    missing = CliRunner().invoke(app, ["casefile", "index", str(path), "--case", "CM99-9999999", "--db", db_url])
    assert missing.exit_code == 1 and "Traceback" not in missing.output and len(missing.stderr.strip().splitlines()) == 1
    with db.session_scope(store.ready(db_url)) as session:  # nothing half-written for the unknown case
        assert len(record.documents(session, store.get(session, number))) == len(indexed)
