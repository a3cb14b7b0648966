"""The records of a case on the workbench (web/routes_records.py): the notice of assignment
as a PDF and the notice_sent event, the receipt, what is missing, the follow-up request;
who may; bad input one line."""

from __future__ import annotations

import pypdfium2

from .test_workflow import _new_assigned_case, application


def _text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return " ".join(" ".join(p.get_textpage().get_text_range().split()) for p in pdf)
    finally:
        pdf.close()


def test_notice_missing_follow_up_and_receipt(sqlite_world):
    world = sqlite_world
    intake = world.client("intake")
    case_id = intake.post("/api/cases", json=application()).json()["case"]["id"]
    before = intake.get(f"/api/cases/{case_id}/records").json()
    assert before["notice_sent"] is False
    assert [m["key"] for m in before["missing"]] == ["rfa", "ur_decision", "recent_reports"]
    sent = intake.post(f"/api/cases/{case_id}/records/notice", json={"method": "electronic"})
    assert sent.status_code == 200, sent.text
    assert sent.headers["content-type"] == "application/pdf"
    text = _text(sent.content)
    assert "Notice of Assignment and Request for Information" in text and "12 days after this notice" in text
    for name in ("Zamora", "Yoshida"):  # never a reviewer's name
        assert name not in text
    after = intake.get(f"/api/cases/{case_id}/records").json()
    assert after["notice_sent"] and after["status"] == "notice_sent" and after["records_due"]
    assert [e["kind"] for e in after["events"]] == ["notice_sent"]
    follow = intake.post(f"/api/cases/{case_id}/records/follow-up", json={})
    assert follow.status_code == 200 and "Request for Missing Records" in _text(follow.content)
    received = intake.post(f"/api/cases/{case_id}/records/received", json={})
    assert received.status_code == 200 and received.json()["status"] == "records_received"
    trail = [a["action"] for a in world.client("admin").get(f"/api/cases/{case_id}/audit").json()]
    assert trail[-3:] == ["notice_sent", "records_requested", "records_received"]
    page = intake.get(f"/cases/{case_id}/records")
    assert page.status_code == 200 and "Still missing" in page.text and "Request the missing records" in page.text
    assert f'href="/cases/{case_id}/records"' in intake.get(f"/cases/{case_id}").text


def test_who_may_and_bad_input(sqlite_world):
    world = sqlite_world
    case_id = world.client("intake").post("/api/cases", json=application()).json()["case"]["id"]
    qa = world.client("qa")
    assert qa.get(f"/api/cases/{case_id}/records").status_code == 200  # seeing is for every role that sees it
    refused = qa.post(f"/api/cases/{case_id}/records/notice", json={"method": "mail"})
    assert refused.status_code == 403 and "intake or admin" in refused.text
    bad = world.client("intake").post(f"/api/cases/{case_id}/records/notice", json={"method": "fax"})
    assert bad.status_code == 422 and "method" in bad.text
    early = world.client("intake").post(f"/api/cases/{case_id}/records/notice",
                                        json={"method": "mail", "day": "2000-01-01"})
    assert early.status_code == 422 and "before the application was received" in early.text
    assert world.client("intake").post("/api/cases/999999/records/notice", json={}).status_code == 404
    assert world.client("intake").get(f"/api/cases/{case_id}/records").json()["events"] == []


def test_engine_evidence_from_an_indexed_case_file_cites_its_page(sqlite_world):
    """A stored case-file document (its pages marked as casefile.record writes them): every
    evidence span the engine finds in it carries the page it is on."""
    from openimr import db
    from openimr.casefile.record import page_at
    from openimr.cases import record, store

    assert page_at("[page 4]\nabc\n[page 5]\ndef", 10) == 4 and page_at("[page 4]\nabc\n[page 5]\ndef", 15) == 5
    assert page_at("no markers", 3) is None
    world = sqlite_world
    case_id = _new_assigned_case(world)
    reviewer = world.client("rev_a")
    before = reviewer.get(f"/api/cases/{case_id}").json()
    summary = next(d["text"] for d in before["documents"] if d["kind"] == "clinical_summary")
    text = "[page 7]\nFax cover sheet.\n[page 8]\n" + summary
    with db.session_scope(store.ready(world.url)) as session:
        number = session.get(record.CaseRow, case_id).case_number
        added = record.add_document(session, number, "medical_record", "records.pdf p. 7-8: progress_report", text,
                                    "intake1", index={"doc_type": "progress_report", "first_page": 7,
                                                      "last_page": 8})
        added_index = len(record.documents(session, store.get(session, number))) - 1
        assert added.id
    detail = reviewer.get(f"/api/cases/{case_id}").json()
    spans = [e for item in detail["disputed_items"] if item.get("draft") for c in item["draft"]["criteria"]
             for e in c["evidence"] if e.get("document") == added_index]
    assert spans, "the engine found no evidence in the case-file document"
    assert {e["page"] for e in spans} == {8}
    others = [e for item in detail["disputed_items"] if item.get("draft") for c in item["draft"]["criteria"]
              for e in c["evidence"] if e.get("document") != added_index]
    assert all(e.get("page") is None for e in others)
