"""One record of a case and one audit log: the workbench's case tables move into the case part.

- `imr_cases` gains `decisions_version` (+1 on every decision; signing names it) and
  `assignment` (the match explanation and a pending supersede reason, JSON);
- new `imr_documents`, `imr_decisions`, `imr_determinations`, filled from `web_cases`
  (documents, assignment), `web_decisions` (each case's decisions in order become versions
  1..n) and `web_determinations` (each states the decisions made before it was signed);
  reviewers become the case part's reviewer ids (`web:<user id>`, or a linked panel id);
- the workbench's audit entries (`web_audit`) join `imr_audit_log`, in time order, and every
  moved document, decision and determination is entered with its digest; the whole chain
  is then re-chained under the deployment's keyed MAC (`openimr.cases.audit.key`) with a
  MACed head;
- `web_cases`, `web_decisions`, `web_determinations` and `web_audit` are dropped.

Revision ID: cases_0002
Revises: cases_0001
"""

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

revision = "cases_0002"
down_revision = "cases_0001"
branch_labels = None
depends_on = ("web_0003",)

ACTOR = "migration:cases_0002"
TS = sa.DateTime(timezone=True)

WEB_CASES = sa.table("web_cases", sa.column("id", sa.Integer), sa.column("case_number", sa.String),
                     sa.column("documents", sa.JSON), sa.column("assignment", sa.JSON))
WEB_DECISIONS = sa.table("web_decisions", *(sa.column(c) for c in (
    "id", "case_id", "item_index", "decision", "guideline", "rationale", "author_id", "created_at")))
WEB_DETERMINATIONS = sa.table("web_determinations", *(sa.column(c) for c in (
    "id", "case_id", "version", "pdf", "pdf_sha256", "signed_by", "signed_at", "superseded_by", "supersede_reason")),
    sa.column("letter", sa.JSON))
WEB_AUDIT = sa.table("web_audit", *(sa.column(c) for c in ("id", "case_id", "user_id", "at", "action")),
                     sa.column("detail", sa.JSON))
USERS = sa.table("web_users", sa.column("id"), sa.column("username"), sa.column("panel_reviewer_id"))
CASES = sa.table("imr_cases", sa.column("id"), sa.column("case_number"), sa.column("decisions_version"),
                 sa.column("assignment"))
LOG = sa.table("imr_audit_log", *(sa.column(c) for c in (
    "seq", "at", "actor", "action", "entity", "entity_id", "before", "after", "prev_hash", "hash")))
DOCUMENTS = sa.table("imr_documents", *(sa.column(c) for c in (
    "id", "case_id", "kind", "name", "day", "text", "source_case_number", "sha256", "added_at")))
DECISIONS = sa.table("imr_decisions", *(sa.column(c) for c in (
    "id", "case_id", "version", "item_index", "decision", "guideline", "rationale", "author", "created_at")))
DETERMINATIONS = sa.table("imr_determinations", *(sa.column(c) for c in (
    "id", "case_id", "version", "decisions_version", "letter", "pdf", "pdf_sha256", "signed_by", "signed_at",
    "superseded_by", "supersede_reason")))
HEAD = sa.table("imr_audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"), sa.column("mac"))


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value) -> str:
    return _utc(value).astimezone(UTC).isoformat(timespec="microseconds")


