"""The data types of OpenIMR: the contract of every JSON file the CLI reads or writes.

The words are those of the Final Determination letters: a letter decides disputed items,
each Upheld (not medically necessary) or Overturned (medically necessary), citing the
guideline the claims administrator relied on and the one the expert reviewer relied on.
"""

from __future__ import annotations

from datetime import date
from datetime import date as Day  # for fields named `date`
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from openimr.bounds import MAX_DOCUMENTS, MAX_NAME, MAX_REASON, MAX_SHORT

Layout = Literal["L2013-notice", "L2013", "L2015", "L2016", "L-professional"]
LAYOUTS: tuple[Layout, ...] = get_args(Layout)
Decision = Literal["Upheld", "Overturned"]
DECISIONS: tuple[Decision, ...] = get_args(Decision)
Priority = Literal["standard", "expedited"]
Scope = Literal["MTUS", "non-MTUS", "none"]



# pydantic's messages of the common refusals, in the plain words of a one-line refusal
_PLAIN = {
    "string_too_long": "at most {max_length} characters",
    "string_too_short": "at least {min_length} characters",
    "too_long": "at most {max_length} entries",
    "too_short": "at least {min_length} entries",
    "less_than_equal": "at most {le}",
    "greater_than_equal": "at least {ge}",
    "less_than": "less than {lt}",
    "greater_than": "more than {gt}",
    "int_parsing": "not a whole number",
    "int_from_float": "not a whole number",
    "int_type": "not a whole number",
    "date_parsing": "not a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "not a date (YYYY-MM-DD)",
    "date_type": "not a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "not a date (YYYY-MM-DD)",
    "bool_parsing": "not true or false",
    "missing": "required",
    "extra_forbidden": "not a field of this form",
}


def _plain_message(problem: Any) -> str:
    message = str(problem.get("msg", "invalid"))
    if message.startswith("Value error, "):
        return message[len("Value error, "):]
    kind = str(problem.get("type", ""))
    if kind == "string_too_short" and (problem.get("ctx") or {}).get("min_length") == 1:
        return "required"  # an empty text where one is needed
    template = _PLAIN.get(kind)
    if template:
        try:
            return template.format(**(problem.get("ctx") or {}))
        except (KeyError, IndexError):
            return message
    return message


def problem_lines(error: ValidationError | Any, whole: str = "", skip: tuple[str, ...] = (),
                  plain: bool = False) -> list[str]:
    """Each problem of a pydantic error (or FastAPI's RequestValidationError, which has the
    same `errors()`) as one line: its field path (`whole` when the input as a whole is
    wrong; the parts in `skip`, such as "body", left out, and pydantic's names of validator
    steps never shown) and its message (`plain`: in plain words, without pydantic's "Value
    error, " prefix: "ur_decision.items.3.request: at most 500 characters")."""
    lines = []
    for problem in error.errors() or [{}]:
        parts = [str(part) for part in problem.get("loc", ()) if part not in skip]
        where = ".".join(part for part in parts if "[" not in part) or whole
        message = _plain_message(problem) if plain else str(problem.get("msg", "invalid"))
        if plain and ": " in message and message.split(": ", 1)[0].replace(".", "").replace("_", "").isalnum():
            # a validator's own "field: reason" (a model rule naming its field)
            inner, message = message.split(": ", 1)
            if not where or where == whole:
                where = inner
            elif where.rsplit(".", 1)[-1] != inner:  # a field validator names its own field
                where = f"{where}.{inner}"
        lines.append(f"{where}: {' '.join(message.split())}")
    return lines


def first_error(error: ValidationError | Any, whole: str = "", skip: tuple[str, ...] = (),
                plain: bool = False) -> str:
    """A pydantic error in one line: the first of its `problem_lines` — what a refusal
    naming the field says."""
    return problem_lines(error, whole, skip, plain)[0]


class Model(BaseModel):
    """Base for every OpenIMR model: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class GuidelineReference(Model):
    """One guideline named inside a citation ("MTUS Low Back Complaints 2004, Page(s): 303")."""

    scope: Scope
    guideline: str | None = None
    year: int | None = None
    chapter: int | None = None
    sections: list[str] = Field(default_factory=list)
    pages: list[str] = Field(default_factory=list)


class Citation(Model):
    """A guideline line of a letter: the text as printed and what it means.

    `scope`, `guideline`, `year`, `chapter`, `sections` and `pages` describe the first
    guideline named (the one relied on first); `references` lists every guideline named,
    in the order printed. A citation naming none has scope "none".
    """

    text: str = ""
    scope: Scope = "none"
    guideline: str | None = None
    year: int | None = None
    chapter: int | None = None
    sections: list[str] = Field(default_factory=list)
    pages: list[str] = Field(default_factory=list)
    references: list[GuidelineReference] = Field(default_factory=list)


class ReviewerCredentials(Model):
    """What a letter says of its expert reviewer. Never the reviewer's name."""

    licensure: list[str] = Field(default_factory=list)
    specialties: list[str] = Field(default_factory=list)
    statement: str = ""
    # Years in active clinical practice, from the panel record (the mailed letter states it).
    years_in_practice: int | None = Field(default=None, ge=0, le=80)


