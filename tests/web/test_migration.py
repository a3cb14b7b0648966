"""Migration web_0003 on a database at the previous head with cases in it: the workbench's
copies move into the case part's record (with audit entries), the reviewer's work stays."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

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
    now = datetime.now(timezone.utc)
    items = [{"request": i["request"], "ur_guideline": i.get("guideline", ""), "outcome": "denied"}
             for i in app["ur_decision"]["items"]]
    connection.execute(OLD_CASES.insert().values(
        case_number=number, status=status, priority="standard", received=date.fromisoformat(app["received"]),
        date_of_injury=date.fromisoformat(app["date_of_injury"]), ur_denial_date=None, determination_due=None,
        assigned_user_id=reviewer, application=app, eligibility={"eligible": True, "reasons": []},
        documents=[{"kind": "clinical_summary", "name": "Clinical summary", "text": "Low back pain."}],
        items=items, assignment={}, created_at=now, updated_at=now))
    return connection.scalar(sa.text("SELECT id FROM web_cases WHERE case_number = :n"), {"n": number})


def test_upgrade_from_the_previous_head_keeps_every_case_and_the_reviewers_work(db_url):
    from sqlalchemy.orm import Session

    from openimr import db as dbmod
    from openimr.cases import audit, store
    from openimr.cases.intake import parse_application
    from openimr.cases.settings import load_settings
    from openimr.web import auth
    from openimr.web.tables import Case, ReviewerDecision

    _upgrade(db_url, "web_0002", "cases_0001")
    engine = dbmod.engine_for(db_url)
    with Session(engine) as session:  # a reviewer, and a case stored by both parts (the old intake)
        reviewer = auth.create_user(session, "rev", PASSWORD, "reviewer", "Dr. Old", True)
        shared_app = {k: v for k, v in application().items() if k != "documents"}
        both = store.create_case("", parse_application(shared_app, "application"), load_settings(), "old",
                                 session=session)["case_number"]
        session.commit()
        reviewer_id = reviewer.id
    alone_app = {k: v for k, v in application().items() if k != "documents"}
    with engine.begin() as connection:
        both_id = _old_web_case(connection, both, shared_app, "in_review", reviewer_id)
        alone_id = _old_web_case(connection, "CM26-9000002", alone_app, "signed", reviewer_id)
        connection.execute(ReviewerDecision.__table__.insert().values(
            case_id=both_id, item_index=0, decision="Upheld", guideline="MTUS", rationale="Kept.",
            author_id=reviewer_id, created_at=datetime.now(timezone.utc)))

    dbmod.migrate(db_url)

    with dbmod.session_scope(db_url) as session:
        shared, alone = session.get(Case, both_id), session.get(Case, alone_id)
        assert (shared.status, shared.reviewer_id) == ("assigned", f"web:{reviewer_id}")
        assert (alone.status, alone.reviewer_id) == ("determined", f"web:{reviewer_id}")
        assert alone.application["employee"]["name"] == alone_app["employee"]["name"]
        assert alone.received == date.fromisoformat(alone_app["received"]) and alone.documents
        kept = session.scalars(sa.select(ReviewerDecision).where(ReviewerDecision.case_id == both_id)).all()
        assert [d.rationale for d in kept] == ["Kept."]
        assert [r.action for r in audit.history(session, both)] == ["create", "adopt_workbench"]
        assert [r.action for r in audit.history(session, "CM26-9000002")] == ["adopt", "adopt_workbench"]
        assert audit.verify(session)[1] == []
        columns = {c["name"] for c in sa.inspect(session.connection()).get_columns("web_cases")}
    assert not columns & {"status", "priority", "received", "determination_due", "application", "eligibility"}
    shown = store.show(db_url, "CM26-9000002")
    assert shown["status"] == "determined" and json.loads(json.dumps(shown["reasons"])) == []
