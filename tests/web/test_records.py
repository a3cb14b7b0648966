"""The records of a case on the workbench (web/routes_records.py): the notice of assignment
as a PDF and the notice_sent event, the receipt, what is missing, the follow-up request;
who may; bad input one line."""

from __future__ import annotations

import pypdfium2

from .test_workflow import application


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
