"""The IMR application (DWC Form IMR, 8 CCR 9792.10.2) as a validated model.

`load_application(path)` reads APPLICATION.json; a file that does not validate raises
`ApplicationError` listing every problem with its field path, one per line.
The field names are the contract of APPLICATION.json: extend them, never rename.
"""

from __future__ import annotations

import datetime as dt
import json
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from openimr.bounds import (
    MAX_GUIDELINE,
    MAX_ITEMS,
    MAX_NAME,
    MAX_PARTIES,
    MAX_PRIOR_IMRS,
    MAX_REQUEST,
    MAX_SHORT,
    Name,
    RequestText,
    check_day,
)
from openimr.models import Model, problem_lines

ReviewType = Literal["regular", "expedited"]
ServiceMethod = Literal["mail", "electronic", "personal", "fax"]
Outcome = Literal["denied", "modified"]
PartyKind = Literal[
    "employer",
    "insurer",
    "claims_administrator",
    "officer",
    "ur_organization",
    "medical_group",
    "physician",
    "facility",
    "manufacturer",
    "attorney",
    "employee",
    "family",
    "other",
]


class ApplicationError(ValueError):
    """An application file that cannot be used: `problems` lists each one (field: reason)."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class Employee(Model):
    """The injured worker (confidential: removed from every published letter)."""

    name: Name
    date_of_birth: date | None = None
    address: str | None = Field(None, max_length=MAX_NAME)
    claim_number: str | None = Field(None, max_length=MAX_SHORT)
    phone: str | None = Field(None, max_length=MAX_NAME)

    @field_validator("date_of_birth")
    @classmethod
    def _born_plausibly(cls, value: date | None) -> date | None:
        return check_day("date_of_birth", value)


class Employer(Model):
    name: Name


class ClaimsAdministrator(Model):
    name: Name
    adjuster: str | None = Field(None, max_length=MAX_NAME)
    address: str | None = Field(None, max_length=MAX_NAME)


class RequestingPhysician(Model):
    name: Name
    specialty: str | None = Field(None, max_length=MAX_NAME)
    medical_group: str | None = Field(None, max_length=MAX_NAME)


class Attorney(Model):
    name: Name
    firm: str | None = Field(None, max_length=MAX_NAME)


class Party(Model):
    """Any other party of the case: facility, manufacturer, UR organization, family member…"""

    name: Name
    kind: PartyKind


class DisputedItem(Model):
    """One treatment as requested on the RFA, with what UR did to it."""

    request: RequestText
    outcome: Outcome
    guideline: str | None = Field(None, max_length=MAX_GUIDELINE)
    authorized: str | None = Field(None, max_length=MAX_REQUEST)


class URDecision(Model):
    """The utilization review decision that denied or modified the request."""

    # dt.date: inside this class `date` names the field
    date: dt.date
    served: dt.date
    service: ServiceMethod = "mail"
    missing_information: bool = False
    organization: str | None = Field(None, max_length=MAX_NAME)
    rfa_date: dt.date | None = None
    items: list[DisputedItem] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _served_after_decision(self) -> URDecision:
        check_day("date", self.date)
        check_day("served", self.served)
        check_day("rfa_date", self.rfa_date)
        if self.served < self.date:
            raise ValueError(f"served: {self.served} is before the UR decision date ({self.date})")
        return self


class PriorIMR(Model):
    """An earlier IMR on a treatment of the same worker (a case number is optional)."""

    request: RequestText
    case_number: str | None = Field(None, max_length=MAX_SHORT)
    decision_date: date | None = None

    @field_validator("decision_date")
    @classmethod
    def _decided_plausibly(cls, value: date | None) -> date | None:
        return check_day("decision_date", value)


class Application(Model):
    """An application for Independent Medical Review (DWC Form IMR)."""

    review_type: ReviewType
    received: date
    signed: bool
    ur_decision_attached: bool
    date_of_injury: date
    employee: Employee
    employer: Employer
    claims_administrator: ClaimsAdministrator
    requesting_physician: RequestingPhysician
    attorney: Attorney | None = None
    parties: list[Party] = Field(default_factory=list, max_length=MAX_PARTIES)
    ur_decision: URDecision
    liability_dispute: bool = False
    formulary_drug: bool = False
    prior_imr_requests: list[PriorIMR] = Field(default_factory=list, max_length=MAX_PRIOR_IMRS)

    @field_validator("prior_imr_requests", mode="before")
    @classmethod
    def _requests_as_text(cls, value):
        """A prior IMR may be given as the bare request text."""
        if isinstance(value, list):
            return [{"request": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> Application:
        """The date rules of an application (bounds.check_day): no date in the future nor
        before 1900; received not before the UR decision."""
        check_day("received", self.received)
        check_day("date_of_injury", self.date_of_injury)
        if self.received < self.ur_decision.date:
            raise ValueError(
                f"received: {self.received} is before the UR decision date ({self.ur_decision.date})"
            )
        return self

    def party_names(self) -> list[tuple[str, str]]:
        """Every named party of the case as (kind, name): the conflict and redaction lists."""
        named = [
            ("employee", self.employee.name),
            ("employer", self.employer.name),
            ("claims_administrator", self.claims_administrator.name),
            ("claims_administrator", self.claims_administrator.adjuster),
            ("physician", self.requesting_physician.name),
            ("medical_group", self.requesting_physician.medical_group),
            ("ur_organization", self.ur_decision.organization),
        ]
        if self.attorney:
            named += [("attorney", self.attorney.name), ("law_firm", self.attorney.firm)]
        named += [(p.kind, p.name) for p in self.parties]
        return [(kind, name) for kind, name in named if name and name.strip()]


def format_errors(error: ValidationError) -> list[str]:
    """Pydantic errors as 'field.path: reason' lines, one per problem."""
    return problem_lines(error, "(file)", plain=True)


def parse_application(data: object, source: str = "<application>") -> Application:
    """Validate already-decoded JSON data as an Application."""
    try:
        return Application.model_validate(data)
    except ValidationError as error:
        raise ApplicationError(source, format_errors(error)) from None


def load_application(path: str | Path) -> Application:
    """Read and validate APPLICATION.json; raise ApplicationError listing every problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ApplicationError(str(path), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ApplicationError(str(path), [f"cannot be read ({error.__class__.__name__})"]) from None
    except json.JSONDecodeError as error:
        raise ApplicationError(str(path), [f"not valid JSON (line {error.lineno}: {error.msg})"]) from None
    return parse_application(data, str(path))
