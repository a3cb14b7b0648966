"""Migrations web_0003 and cases_0002 on a database at the previous heads with cases in it:
the workbench's copies and then its tables move into the case part's one record (with audit
entries), the reviewer's work stays, the one audit log verifies."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import sqlalchemy as sa

from .conftest import PASSWORD
from .test_workflow import application

OLD_CASES = sa.table(
    "web_cases", *(sa.column(c) for c in ("case_number", "status", "priority", "received", "date_of_injury",
                                          "ur_denial_date", "determination_due", "assigned_user_id",
                                          "created_at", "updated_at")),
    sa.column("application", sa.JSON), sa.column("eligibility", sa.JSON), sa.column("documents", sa.JSON),
    sa.column("items", sa.JSON), sa.column("assignment", sa.JSON),
)


def _upgrade(url: str, *targets: str) -> None:
    from alembic import command
    from alembic.config import Config

    from openimr import db as dbmod

    config = Config()
    config.set_main_option("script_location", str(dbmod.MIGRATIONS))
    with dbmod.engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        for target in targets:
            command.upgrade(config, target)


def _old_web_case(connection, number: str, app: dict, status: str, reviewer: int | None) -> int:
    now = datetime.now(UTC)
    items = [{"request": i["request"], "ur_guideline": i.get("guideline", ""), "outcome": "denied"}
             for i in app["ur_decision"]["items"]]
    connection.execute(OLD_CASES.insert().values(
        case_number=number, status=status, priority="standard", received=date.fromisoformat(app["received"]),
        date_of_injury=date.fromisoformat(app["date_of_injury"]), ur_denial_date=None, determination_due=None,
        assigned_user_id=reviewer, application=app, eligibility={"eligible": True, "reasons": []},
        documents=[{"kind": "clinical_summary", "name": "Clinical summary", "text": "Low back pain."}],
        items=items, assignment={}, created_at=now, updated_at=now))
    return connection.scalar(sa.text("SELECT id FROM web_cases WHERE case_number = :n"), {"n": number})


IMR_CASES = sa.table("imr_cases", *(sa.column(c) for c in (
    "case_number", "status", "review_type", "employee_key", "physician_key", "date_of_injury", "received",
    "application", "reasons", "assumptions", "created_at")))
OLD_LOG = sa.table("imr_audit_log", *(sa.column(c) for c in (
    "seq", "at", "actor", "action", "entity", "entity_id", "before", "after", "prev_hash", "hash")))
OLD_HEAD = sa.table("imr_audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
OLD_DECISIONS = sa.table("web_decisions", *(sa.column(c) for c in (
    "case_id", "item_index", "decision", "guideline", "rationale", "author_id", "created_at")))
OLD_DETERMINATIONS = sa.table("web_determinations", *(sa.column(c) for c in (
    "case_id", "version", "pdf", "pdf_sha256", "signed_by", "signed_at")), sa.column("letter", sa.JSON))
OLD_AUDIT = sa.table("web_audit", *(sa.column(c) for c in ("case_id", "user_id", "at", "action", "prev_hash",
                                                           "hash")), sa.column("detail", sa.JSON))


def _old_case_part_case(connection, number: str, app: dict) -> None:
    """A case as the case part stored it at the previous head, with its (unkeyed) audit row."""
    import hashlib

    connection.execute(IMR_CASES.insert().values(
        case_number=number, status="eligible", review_type="regular", employee_key="e" * 64, physician_key="dr",
        date_of_injury=date.fromisoformat(app["date_of_injury"]), received=date.fromisoformat(app["received"]),
        application=json.dumps(app), reasons="[]", assumptions="[]", created_at="2026-01-01T00:00:00+00:00"))
    fields = {"seq": 1, "at": "2026-01-01T00:00:00.000000+00:00", "actor": "old", "action": "create",
              "entity": "case", "entity_id": number, "before": "null", "after": json.dumps({"status": "eligible"})}
    digest = hashlib.sha256(("0" * 64 + json.dumps(fields, sort_keys=True, separators=(",", ":"))).encode())
    connection.execute(OLD_LOG.insert().values(**fields, prev_hash="0" * 64, hash=digest.hexdigest()))
    connection.execute(OLD_HEAD.update().where(OLD_HEAD.c.id == 1).values(seq=1, hash=digest.hexdigest()))


def test_upgrade_from_the_previous_head_keeps_every_case_and_the_reviewers_work(db_url):
    """From the head before the one record (cases_0001 + web_0003): the workbench's documents,
    decisions (as versions), determinations (PDF bytes unchanged) and audit entries move into
    the case part; the one audit log verifies under the key; the web case tables are gone."""
    from openimr import db as dbmod
    from openimr.cases import audit, record, store
    from openimr.cases.tables import CaseRow, DeterminationRow
    from openimr.web import auth

    _upgrade(db_url, "web_0002", "cases_0001")
    engine = dbmod.engine_for(db_url)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        reviewer_id = auth.create_user(session, "rev", PASSWORD, "reviewer", "Dr. Old", True).id
        session.commit()
    shared_app = {k: v for k, v in application().items() if k != "documents"}
    alone_app = {k: v for k, v in application().items() if k != "documents"}
    both = "CM26-9000001"
    with engine.begin() as connection:  # a case stored by both parts (the old intake), one by the workbench alone
        _old_case_part_case(connection, both, shared_app)
        both_id = _old_web_case(connection, both, shared_app, "in_review", reviewer_id)
        alone_id = _old_web_case(connection, "CM26-9000002", alone_app, "signed", reviewer_id)
    _upgrade(db_url, "web_0003")  # the previous head
    pdf = b"%PDF-1.4 signed letter bytes"
    signed_at = datetime.now(UTC)
    with engine.begin() as connection:
        for index, (decision, rationale) in enumerate((("Upheld", "Kept."), ("Overturned", "Also kept."))):
            connection.execute(OLD_DECISIONS.insert().values(
                case_id=both_id, item_index=index, decision=decision, guideline="MTUS", rationale=rationale,
                author_id=reviewer_id, created_at=signed_at))
        connection.execute(OLD_DETERMINATIONS.insert().values(
            case_id=alone_id, version=1, letter={"layout": "L2016", "items": []}, pdf=pdf,
            pdf_sha256=audit.sha256(pdf), signed_by=reviewer_id, signed_at=signed_at))
        connection.execute(OLD_AUDIT.insert().values(case_id=both_id, user_id=reviewer_id, at=signed_at,
                                                     action="decision.recorded", detail={"item": 0},
                                                     prev_hash="0" * 64, hash="x" * 64))

    dbmod.migrate(db_url)

    with dbmod.session_scope(db_url) as session:
        shared, alone = store.get(session, both), store.get(session, "CM26-9000002")
        assert (shared.status, shared.reviewer_id) == ("assigned", f"web:{reviewer_id}")
        assert (alone.status, alone.reviewer_id) == ("determined", f"web:{reviewer_id}")
        assert json.loads(alone.application)["employee"]["name"] == alone_app["employee"]["name"]
        assert alone.received == date.fromisoformat(alone_app["received"])
        assert [(d.kind, d.text) for d in record.documents(session, alone)] == [("clinical_summary", "Low back pain.")]
        kept = record.current_decisions(session, shared)
        assert [(i, d.decision, d.rationale, d.version) for i, d in sorted(kept.items())] == [
            (0, "Upheld", "Kept.", 1), (1, "Overturned", "Also kept.", 2)]
        assert shared.decisions_version == 2
        moved = session.scalar(sa.select(DeterminationRow).where(DeterminationRow.case_id == alone.id))
        assert moved.pdf == pdf and moved.version == 1 and moved.signed_by == f"web:{reviewer_id}"
        actions = [r.action for r in audit.history(session, both)]
        assert actions[:2] == ["create", "adopt_workbench"] and "decision.recorded" in actions
        assert actions.count("decision_moved") == 2 and actions.count("document_moved") == 1
        assert [r.action for r in audit.history(session, "CM26-9000002")][:2] == ["adopt", "adopt_workbench"]
        assert audit.verify(session)[1] == []
        tables = set(sa.inspect(session.connection()).get_table_names())
    assert not tables & {"web_cases", "web_decisions", "web_determinations", "web_audit"}
    assert {"web_users", "web_sessions"} <= tables
    shown = store.show(db_url, "CM26-9000002")
    assert shown["status"] == "determined" and shown["reasons"] == []
    with dbmod.session_scope(db_url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CaseRow)) == 2
