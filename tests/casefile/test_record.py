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

    number = store.create_case(db_url, parse_application(app_data), load_settings(), actor="tester")["case_number"]
    cf = case_file(summary, seed=3, scanned_share=0.0, max_events=2)
    path = tmp_path / "records.pdf"
    path.write_bytes(cf.pdf)
    out = CliRunner().invoke(app, ["casefile", "index", str(path), "--json", "--case", number, "--db", db_url,
                                   "--actor", "intake1"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    originals = [d for d in result["documents"] if d["duplicate_of"] is None]
    assert len(result["stored"]) == len(originals) < len(result["documents"])
    with db.session_scope(store.ready(db_url)) as session:
        row = store.get(session, number)
        stored = record.documents(session, row)
        assert [d.kind for d in stored] == ["ur_decision" if d["type"] == "ur_decision" else "medical_record"
                                            for d in originals]
        assert [d.day for d in stored] == [d["date"] for d in originals]
        assert stored[0].text.startswith(f"[page {originals[0]['first_page']}]")
        assert [e["kind"] for e in store.event_list(session, row)] == ["records_received"]
    missing = CliRunner().invoke(app, ["casefile", "index", str(path), "--case", "CM99-9999999", "--db", db_url])
    assert missing.exit_code == 1 and "Traceback" not in missing.output and len(missing.stderr.strip().splitlines()) == 1
    with db.session_scope(store.ready(db_url)) as session:  # nothing half-written for the unknown case
        assert len(record.documents(session, store.get(session, number))) == len(originals)
