"""The API's pydantic models: the contract of /api and of the CLI's JSON output."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from openimr import bounds
from openimr.cases.intake import Application  # the intake contract: the API takes it as it is
from openimr.library.search import Hit  # the library's hit: a draft's precedents

T = TypeVar("T")
Decision = Literal["Upheld", "Overturned"]


class Out(BaseModel):
    """Base of every API model: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class Page(Out, Generic[T]):
    """One page of a list: the rows, the total count, and where this page sits."""

    items: list[T]
    total: int
    page: int
    per_page: int


class UserOut(Out):
    """A user as admins see it (never the password hash). A reviewer's licences, specialties
    and whether they may sign are their panel record's (`panel_reviewer_id`), not the account's."""

    id: int
    username: str
    display_name: str
    role: str
    panel_reviewer_id: str | None = None
    may_sign: bool = False
    licensure: list[str] = Field(default_factory=list)
    specialties: list[str] = Field(default_factory=list)


class LoginIn(Out):
    username: str = Field(max_length=bounds.MAX_USERNAME)
    password: str = Field(max_length=bounds.MAX_PASSWORD)


class LoginOut(Out):
    """Returned on sign-in: who you are and the CSRF token for later writes."""

    user: UserOut
    csrf_token: str


class ReviewerOut(Out):
    """An expert reviewer of the panel (the one registry) with their credentials, whether
    they may sign (`why_not` otherwise), current load and the linked workbench user."""

    id: str
    name: str
    profession: str
    licensure: list[str]
    specialties: list[str]
    active: bool
    years: float = Field(description="years of active clinical practice")
    hours: float = Field(description="hours a week in active practice now")
    may_sign: bool
    why_not: str | None = None
    open_cases: int
    user: str | None = None


class CaseSummary(Out):
    """A row of the case queue. `assigned_reviewer` is withheld from intake users."""

    id: int
    case_number: str
    status: str
    priority: str
    received: date
    determination_due: date | None
    overdue: bool
    due_soon: bool
    items: int
    assigned: bool
    assigned_reviewer: str | None = None


class Evidence(Out):
    document: str | int | None = None
    start: int | None = None
    end: int | None = None
    text: str = ""
    page: int | None = None  # the case file's page, for a document from an indexed case file
    document_id: int | None = None  # the stored document's id (its pages: /cases/{id}/documents/{doc}/pages/{n})


class CriterionView(Out):
    criterion: str
    status: str
    evidence: list[Evidence] = Field(default_factory=list)


class DriverView(Out):
    """A feature that moved the engine's calibrated probability: its plain-words label, its
    value for this item, and its weight in log-odds (positive: toward Overturned)."""

    feature: str
    label: str
    value: float
    weight: float


class PrecedentHit(Hit):
    """A precedent beside a draft (engine.precedents.nearest): the library's hit, of the same
    request category, and the knowledge-base entry of its request (`kb_entry`, None when no
    entry addresses it; never another entry than the draft's)."""

    kb_entry: str | None = None


class DraftView(Out):
    """The determination engine's recommendation for one item (never the reviewer's; never
    shown to intake users). `criteria_verdict` is what the guideline's criteria alone say:
    met, not_met, not_shown (the records do not document them) or no_entry (no knowledge-base
    entry addresses the request); `confidence` is "clear" when a firm rule decided (else
    "uncertain"); `drivers` are what moved a learned probability (drafts of the earlier engine;
    the rule engine leaves them empty); `kb_entry` the knowledge-base entry it applied;
    `precedents` the nearest past items of the same request category and entry, beside the
    draft and never votes, `precedents_scope` saying which category and entry in words;
    `guideline_note` what to check when the MTUS in force on the UR decision's date is not the
    edition the engine's rules encode (after 1 December 2017)."""

    decision: str
    probability_overturned: float | None = None
    guideline: str = ""
    rationale: str = ""
    criteria: list[CriterionView] = Field(default_factory=list)
    criteria_verdict: Literal["met", "not_met", "not_shown", "no_entry"] | None = None
    confidence: Literal["clear", "uncertain"] | None = None
    drivers: list[DriverView] = Field(default_factory=list)
    kb_entry: str | None = None
    region: str | None = None
    precedents: list[PrecedentHit] = Field(default_factory=list)
    precedents_scope: str = ""
    guideline_note: str | None = None