def _create_tables() -> None:
    with op.batch_alter_table("imr_cases") as batch:
        batch.add_column(sa.Column("decisions_version", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("assignment", sa.Text, nullable=False, server_default="{}"))
    with op.batch_alter_table("imr_audit_head") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=False, server_default=""))
    case_fk = sa.ForeignKey("imr_cases.id", ondelete="CASCADE")
    op.create_table(
        "imr_documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, case_fk, nullable=False, index=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("day", sa.String(10)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source_case_number", sa.String(20)),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("added_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "imr_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("imr_cases.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("item_index", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("guideline", sa.Text, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("case_id", "version"),
    )
    op.create_table(
        "imr_determinations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("imr_cases.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("decisions_version", sa.Integer, nullable=False),
        sa.Column("letter", sa.Text, nullable=False),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("signed_by", sa.String(64), nullable=False),
        sa.Column("signed_at", TS, nullable=False),
        sa.Column("superseded_by", sa.Integer),
        sa.Column("supersede_reason", sa.Text),
        sa.UniqueConstraint("case_id", "version"),
    )


def _insert(bind, table: sa.TableClause, row: SimpleNamespace) -> None:
    """Insert `row` into `table` (as this revision made it, not the ORM model that later
    revisions extend) and give it its new id."""
    row.id = bind.execute(table.insert().values(**vars(row)).returning(table.c.id)).scalar_one()


def _move(session, numbers: dict[int, tuple[int, str]], keys: dict[int, str]) -> list[tuple]:
    """Documents, decisions and determinations into the case part; the audit entries to add."""
    from openimr.cases import audit

    bind = session.connection()
    entries: list[tuple] = []  # (at, action, entity, case_number, after)
    moved_at = datetime.now(UTC).isoformat(timespec="microseconds")
    for web in bind.execute(sa.select(WEB_CASES).order_by(WEB_CASES.c.id)).all():
        case_id, number = numbers[web.id]
        for doc in web.documents or []:
            row = SimpleNamespace(case_id=case_id, kind=str(doc.get("kind") or "medical_record")[:30],
                                  name=str(doc.get("name") or "document")[:200], day=(doc.get("date") or None),
                                  text=str(doc.get("text") or ""), source_case_number=doc.get("source_case_number"),
                                  sha256="", added_at=moved_at)
            row.sha256 = audit.document_digest(row)
            _insert(bind, DOCUMENTS, row)
            entries.append((moved_at, "document_moved", "document", number,
                            {"id": row.id, "kind": row.kind, "name": row.name, "chars": len(row.text),
                             "sha256": row.sha256}))
        bind.execute(CASES.update().where(CASES.c.id == case_id).values(assignment=json.dumps(web.assignment or {})))
    made: dict[int, list[tuple[datetime, int]]] = {}
    for old in bind.execute(sa.select(WEB_DECISIONS).order_by(WEB_DECISIONS.c.case_id, WEB_DECISIONS.c.id)).all():
        case_id, number = numbers[old.case_id]
        versions = made.setdefault(old.case_id, [])
        row = SimpleNamespace(case_id=case_id, version=len(versions) + 1, item_index=old.item_index,
                              decision=old.decision, guideline=old.guideline or "", rationale=old.rationale or "",
                              author=keys.get(old.author_id, f"web:{old.author_id}"), created_at=_utc(old.created_at))
        _insert(bind, DECISIONS, row)
        versions.append((_utc(old.created_at), row.version))
        entries.append((moved_at, "decision_moved", "decision", number,
                        {"id": row.id, "item": row.item_index, "version": row.version, "decision": row.decision,
                         "author": row.author, "sha256": audit.decision_digest(row)}))
    for web_id, versions in made.items():
        bind.execute(CASES.update().where(CASES.c.id == numbers[web_id][0]).values(decisions_version=len(versions)))
    new_ids: dict[int, SimpleNamespace] = {}
    olds = bind.execute(sa.select(WEB_DETERMINATIONS).order_by(WEB_DETERMINATIONS.c.id)).all()
    for old in olds:
        case_id, number = numbers[old.case_id]
        stated = max((v for at, v in made.get(old.case_id, []) if at <= _utc(old.signed_at)), default=0)
        letter = json.dumps(old.letter) if not isinstance(old.letter, str) else old.letter
        row = SimpleNamespace(case_id=case_id, version=old.version, decisions_version=stated, letter=letter,
                              pdf=bytes(old.pdf), pdf_sha256=old.pdf_sha256,
                              signed_by=keys.get(old.signed_by, f"web:{old.signed_by}"),
                              signed_at=_utc(old.signed_at), supersede_reason=old.supersede_reason)
        _insert(bind, DETERMINATIONS, row)
        new_ids[old.id] = row
    for old in olds:
        row = new_ids[old.id]
        if old.superseded_by is not None and old.superseded_by in new_ids:
            row.superseded_by = new_ids[old.superseded_by].id
            bind.execute(DETERMINATIONS.update().where(DETERMINATIONS.c.id == row.id)
                         .values(superseded_by=row.superseded_by))
        entries.append((moved_at, "determination_moved", "determination", numbers[old.case_id][1],
                        {"id": row.id, "version": row.version, "decisions_version": row.decisions_version,
                         "pdf_sha256": audit.sha256(row.pdf), "letter_sha256": audit.sha256(row.letter),
                         "signed_by": row.signed_by}))
    return entries


def _rechain(bind, numbers: dict[int, tuple[int, str]], users: dict[int, str], moved: list[tuple]) -> None:
    """Both logs and the moved records' entries, in time order, re-chained under the key."""
    from openimr.cases import audit

    rows = [(_iso(r.at), 0, r.seq, {"at": r.at, "actor": r.actor, "action": r.action, "entity": r.entity,
                                    "entity_id": r.entity_id, "before": r.before, "after": r.after})
            for r in bind.execute(sa.select(LOG).order_by(LOG.c.seq)).all()]
    for r in bind.execute(sa.select(WEB_AUDIT).order_by(WEB_AUDIT.c.id)).all():
        number = numbers[r.case_id][1] if r.case_id in numbers else "workbench"
        actor = f"web:{users[r.user_id]}" if r.user_id in users else "system"
        rows.append((_iso(r.at), 1, r.id, {"at": _iso(r.at), "actor": actor, "action": r.action, "entity": "case",
                                           "entity_id": number, "before": audit.canonical(None),
                                           "after": audit.canonical(r.detail or {})}))
    for n, (at, action, entity, number, after) in enumerate(moved):
        rows.append((at, 2, n, {"at": at, "actor": ACTOR, "action": action, "entity": entity, "entity_id": number,
                                "before": audit.canonical(None), "after": audit.canonical(after)}))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    secret = audit.key()
    bind.execute(LOG.delete())
    previous = audit.GENESIS
    for seq, (_at, _source, _order, fields) in enumerate(rows, 1):
        fields = {"seq": seq, **fields}
        digest = audit.row_mac(fields, previous, secret)
        bind.execute(LOG.insert().values(**fields, prev_hash=previous, hash=digest))
        previous = digest
    bind.execute(HEAD.delete())
    bind.execute(HEAD.insert().values(id=1, seq=len(rows), hash=previous,
                                      mac=audit.head_mac(len(rows), previous, secret)))


def upgrade() -> None:
    from sqlalchemy.orm import Session

    _create_tables()
    bind = op.get_bind()
    by_number = dict(bind.execute(sa.select(CASES.c.case_number, CASES.c.id)).all())
    numbers = {web_id: (by_number[number], number)
               for web_id, number in bind.execute(sa.select(WEB_CASES.c.id, WEB_CASES.c.case_number))}
    users = dict(bind.execute(sa.select(USERS.c.id, USERS.c.username)).all())
    keys = {uid: pid or f"web:{uid}" for uid, pid in bind.execute(sa.select(USERS.c.id, USERS.c.panel_reviewer_id))}
    session = Session(bind=bind)
    try:
        moved = _move(session, numbers, keys)
        session.flush()
    finally:
        session.close()
    _rechain(bind, numbers, users, moved)
    for table in ("web_audit", "web_determinations", "web_decisions", "web_cases"):
        op.drop_table(table)


def downgrade() -> None:
    raise NotImplementedError("cases_0002 cannot be undone: restore a backup taken before the upgrade")
