"""Eligibility screening of an IMR application (8 CCR 9792.10.3).

Each rule is a function returning a Reason or None; each cites its source (the SOURCE_*
constants: regulation or statute section) in the Reason and in its message. Reason codes are the contract of
`case check --json`: unsigned, late, ur_decision_missing, not_medical_necessity,
prior_imr, liability_dispute.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from openimr.cases.deadlines import CaseEvents, Deadlines, compute
from openimr.cases.intake import Application
from openimr.cases.settings import Settings

CODES = ("unsigned", "late", "ur_decision_missing", "not_medical_necessity", "prior_imr", "liability_dispute")


@dataclass
class Reason:
    code: str
    message: str
    source: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class Eligibility:
    eligible: bool
    reasons: list[Reason]
    deadlines: Deadlines
    deferred: bool = False

    def as_json(self) -> dict:
        """The `case check --json` object."""
        return {
            "eligible": self.eligible,
            "reasons": [r.as_json() for r in self.reasons],
            "deadlines": self.deadlines.as_json(),
            "assumptions": self.deadlines.assumptions,
        }


def normalise_request(text: str) -> str:
    """A treatment request reduced for comparison: lower case, words only, no quantities."""
    words = re.findall(r"[a-z]+", text.lower())
    return " ".join(w for w in words if w not in {"x", "the", "of", "a", "an", "for", "and", "with"})


SOURCE_SIGNED = "8 CCR 9792.10.2; 8 CCR 9792.10.3"
SOURCE_LATE = "8 CCR 9792.10.1(b)(1); Lab. Code 4610.5"
SOURCE_ATTACHED = "8 CCR 9792.10.1(b)(1)"
SOURCE_MEDICAL = "Lab. Code 4610.5(c)(1); 8 CCR 9792.10.1"
SOURCE_PRIOR = "8 CCR 9792.10.3"
SOURCE_LIABILITY = "Lab. Code 4610.5; 8 CCR 9792.10.3(d)"


def rule_signed(app: Application, deadlines: Deadlines, prior: list[str]) -> Reason | None:
    """The form must be signed by the employee or a representative."""
    if app.signed:
        return None
    return Reason("unsigned", f"the application is not signed by the employee or a representative ({SOURCE_SIGNED})", SOURCE_SIGNED)


def rule_timely(app: Application, deadlines: Deadlines, prior: list[str]) -> Reason | None:
    """Filed within 30 days of service of the UR decision (10 for formulary drugs, a setting)."""
    due = deadlines.filing_deadline
    if due is None or app.received <= due:
        return None
    days = (app.received - app.ur_decision.served).days
    return Reason(
        "late",
        f"received {app.received.isoformat()}, {days} days after service of the UR decision; "
        f"the filing deadline was {due.isoformat()} ({SOURCE_LATE})",
        SOURCE_LATE,
    )


def rule_attached(app: Application, deadlines: Deadlines, prior: list[str]) -> Reason | None:
    """A copy of the UR decision must be attached to the application."""
    if app.ur_decision_attached:
        return None
    return Reason("ur_decision_missing", f"a copy of the UR decision is not attached ({SOURCE_ATTACHED})", SOURCE_ATTACHED)


def rule_medical_necessity(app: Application, deadlines: Deadlines, prior: list[str]) -> Reason | None:
    """A denial for missing information is not a medical-necessity decision."""
    if not app.ur_decision.missing_information:
        return None
    return Reason(
        "not_medical_necessity",
        "the UR decision denied the request for lack of requested information, which is not a "
        f"decision on medical necessity ({SOURCE_MEDICAL})",
        SOURCE_MEDICAL,
    )


def rule_prior_imr(app: Application, deadlines: Deadlines, prior: list[str]) -> Reason | None:
    """No prior IMR on the same disputed treatment (the application's list, plus stored cases)."""
    earlier = {normalise_request(p.request) for p in app.prior_imr_requests} | {normalise_request(p) for p in prior}
    repeated = [item.request for item in app.ur_decision.items if normalise_request(item.request) in earlier]
    if not repeated:
        return None
    return Reason(
        "prior_imr",
        f"a prior IMR already decided the same treatment: {'; '.join(repeated)} ({SOURCE_PRIOR})",
        SOURCE_PRIOR,
    )


def rule_liability(app: Application, deadlines: Deadlines, prior: list[str]) -> Reason | None:
    """A pending liability dispute defers IMR until it is resolved."""
    if not app.liability_dispute:
        return None
    return Reason(
        "liability_dispute",
        "deferred: the claims administrator disputes liability on a ground other than medical "
        f"necessity; IMR waits until that dispute is resolved ({SOURCE_LIABILITY})",
        SOURCE_LIABILITY,
    )


RULES: tuple[Callable[[Application, Deadlines, list[str]], Reason | None], ...] = (
    rule_signed,
    rule_timely,
    rule_attached,
    rule_medical_necessity,
    rule_prior_imr,
    rule_liability,
)


def check(
    app: Application,
    settings: Settings,
    events: CaseEvents | None = None,
    prior_requests: Iterable[str] = (),
) -> Eligibility:
    """Screen an application: every reason it is ineligible (or deferred), and its deadlines.

    `prior_requests` are treatments of the same worker already decided by IMR (from the store).
    """
    deadlines = compute(app, settings, events)
    prior = list(prior_requests)
    reasons = [r for rule in RULES if (r := rule(app, deadlines, prior)) is not None]
    deferred = any(r.code == "liability_dispute" for r in reasons)
    return Eligibility(not reasons, reasons, deadlines, deferred)