class DecisionIn(Out):
    """The expert reviewer's decision on one disputed item."""

    decision: Decision
    guideline: str = Field("", max_length=bounds.MAX_GUIDELINE)
    rationale: str = Field("", max_length=bounds.MAX_RATIONALE)


class DecisionOut(Out):
    """A decision as stored: `version` is the decisions version it made; `decisions_version`
    (in answers to a write) the case's version now, which a sign request carries."""

    id: int
    version: int
    decisions_version: int | None = None
    item_index: int
    decision: Decision
    guideline: str
    rationale: str
    created_at: datetime


class ItemView(Out):
    index: int
    request: str
    ur_guideline: str = ""
    outcome: str = ""
    draft: DraftView | None = None
    decision: DecisionOut | None = None


class DocumentView(Out):
    index: int
    kind: str
    name: str
    date: str | None = None
    text: str


class DeterminationOut(Out):
    """A signed version of the Final Determination; `decisions_version`: the version of the
    decisions it states."""

    id: int
    version: int
    decisions_version: int
    signed_at: datetime
    signed_by: str | None = None
    superseded_by: int | None = None
    superseded_by_version: int | None = None  # the version that superseded this one
    supersede_reason: str | None = None
    qa_returned: str | None = None  # QA returned this signed draft before it was issued (never issued)
    pdf_url: str


class CaseEvent(Out):
    """A dated event the case part recorded (notice sent, records received, ...)."""

    kind: str
    day: date
    method: str | None = None


class CaseDetail(CaseSummary):
    """One case; `decisions_version` is the version of the decisions shown, which a sign
    request carries."""

    decisions_version: int = 0
    date_of_injury: date | None = None
    ur_denial_date: date | None = None
    records_due: date | None = None
    events: list[CaseEvent] = Field(default_factory=list)
    eligibility: dict = Field(default_factory=dict)
    parties: list[dict] = Field(default_factory=list)  # as entered at intake: {role, name, detail}
    documents: list[DocumentView] = Field(default_factory=list)
    disputed_items: list[ItemView] = Field(default_factory=list)
    determinations: list[DeterminationOut] = Field(default_factory=list)
    assignment_explanation: list[str] | None = None


class EligibilityReason(Out):
    code: str
    message: str


class EligibilityOut(Out):
    eligible: bool
    reasons: list[EligibilityReason] = Field(default_factory=list)
    deadlines: dict = Field(default_factory=dict)


class IntakeOut(Out):
    case: CaseSummary
    eligibility: EligibilityOut


class AssignIn(Out):
    reviewer_id: str | None = Field(default=None, min_length=1, max_length=bounds.MAX_REVIEWER_ID)


class SignIn(Out):
    """A sign request: the clinician's attestation (that they reviewed the records and
    decided each disputed item) and the decisions version they saw and sign."""

    attest: bool
    version: int = Field(ge=0, le=bounds.MAX_VERSION)


class ReasonIn(Out):
    """Why: superseding a determination, withdrawing or terminating a case, an appeal."""

    reason: str = Field(min_length=3, max_length=bounds.MAX_REASON)


SupersedeIn = ReasonIn


class NoteIn(Out):
    """A note on a case (QA, admin, the assigned reviewer); never shown to intake users."""

    text: str = Field(min_length=1, max_length=bounds.MAX_NOTE)


class NoteOut(Out):
    """A note on a case, as the audit log keeps it."""

    seq: int
    at: str
    actor: str
    role: str
    text: str


class CaseActionOut(Out):
    """A withdraw, terminate or appeal made (`changed`), or found made already (a repeat)."""

    case_id: int
    case_number: str
    status: str
    changed: bool


class DocumentIn(Out):
    kind: Literal["clinical_summary", "medical_record", "ur_decision"] = "medical_record"
    name: str = Field(min_length=1, max_length=bounds.MAX_DOCUMENT_NAME)
    date: str | None = Field(None, description="YYYY-MM-DD, not in the future")
    text: str = Field(min_length=1, max_length=bounds.MAX_DOCUMENT_TEXT)

    @field_validator("date")
    @classmethod
    def _a_plausible_date(cls, value: str | None) -> str | None:
        day = bounds.parse_day("date", value)
        return day.isoformat() if day else None


class ApplicationIn(Application):
    """DWC Form IMR: the case part's Application (the one contract of its JSON) and the
    records sent with it."""

    documents: list[DocumentIn] = Field(default_factory=list, max_length=bounds.MAX_DOCUMENTS)
