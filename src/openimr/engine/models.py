"""The engine's input (CASE.json) and output (one determination per case)."""

from __future__ import annotations

import datetime as _dt
from typing import Literal

from pydantic import Field, model_validator

from openimr.bounds import MAX_CASE_TEXT, MAX_DOCUMENT_TEXT, MAX_DOCUMENTS, MAX_ITEMS
from openimr.models import Citation, Decision, Model, Priority

CriterionStatus = Literal["met", "not_met", "insufficient"]  # what the records show for one criterion
CriteriaVerdict = Literal["met", "not_met", "not_shown", "no_entry"]  # what the criteria say of an item (see engine/rules.py)
Confidence = Literal["clear", "uncertain"]
EvidenceStep = Literal["MTUS", "ACOEM/ODG", "other guidelines", "studies"]  # the evidence search sequence, 8 CCR 9792.21.1

DRAFT_NOTICE = (
    "DRAFT RECOMMENDATION for a licensed clinician (the expert reviewer) to review and sign; "
    "it is not a determination until signed."
)


class CaseDocument(Model):
    """A document of the case file."""

    kind: Literal["clinical_summary", "medical_record", "ur_decision"]
    date: _dt.date | None = None
    text: str = Field(max_length=MAX_DOCUMENT_TEXT)


class DisputedRequest(Model):
    """A disputed item as the application states it, with the guideline UR cited."""

    request: str = Field(min_length=1)
    ur_guideline: str = ""


class Case(Model):
    """CASE.json: what the engine is given to draft a determination."""

    case_number: str | None = None
    date_of_injury: _dt.date | None = None
    ur_denial_date: _dt.date | None = None
    priority: Priority | None = None
    documents: list[CaseDocument] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    disputed_items: list[DisputedRequest] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _bounded_text(self) -> Case:
        """The engine reads every document for every draft: their text together is bounded."""
        total = sum(len(d.text) for d in self.documents)
        if total > MAX_CASE_TEXT:
            raise ValueError(f"documents: {total:,} characters of text, over the engine's limit of {MAX_CASE_TEXT:,} "
                             "for one draft (give the clinical summary and the records it rests on)")
        return self


class Evidence(Model):
    """A span of a case document that supports a criterion status (`document` is the index
    in the case's documents; -1 means the case's own dates, `text` then states them).
    `fact` is the clinical fact the span mentions and `negated` whether the records deny it
    there ("no red flags"), so a reader can see why the span counts for or against."""

    document: int
    start: int
    end: int
    text: str
    fact: str | None = None
    negated: bool = False


class CriterionResult(Model):
    """A knowledge-base criterion and what the case documents show for it."""

    criterion: str
    role: Literal["required", "sufficient", "supporting"] = "required"
    status: CriterionStatus
    evidence: list[Evidence] = Field(default_factory=list)


class Precedent(Model):
    """A similar past disputed item and its outcome (from the library)."""

    case_number: str | None = None
    request: str
    decision: str
    score: float | None = None


class Driver(Model):
    """Kept so that stored drafts of the earlier engine still read: one feature that moved a
    learned probability. Drafts of the rule engine leave `drivers` empty."""

    feature: str
    label: str
    value: float
    weight: float


class ItemDetermination(Model):
    """The draft determination of one disputed item."""

    request: str
    decision: Decision
    medically_necessary: bool
    probability_overturned: float
    imr_guideline: Citation = Field(default_factory=Citation)
    rationale: str
    criteria: list[CriterionResult] = Field(default_factory=list)
    precedents: list[Precedent] | None = None
    category: str | None = None
    region: str | None = None
    left_mtus_because: str | None = None
    guideline_note: str | None = None  # the MTUS in force on the decision's date is not the edition the rules encode
    kb_entry: str | None = None
    criteria_verdict: CriteriaVerdict | None = None
    drivers: list[Driver] = Field(default_factory=list)
    confidence: Confidence | None = None
    rule: str | None = None  # the rule outcome that decided: rule:<entry>:<rule> or criteria:<entry>:<verdict>
    probability_interval: tuple[float, float] | None = None  # 90% interval of probability_overturned
    calibration_items: int | None = None  # shared-letter items the calibration of this outcome rests on
    evidence_step: EvidenceStep | None = None


class Determination(Model):
    """The draft determination of a case: one result per disputed item."""

    case_number: str | None = None
    notice: str = DRAFT_NOTICE
    items: list[ItemDetermination]