class Item(Model):
    """One disputed item (treatment, service or good) and its decision."""

    request: str
    decision: Decision
    medically_necessary: bool
    claims_administrator_guideline: Citation = Field(default_factory=Citation)
    imr_guideline: Citation = Field(default_factory=Citation)
    rationale: str = ""
    # Where UR modified the request, the heading names the original request, what the
    # claims administrator authorized and the portion left in dispute.
    original_request: str | None = None
    authorized: str | None = None
    disputed_request: str | None = None

    @model_validator(mode="after")
    def _decision_matches_necessity(self) -> Item:
        if self.medically_necessary != (self.decision == "Overturned"):
            raise ValueError(
                f"decision {self.decision!r} contradicts medically_necessary="
                f"{self.medically_necessary}: Overturned means medically necessary"
            )
        return self


class Letter(Model):
    """An IMR Final Determination letter, in any layout used since 2013."""

    layout: Layout
    case_number: str | None = None
    date_assigned: date | None = None
    date_of_injury: date | None = None
    decision_date: date | None = None
    ur_denial_date: date | None = None
    application_received: date | None = None
    priority: Priority | None = None
    review_organization: str = "MAXIMUS Federal Services"
    reviewer: ReviewerCredentials = Field(default_factory=ReviewerCredentials)
    documents_reviewed: list[str] | None = None
    clinical_case_summary: str = ""
    items: list[Item] = Field(default_factory=list)


Text = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]


class Parties(Model):
    """Who the letter is about and to: the parties the mailed letter's header names.

    Left out of the published (redacted) letter. The expert reviewer is never a party here.
    """

    employee: Text | None = None
    employer: Text | None = None
    claims_administrator: Text | None = None
    requesting_physician: Text | None = None
    attorney: Text | None = None  # the employee's attorney, where represented
    claim_number: Annotated[str, Field(min_length=1, max_length=MAX_SHORT)] | None = None


class DocumentReviewed(Model):
    """One record of the case file the expert reviewer considered: what, by whom, when."""

    title: Text
    author: Text | None = None  # the provider or author; left out of the published letter
    date: Day | None = None
    through: Day | None = None  # the last date, where the entry covers a date range

    @model_validator(mode="after")
    def _range_in_order(self) -> DocumentReviewed:
        if self.through is not None and (self.date is None or self.through < self.date):
            raise ValueError("through: must be on or after date (and date must be given)")
        return self


class Supersedes(Model):
    """The earlier Final Determination a letter replaces, and why."""

    determination: Annotated[str, Field(min_length=1, max_length=MAX_SHORT)]  # its number, e.g. "CM26-0000001 v1"
    date: Day  # the date of the superseded letter
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON)]


class LetterContext(Model):
    """What a mailable Final Determination letter needs beyond the Letter itself.

    `reviewer` is the credentials block from the assigned reviewer's panel record; like
    every model here it has no name field, and any unknown field is refused.
    `documents`, where given, replace `letter.documents_reviewed`.
    """

    letter: Letter
    parties: Parties = Field(default_factory=Parties)
    documents: list[DocumentReviewed] | None = Field(default=None, max_length=MAX_DOCUMENTS)
    reviewer: ReviewerCredentials | None = None
    supersedes: Supersedes | None = None


def decision_of(text: str | None) -> Decision | None:
    """`text` as a Decision when it is one exactly ("Upheld" or "Overturned"), else None."""
    return next((decision for decision in DECISIONS if decision == text), None)


__all__ = [
    "DECISIONS",
    "LAYOUTS",
    "Citation",
    "Decision",
    "decision_of",
    "DocumentReviewed",
    "GuidelineReference",
    "Item",
    "Layout",
    "Letter",
    "LetterContext",
    "Model",
    "Parties",
    "Supersedes",
    "Priority",
    "ReviewerCredentials",
    "Scope",
]
