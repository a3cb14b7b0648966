"""The one audit log under attack: `openimr audit verify` detects a changed decision, a
replaced determination PDF, a changed document, a changed or deleted audit row, a deleted
tail, and an edit re-hashed without the key; `openimr audit export` keeps a copy that catches
a deleted tail with a replayed older head. On SQLite and PostgreSQL, with real PDFs."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import select, text

from openimr import db
from openimr.cases import audit, record, store
from openimr.cases.intake import parse_application
from openimr.cases.settings import load_settings
from openimr.cases.tables import AuditHeadRow, AuditRow


def _signed_case(url: str, app_data: dict, on_panel) -> str:
    """A case with a document, two decisions and a signed determination (a real PDF), by
    the panel's reviewer R-1."""
    from openimr.letters.write import render_determination

    store.ready(url)
    on_panel(url)
    app_data["ur_decision"]["items"] = app_data["ur_decision"]["items"][:1]
    with db.session_scope(url) as session:
        number = store.create_case(session, parse_application(app_data, "app.json"), load_settings(),
                                   "intake")["case_number"]
        record.add_document(session, number, "clinical_summary", "Clinical summary", "Low back pain, no red flags.",
                            "intake")
        store.update(session, number, "assign", {"reviewer_id": "R-1"}, "admin")
        record.decide(session, number, 0, "Overturned", "MTUS", "Supported.", "R-1", "dr", "reviewer")
        record.decide(session, number, 0, "Upheld", "MTUS", "Not supported by the records.", "R-1", "dr", "reviewer")
        version = store.get(session, number).decisions_version
        record.sign(session, number, version, True, "R-1", "dr", lambda context: tuple(render_determination(context, "pdf")))
    return number


def _sql(url: str, statement: str, **params) -> None:
    with db.engine_for(url).begin() as connection:
        connection.execute(text(statement), params)


