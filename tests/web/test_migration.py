"""Migrations web_0003 and cases_0002 on a database at the previous heads with cases in it:
the workbench's copies and then its tables move into the case part's one record (with audit
entries), the reviewer's work stays, the one audit log verifies."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
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


OLD_USERS = sa.table("web_users", *(sa.column(c) for c in (
    "username", "display_name", "password_hash", "role", "clinician", "panel_reviewer_id", "active", "created_at")),
    sa.column("licensure", sa.JSON), sa.column("specialties", sa.JSON))


def _old_user(connection, username: str, name: str, role: str = "reviewer", clinician: bool = False,
              licensure: list | None = None, specialties: list | None = None, panel_id: str | None = None) -> int:
    """A workbench account as stored before web_0004 (with its own clinical facts)."""
    from openimr.web import auth

    connection.execute(OLD_USERS.insert().values(
        username=username, display_name=name, password_hash=auth.hash_password(PASSWORD), role=role,
        clinician=clinician, licensure=licensure or [], specialties=specialties or [], panel_reviewer_id=panel_id,
        active=True, created_at=datetime.now(UTC)))
    return connection.scalar(sa.text("SELECT id FROM web_users WHERE username = :u"), {"u": username})


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

    _upgrade(db_url, "web_0002", "cases_0001")
    engine = dbmod.engine_for(db_url)
    with engine.begin() as connection:
        reviewer_id = _old_user(connection, "rev", "Dr. Old", clinician=True)
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
        # (web_0004 then gives the clinician a panel record, web-<user id>, and their cases)
        assert (shared.status, shared.reviewer_id) == ("assigned", f"web-{reviewer_id}")
        assert (alone.status, alone.reviewer_id) == ("determined", f"web-{reviewer_id}")
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
    shown = store.run(db_url, store.show, "CM26-9000002")
    assert shown["status"] == "determined" and shown["reasons"] == []
    with dbmod.session_scope(db_url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CaseRow)) == 2


def test_web_0004_moves_the_accounts_clinical_facts_to_the_panel(db_url):
    """From the previous heads (web_0003, cases_0002) with accounts carrying their own
    clinician flag, licensure and specialties: a linked clinician keeps the panel's record; an
    unlinked one gets a record built from the account and keeps their case (and the letter's
    credentials block); a non-clinician and a second user on one record are unlinked; every
    account's values are in the audit log; sessions survive; the columns are gone."""
    from sqlalchemy.orm import Session

    from openimr import db as dbmod
    from openimr.cases import audit, store
    from openimr.cases.intake import parse_application
    from openimr.cases.settings import load_settings
    from openimr.models import ReviewerCredentials
    from openimr.panel import reviewers
    from openimr.web import auth, workflow
    from openimr.web.tables import User

    from .conftest import PANEL

    _upgrade(db_url, "web_0003", "cases_0002")
    engine = dbmod.engine_for(db_url)
    panel = sa.table("imr_reviewers", *(sa.column(c) for c in ("id", "name", "profession", "data", "active",
                                                              "created_at")))
    with engine.begin() as connection:
        for record in (PANEL[0] | {"id": "R-PMR"}, PANEL[1] | {"id": "R-OTHER"}):
            model = reviewers.Reviewer.model_validate(record)
            connection.execute(panel.insert().values(id=model.id, name=model.name, profession=model.profession,
                                                     data=model.model_dump_json(), active=True, created_at="2026"))
        linked = _old_user(connection, "linked", "Dr. Linked", clinician=True, licensure=["California"],
                           specialties=["Physical Medicine & Rehabilitation"], panel_id="R-PMR")
        doc = _old_user(connection, "webdoc", "Dr. Web Only", clinician=True, licensure=["California", "Atlantis"],
                        specialties=["Orthopedic Surgery"])
        nurse = _old_user(connection, "nurse", "Nora Nurse", clinician=False, licensure=["Nevada"], panel_id="R-OTHER")
        dup = _old_user(connection, "dup", "Dr. Twice", clinician=True, panel_id="R-PMR")
        _old_user(connection, "clerk", "Cleo Clerk", role="intake")
    with Session(engine) as session:
        app = {k: v for k, v in application().items() if k != "documents"}
        number = store.create_case(session, parse_application(app, "app"), load_settings(), "old")[
            "case_number"]
        session.commit()
    with engine.begin() as connection:  # assigned as the workbench did it: web:<user id>, no credentials block
        connection.execute(sa.text("UPDATE imr_cases SET reviewer_id = :r, status = 'assigned' WHERE case_number = :n"),
                           {"r": f"web:{doc}", "n": number})
        connection.execute(sa.text("INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, expires_at) "
                                   "VALUES ('t' , :u, 'c', :at, :until)"),
                           {"u": doc, "at": datetime.now(UTC), "until": datetime(2099, 1, 1, tzinfo=UTC)})

    dbmod.migrate(db_url)

    with dbmod.session_scope(db_url) as session:
        columns = {c["name"] for c in sa.inspect(session.connection()).get_columns("web_users")}
        assert not columns & {"clinician", "licensure", "specialties"} and "panel_reviewer_id" in columns
        links = dict(session.execute(sa.select(User.username, User.panel_reviewer_id)).all())
        assert links == {"linked": "R-PMR", "webdoc": f"web-{doc}", "nurse": None, "dup": None, "clerk": None}
        assert reviewers.record(session, "R-PMR") == reviewers.Reviewer.model_validate(PANEL[0] | {"id": "R-PMR"})
        made = reviewers.record(session, f"web-{doc}")
        assert [lic.state for lic in made.licenses] == ["CA"] and made.name == "Dr. Web Only"
        assert [c.specialty for c in made.board_certifications] == ["Orthopedic Surgery"]
        assert (made.years_active_practice, made.hours_per_week, made.active) == (0, 0, True)
        assert reviewers.why_cannot_sign(made) is None  # they still sign the case they have
        case = store.get(session, number)
        assert case.reviewer_id == f"web-{doc}"
        assert ReviewerCredentials.model_validate_json(case.credentials).licensure == ["California", "Atlantis"]
        moved = {json.loads(r.before)["user"]: json.loads(r.after) for r in session.scalars(
            sa.select(audit.AuditRow).where(audit.AuditRow.action == "account_credentials_moved"))}
        assert set(moved) == {"linked", "webdoc", "nurse", "dup"}
        assert moved["webdoc"]["created"] is True and moved["webdoc"]["unread_licensure"] == ["Atlantis"]
        assert moved["nurse"]["unlinked"] == "R-OTHER" and moved["dup"]["unlinked"] == "R-PMR"
        nurse_entry = next(r for r in audit.history(session, "user:nurse") if r.action == "account_credentials_moved")
        assert json.loads(nurse_entry.before)["licensure"] == ["Nevada"]  # kept, not lost
        assert [r.action for r in audit.history(session, number)][-1] == "reviewer_linked"
        assert audit.verify(session)[1] == []
        who = auth.principal_of(session, session.get(User, doc), "c")
        assert who.may_sign and workflow.is_assigned_to(case, who)
        assert auth.principal_of(session, session.get(User, nurse), "").may_sign is False
        assert auth.principal_of(session, session.get(User, linked), "").may_sign is True
        assert session.scalar(sa.text("SELECT count(*) FROM web_sessions WHERE user_id = :u"), {"u": doc}) == 1
        assert session.get(User, dup).panel_reviewer_id is None
    with pytest.raises(sa.exc.IntegrityError), dbmod.session_scope(db_url) as session:  # one user per record
        session.execute(sa.text("UPDATE web_users SET panel_reviewer_id = 'R-PMR' WHERE username = 'dup'"))
