"""Expert reviewers of the panel (REVIEWER.json) and their storage.

The reviewer's name is confidential (Lab. Code 4610.6(f)): it is stored for the review
organization's administrators and shown only with an explicit admin option; everything
else identifies a reviewer by id.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, field_validator
from sqlalchemy import func, select

from openimr.cases import audit, lifecycle
from openimr.cases.errors import CaseConflict, CaseError
from openimr.cases.intake import PartyKind, format_errors
from openimr.cases.store import writing
from openimr.cases.tables import CaseRow, ReviewerRow
from openimr.models import Model

DATA = Path(__file__).parent / "data"


class ReviewerError(ValueError):
    """A reviewer file or request that cannot be used; `problems` lists each one."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


@lru_cache(maxsize=1)
def states() -> dict[str, str]:
    """Postal code -> state name (data/states.yaml)."""
    data = yaml.safe_load((DATA / "states.yaml").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(k, str) and len(k) == 2 for k in data):
        raise ValueError(f"{DATA / 'states.yaml'}: expected two-letter codes mapped to names")
    return data


class License(Model):
    state: str
    type: str | None = None
    unrestricted: bool = True
    expires: date | None = None

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in states():
            names = {v.lower(): k for k, v in states().items()}
            if value.strip().lower() in names:
                return names[value.strip().lower()]
            raise ValueError(f"unknown U.S. state {value!r} (a two-letter code such as CA)")
        return code


class BoardCertification(Model):
    board: str
    specialty: str
    current: bool = True


class Affiliation(Model):
    """A professional, familial or financial tie to an organization or person."""

    name: str = Field(min_length=1)
    kind: PartyKind
    relation: str = ""


class Reviewer(Model):
    """An expert reviewer (REVIEWER.json)."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1)
    profession: str
    licenses: list[License] = Field(default_factory=list)
    board_certifications: list[BoardCertification] = Field(default_factory=list)
    years_active_practice: float = Field(ge=0)
    hours_per_week: float = Field(ge=0, le=168)
    affiliations: list[Affiliation] = Field(default_factory=list)
    patients_treated: list[str] = Field(default_factory=list)
    open_cases: int = Field(default=0, ge=0)
    active: bool = True

    @field_validator("profession")
    @classmethod
    def _known_profession(cls, value: str) -> str:
        from openimr.panel.matching import fit_table

        canonical = fit_table().canonical(value)
        if canonical not in fit_table().professions:
            raise ValueError(f"unknown profession {value!r}; expected one of {', '.join(fit_table().professions)}")
        return canonical

    def public(self) -> dict:
        """The reviewer without the name: what intake users may see."""
        return self.model_dump(mode="json", exclude={"name"})


def parse_reviewers(data: object, source: str) -> list[Reviewer]:
    """One reviewer or a list of them, validated; every problem with its path."""
    items = data if isinstance(data, list) else [data]
    out, problems = [], []
    for index, item in enumerate(items):
        try:
            out.append(Reviewer.model_validate(item))
        except ValidationError as error:
            prefix = f"[{index}]." if isinstance(data, list) else ""
            problems += [prefix + line for line in format_errors(error)]
    ids: list[str] = [item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]
    problems += [f"id: {i!r} appears more than once" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise ReviewerError(source, problems)
    return out


def load_reviewers(path: str | Path) -> list[Reviewer]:
    """Read REVIEWER.json (one reviewer) or a list of reviewers."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReviewerError(str(path), ["file not found"]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReviewerError(str(path), [f"not valid JSON ({error.__class__.__name__})"]) from None
    return parse_reviewers(data, str(path))


def add(session, reviewers: list[Reviewer], actor: str | None = None) -> None:
    """Add or replace reviewers of the panel, in the caller's transaction (audited without names)."""
    with writing(session):
        for reviewer in reviewers:
            _add_one(session, reviewer, actor)


def _add_one(session, reviewer: Reviewer, actor: str | None) -> None:
    row = session.get(ReviewerRow, reviewer.id)
    before = json.loads(row.data) if row else None
    if before:
        before.pop("name", None)
    if row is None:
        row = ReviewerRow(id=reviewer.id, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
        session.add(row)
    row.name = reviewer.name
    row.profession = reviewer.profession
    row.data = reviewer.model_dump_json()
    row.active = reviewer.active
    session.flush()
    audit.append(session, "add" if before is None else "replace", "reviewer", reviewer.id, before, reviewer.public(), actor)


def stored(session) -> list[Reviewer]:
    """Every active reviewer of the stored panel, by id."""
    rows = session.scalars(select(ReviewerRow).where(ReviewerRow.active.is_(True)).order_by(ReviewerRow.id))
    return [Reviewer.model_validate_json(row.data) for row in rows]


def names(session) -> dict[str, str]:
    """The confidential names of every reviewer on the panel, by id (admin and QA only)."""
    return dict(session.execute(select(ReviewerRow.id, ReviewerRow.name)).all())


def record(session, reviewer_id: str | None) -> Reviewer | None:
    """The panel's record of one reviewer (active or not), or None when not on the panel."""
    row = session.get(ReviewerRow, reviewer_id) if reviewer_id else None
    return Reviewer.model_validate_json(row.data) if row is not None else None


def why_cannot_sign(reviewer: Reviewer | None, on: date | None = None) -> str | None:
    """Why this panel record does not let its reviewer be assigned a case or sign its
    determination, in a few words (None when it does): the reviewer must be on the panel
    (a clinician of one of its professions), active, with a current unrestricted licence."""
    from openimr.panel.matching import license_problem

    if reviewer is None:
        return "not on the panel (add the reviewer with `openimr panel add`)"
    if not reviewer.active:
        return "inactive on the panel"
    return license_problem(reviewer, on or date.today())


def signer(session, reviewer_id: str | None, on: date | None = None,
           error: type[CaseError] = CaseConflict) -> Reviewer:
    """The one registry's answer to "may this reviewer be assigned a case and sign it?":
    their panel record, or `error` (one line: reviewer and reason)."""
    reviewer = record(session, reviewer_id)
    why = why_cannot_sign(reviewer, on)
    if why:
        raise error(f"reviewer {reviewer_id}: {why}: cannot sign a determination")
    assert reviewer is not None
    return reviewer


def assigned_load(session) -> dict[str, int]:
    """Open cases assigned in this database, per reviewer id."""
    rows = session.execute(
        select(CaseRow.reviewer_id, func.count())
        .where(CaseRow.status.in_(lifecycle.states("open")), CaseRow.reviewer_id.is_not(None))
        .group_by(CaseRow.reviewer_id)
    )
    return {reviewer_id: count for reviewer_id, count in rows}