def _verify(cli, url: str, *extra: str) -> tuple[int, dict]:
    result = cli("audit", "verify", "--db", url, "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


def _last_seq(url: str) -> int:
    with db.session_scope(url) as session:
        return session.get(AuditHeadRow, 1).seq


def _rehash_from(url: str, seq: int, secret: bytes) -> None:
    """Recompute every MAC from row `seq` on, and the head, with `secret` (an attacker who
    edited a row and knows the scheme but not the deployment's key)."""
    with db.session_scope(url) as session:
        rows = list(session.scalars(select(AuditRow).where(AuditRow.seq >= seq).order_by(AuditRow.seq)))
        previous = session.scalar(select(AuditRow.hash).where(AuditRow.seq == seq - 1)) or audit.GENESIS
        for row in rows:
            row.prev_hash = previous
            row.hash = previous = audit.row_mac(audit.content(row), previous, secret)
        head = session.get(AuditHeadRow, 1)
        head.hash, head.mac = previous, audit.head_mac(head.seq, previous, secret)


def _unkeyed_rehash_from(url: str, seq: int) -> None:
    """The same with plain SHA-256, as the chain was before it was keyed."""
    with db.session_scope(url) as session:
        rows = list(session.scalars(select(AuditRow).where(AuditRow.seq >= seq).order_by(AuditRow.seq)))
        previous = session.scalar(select(AuditRow.hash).where(AuditRow.seq == seq - 1)) or audit.GENESIS
        for row in rows:
            row.prev_hash = previous
            row.hash = previous = hashlib.sha256((previous + audit.canonical(audit.content(row))).encode()).hexdigest()
        head = session.get(AuditHeadRow, 1)
        head.hash = previous
        head.mac = hmac.new(b"guessed", f"head:{head.seq}:{previous}".encode(), hashlib.sha256).hexdigest()


def test_an_untouched_log_verifies_and_names_every_stored_thing(app_data, db_url, cli, on_panel):
    number = _signed_case(db_url, app_data, on_panel)
    code, report = _verify(cli, db_url)
    assert code == 0 and report["intact"], report
    with db.session_scope(db_url) as session:
        entries = [(r.entity, r.action) for r in audit.history(session, number)]
    assert ("document", "document_added") in entries and entries.count(("decision", "decision_recorded")) == 2
    assert ("determination", "determination_signed") in entries and ("case", "assign") in entries
    signed = next(json.loads(r.after) for r in audit.history(session, number) if r.action == "determination_signed")
    with db.session_scope(db_url) as session:
        pdf = session.execute(text("SELECT pdf FROM imr_determinations")).scalar()
    assert signed["pdf_sha256"] == hashlib.sha256(bytes(pdf)).hexdigest() and bytes(pdf).startswith(b"%PDF-")


ATTACKS = {
    "decision-changed": ("UPDATE imr_decisions SET rationale = 'Supported after all.' WHERE version = 2",
                         "decision"),
    "decision-deleted": ("DELETE FROM imr_decisions WHERE version = 2", "no longer stored"),
    "pdf-replaced": ("UPDATE imr_determinations SET pdf = :pdf, pdf_sha256 = :sha", "pdf sha256 differs"),
    "document-changed": ("UPDATE imr_documents SET text = 'Severe radiculopathy.'", "document"),
    "audit-row-changed": ("UPDATE imr_audit_log SET actor = 'someone else' WHERE seq = 2", "audit row 2"),
    "audit-middle-deleted": ("DELETE FROM imr_audit_log WHERE seq = 3", "audit row 4"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_each_change_is_detected(app_data, db_url, cli, on_panel, attack):
    _signed_case(db_url, app_data, on_panel)
    statement, named = ATTACKS[attack]
    forged = b"%PDF-1.7 a different letter"
    _sql(db_url, statement, pdf=forged, sha=hashlib.sha256(forged).hexdigest())
    code, report = _verify(cli, db_url)
    assert code == 1 and not report["intact"]
    assert any(named in problem for problem in report["problems"]), report["problems"]


def test_a_deleted_last_row_is_detected_even_with_the_head_moved_back(app_data, db_url, cli, on_panel):
    _signed_case(db_url, app_data, on_panel)
    last = _last_seq(db_url)
    _sql(db_url, "DELETE FROM imr_audit_log WHERE seq = :seq", seq=last)
    code, report = _verify(cli, db_url)
    assert code == 1 and any("rows at the end were deleted" in p for p in report["problems"])
    # the attacker also moves the head back to the row before: its MAC needs the key
    _sql(db_url, "UPDATE imr_audit_head SET seq = :seq, hash = (SELECT hash FROM imr_audit_log WHERE seq = :seq)",
         seq=last - 1)
    code, report = _verify(cli, db_url)
    assert code == 1 and any(p.startswith("audit head: does not match its MAC") for p in report["problems"])


@pytest.mark.parametrize("rehash", ["wrong-key", "unkeyed"])
def test_an_edit_rehashed_without_the_key_is_detected(app_data, db_url, cli, on_panel, rehash):
    number = _signed_case(db_url, app_data, on_panel)
    with db.session_scope(db_url) as session:
        row = next(r for r in audit.history(session, number) if r.action == "decision_recorded")
        seq, after = row.seq, json.loads(row.after)
    _sql(db_url, "UPDATE imr_audit_log SET after = :after WHERE seq = :seq", seq=seq,
         after=audit.canonical(after | {"decision": "Upheld" if after["decision"] == "Overturned" else "Overturned"}))
    if rehash == "wrong-key":
        _rehash_from(db_url, seq, b"an attacker's guess at the key")
    else:
        _unkeyed_rehash_from(db_url, seq)
    code, report = _verify(cli, db_url)
    assert code == 1 and any(f"audit row {seq}: content does not match its MAC" in p for p in report["problems"])
    # with the deployment's key the same re-hash would pass: the key is what protects the chain
    _rehash_from(db_url, seq, audit.key())
    assert _verify(cli, db_url)[0] == 0


def test_export_keeps_a_copy_that_catches_a_replayed_head(app_data, db_url, cli, on_panel, tmp_path):
    number = _signed_case(db_url, app_data, on_panel)
    with db.session_scope(db_url) as session:
        head = session.get(AuditHeadRow, 1)
        older = (head.seq, head.hash, head.mac)
    store.run(db_url, store.update, number, "publish", {"published": "{}"}, "clerk")
    out = tmp_path / "audit.jsonl"
    result = cli("audit", "export", "--out", out, "--db", db_url)
    assert result.exit_code == 0 and f"{older[0] + 1} rows" in result.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seq"] for r in rows] == list(range(1, older[0] + 2)) and rows[-1]["action"] == "publish"
    assert _verify(cli, db_url, "--against", str(out))[0] == 0
    # the last row deleted and the older head (recorded before it was appended) put back
    _sql(db_url, "DELETE FROM imr_audit_log WHERE seq = :seq", seq=older[0] + 1)
    _sql(db_url, "UPDATE imr_audit_head SET seq = :seq, hash = :hash, mac = :mac", seq=older[0], hash=older[1],
         mac=older[2])
    assert _verify(cli, db_url)[0] == 0  # the database alone cannot tell
    code, report = _verify(cli, db_url, "--against", str(out))
    assert code == 1 and report["problems"] == [f"exported audit row {older[0] + 1}: missing or different in "
                                                "the database"]


def test_a_log_read_with_another_key_says_so(app_data, db_url, cli, on_panel, monkeypatch):
    _signed_case(db_url, app_data, on_panel)
    monkeypatch.setenv("OPENIMR_AUDIT_KEY", "not the key the log was written with")
    code, report = _verify(cli, db_url)
    assert code == 1 and report["problems"][0].startswith("no row matches its MAC: the audit key is not the one")


def test_a_bad_key_or_export_file_is_one_line(app_data, sqlite_url, cli, tmp_path, monkeypatch):
    store.ready(sqlite_url)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1}\nnot json\n')
    result = cli("audit", "verify", "--db", sqlite_url, "--against", bad)
    assert result.exit_code == 1 and result.stderr.strip() == f"{bad}: line 2: not an exported audit row"
    monkeypatch.setenv("OPENIMR_AUDIT_KEY", "short")
    result = cli("audit", "verify", "--db", sqlite_url)
    assert result.exit_code == 1
    assert result.stderr.strip() == "$OPENIMR_AUDIT_KEY: the audit key must have at least 16 characters"
