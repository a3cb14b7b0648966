"""Explicit decision rules: how a knowledge-base entry decides a disputed item.

Order, for every item (the first that decides wins):
1. the form rules of `data/rules.yaml` (requests reviewers decide on their form: the
   remainder after a partial authorization, a duplicate, a drug with no quantity, an item
   serving a surgery that is not found necessary);
2. the entry's own `rules:` in its guideline data file (its "not recommended" conditions and
   its arithmetic: sessions completed plus requested against the course, initial trial versus
   continuation, short-term-only drugs, compounds ingredient by ingredient);
3. the entry's criteria: every required criterion met (or a sufficient one) -> Overturned;
   otherwise Upheld (a required criterion contradicted by the records: `not_met`; not
   documented: `not_shown`).
An item no entry addresses is Upheld with verdict `no_entry` and is never `clear`.

Each decision names its outcome key (`rule:<entry>:<rule>` or `criteria:<category>:<verdict>`),
which the calibration (`data/calibration.json`) maps to a probability of Overturned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from openimr.engine.kb import Condition, Course, Criterion, KBEntry, KBError, Rule, _check_rule_facts, _load_yaml
from openimr.engine.models import CriteriaVerdict, CriterionResult, CriterionStatus, Evidence
from openimr.models import Decision

if TYPE_CHECKING:
    from openimr.engine.facts import Mention, Summary
    from openimr.engine.history import Span
    from openimr.request import RequestParse

DATA_DIR = Path(__file__).parent / "data"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FormRule(Rule):
    """A rule applied before any entry's own rules, to the categories it names (or all)."""

    categories: list[str] = Field(default_factory=list)
    except_categories: list[str] = Field(default_factory=list)


class TopicalIngredients(_Strict):
    """Topical ingredients by the Chronic Pain guideline's topical analgesics section."""

    not_recommended: dict[str, str]  # ingredient -> why (in plain words)
    recommended: dict[str, str]


class RulesFile(_Strict):
    form_rules: list[FormRule]
    drug_categories: list[str]  # categories whose requests are drugs (quantity rule, form)
    opioids: list[str]  # generic names of opioids (treatment history: an opioid in use)
    companions: list[str]  # categories that go with an opioid (decided after the opioids of the application)
    nsaid_companions: list[str]  # categories that go with an NSAID (decided after the NSAIDs of the application)
    topical: TopicalIngredients


@lru_cache(maxsize=1)
def rules_data() -> RulesFile:
    """The form rules and drug facts (data/rules.yaml), validated at load."""
    from openimr.engine.kb import default_kb

    path = DATA_DIR / "rules.yaml"
    data = _load_yaml(path, RulesFile)
    facts = default_kb().facts
    for r in data.form_rules:
        _check_rule_facts(r, facts, f"{path}: form_rules.{r.id}")
    return data


# --- what an item is: the request read, the case's facts and history -------------------

def parse(request: str) -> RequestParse:
    """The one request parse (openimr.request)."""
    from openimr.request import parse_request

    return parse_request(request)


class RecordSpan(Protocol):
    """A span of the case documents that shows something: a fact mention (engine/facts.py)
    or a span of the treatment history (engine/history.py)."""

    @property
    def document(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...


@dataclass
class ItemContext:
    """What the rules read about one disputed item."""

    request: str
    category: str | None
    region: str | None
    entry: KBEntry | None
    summary: Summary
    weeks: float | None = None
    requested: int | None = None
    completed: int | None = None
    completed_evidence: list[Span] = field(default_factory=list)
    prior_given: list[Span] = field(default_factory=list)  # spans saying this therapy was given before (count or not)
    therapies_given: dict[str, Span] = field(default_factory=dict)  # every therapy the records say was given -> its span
    kind: str = "unspecified"
    form: str | None = None
    ingredients: list[str] = field(default_factory=list)
    drug: str | None = None
    medical_food: bool = False
    drug_months: float | None = None  # how long the requested drug has been taken (treatment history)
    drug_evidence: list[Span] = field(default_factory=list)
    partial: bool = False
    duplicate: bool = False
    same_class: list[str] = field(default_factory=list)  # the other items of the application in this category
    has_quantity: bool = True
    surgery_overturned: bool | None = None  # the disputed surgery's decision, for items serving it
    surgery_request: str | None = None  # the surgery disputed in the same application, for items serving it
    dependent: bool = False
    age: int | None = None  # the worker's age as the records state it
    # an opioid beside this item: "overturned" / "upheld" (requested in the same application and
    # so decided), "in_use" (none requested; the treatment history shows one taken), None
    opioid: str | None = None
    # an NSAID requested in the same application, once decided: "overturned" / "upheld"; None when none is requested
    nsaid: str | None = None
    # the phase of care (acute, subacute, chronic; None when unknown) and why (see `phase_of`)
    phase: str | None = None
    phase_why: str | None = None
    drugs_taken: dict[str, Span] = field(default_factory=dict)  # generic name -> span: drugs the treatment history shows taken
    date_of_injury: date | None = None
    ur_date: date | None = None
    surgeries: list[tuple[date | None, Span]] = field(default_factory=list)  # (date or None, span) of each surgery the treatment history shows
    class_taken: dict[str, Span] = field(default_factory=dict)  # the same, for drugs of the request's category only


class ItemForm(TypedDict):
    """What `read_item` reads from the request's form (the ItemContext fields of the same names)."""

    kind: str
    form: str | None
    ingredients: list[str]
    drug: str | None
    medical_food: bool
    partial: bool
    has_quantity: bool
    requested: int | None


def read_item(parsed: RequestParse) -> ItemForm:
    """What the rules read from the request's form, from the one request parse: kind, drug
    form, ingredients, a remainder after a partial authorization, whether a quantity or
    duration is stated, visits asked for."""
    kind = "retrospective" if parsed.retrospective else parsed.kind
    if kind == "continued":
        kind = "additional"
    return {
        "kind": kind,
        "form": parsed.form,
        "ingredients": list(parsed.ingredients),
        "drug": parsed.drug,
        "medical_food": parsed.medical_food,
        "partial": parsed.remainder_after_partial,
        "has_quantity": any(v is not None for v in (parsed.quantity, parsed.weeks, parsed.sessions, parsed.refills)),
        "requested": parsed.sessions,
    }


HOURS_PER_DAY = 8  # a full-day session of a day programme (functional restoration) is about eight hours
DAYS_PER_WEEK = 5  # a day programme runs on weekdays


def program_days(parsed: RequestParse) -> int | None:
    """Full-day sessions a day programme request asks for: days or sessions as stated, hours
    in full days of about eight hours, weeks of five days; None when it states no length."""
    if parsed.quantity and parsed.unit == "day":
        return parsed.quantity
    if parsed.quantity and parsed.unit == "hour":
        return max(1, round(parsed.quantity / HOURS_PER_DAY))
    if parsed.sessions:
        return parsed.sessions
    if parsed.weeks:
        per_week = parsed.frequency_per_week or DAYS_PER_WEEK
        return int(round(per_week * parsed.weeks))
    return None


_DISCIPLINES = (  # the three kinds of visits Labor Code 4604.5 caps (first match wins: "chiropractic physiotherapy")
    ("chiropractic", re.compile(r"chiropract|manipulat", re.I)),
    ("occupational therapy", re.compile(r"occupational therap|(?-i:\bOT\b)", re.I)),
    ("physical therapy", re.compile(r"physical therap|physiotherap|(?-i:\bPT\b)(?![/-]?PTT)|aqua(?:tic)? therap", re.I)),
)


def discipline_of(text: str) -> str | None:
    """Physical therapy, occupational therapy or chiropractic: the kind of visits a text names
    (None when it names none of them, e.g. "hand therapy" or "work hardening")."""
    return next((name for name, rx in _DISCIPLINES if rx.search(text)), None)


def discipline_total(ctx: ItemContext) -> tuple[str | None, int | None, int | None]:
    """The request's discipline, the visits of that discipline completed as the records count
    them (None when they give no count of that discipline: the treatment history counts physical
    and occupational therapy together, so a count is taken only when its own words name the
    request's discipline), and the visits requested."""
    kind = discipline_of(ctx.request)
    if kind is None or ctx.requested is None:
        return kind, None, ctx.requested
    counted = ctx.completed if ctx.completed_evidence and discipline_of(ctx.completed_evidence[0].text) == kind else None
    return kind, counted, ctx.requested


MONTH_DAYS = 30.44


ACUTE_WEEKS = 4  # the acute phase: up to about four weeks after the injury (ACOEM initial care; opioid guideline)
CHRONIC_WEEKS = 12  # beyond about three months the pain is chronic (Chronic Pain guideline)


def _weeks(weeks: float) -> str:
    n = round(weeks)
    return "1 week" if n == 1 else f"{n:.0f} weeks"


def phase_of(weeks: float | None, summary: Summary) -> tuple[str | None, str | None]:
    """The phase of care and why: the records calling the pain chronic, or a chronic condition,
    make it chronic; else the weeks from the injury to utilization review decide (acute up to
    four weeks, subacute to twelve, chronic beyond); None when neither is known."""
    stated = summary.get("chronic_pain_stated", {}).get("affirmed", [])
    if stated:
        return "chronic", f'the records describe the condition as chronic ("{stated[0].text}")'
    if weeks is None:
        return None, None
    if weeks < ACUTE_WEEKS:
        return "acute", f"{_weeks(weeks)} passed from the injury to utilization review (the acute phase is the first four weeks)"
    if weeks <= CHRONIC_WEEKS:
        return "subacute", f"{_weeks(weeks)} passed from the injury to utilization review (the subacute phase runs from four weeks to three months)"
    return "chronic", f"{_weeks(weeks)} passed from the injury to utilization review (pain beyond three months is chronic)"


# --- conditions --------------------------------------------------------------------------


@dataclass
class Held:
    """Whether a condition holds, with the record spans that show it and a note of the
    arithmetic or form read."""

    holds: bool
    evidence: Sequence[RecordSpan] = field(default_factory=list)
    note: str | None = None


def _affirmed(summary: Summary, names: list[str]) -> list[Mention]:
    return [m for n in names for m in summary.get(n, {}).get("affirmed", [])]


def _facts(cond: Condition) -> list[str]:
    return ([cond.fact] if cond.fact else []) + list(cond.values)


def _names_in(text: str, names: list[str]) -> list[str]:
    low = text.lower()
    return [n for n in names if re.search(r"\b" + re.escape(n.lower()) + r"\b", low)]


def _prior_course(ctx: ItemContext) -> bool:
    """An earlier course of this therapy: visits counted in the treatment history, a sentence
    reporting it was given, or a request that continues one ("additional", "continue")."""
    if ctx.completed == 0 and ctx.kind != "additional":
        return False  # the records say none was given
    return bool(ctx.completed) or bool(ctx.prior_given) or ctx.kind == "additional"


def _drug_continued(ctx: ItemContext) -> Held:
    """The requested drug was taken before this request (a continuation, not a first trial): the
    treatment history shows it (or an ingredient) taken, the request renews it, or the records
    state long-term use in a sentence about it or its class (decide binds that fact to the drug).
    Unlike `long_term_use`, chronic pain alone does not make a drug a continuation."""
    wanted = [n for n in [ctx.drug, *ctx.ingredients] if n]
    taken = [n for n in wanted if n in ctx.drugs_taken]
    if ctx.drug_months is not None and ctx.drug_months >= 1:
        return Held(True, ctx.drug_evidence, f"the records show the drug taken for about {ctx.drug_months:.0f} months")
    if taken:
        return Held(True, [ctx.drugs_taken[taken[0]]], f"the records show {taken[0]} already taken")
    if ctx.kind == "additional":
        return Held(True, note="the request renews a drug already prescribed")
    ev = _affirmed(ctx.summary, ["long_term_drug_use"])
    return Held(bool(ev), ev)


def _unit(ctx: ItemContext) -> str:
    """What the item's course counts: visits, or the full days of a day programme."""
    course = ctx.entry.entry.course if ctx.entry is not None else None
    return "full days" if course is not None and course.unit == "days" else "visits"


def _total_note(ctx: ItemContext, total: int) -> str:
    """The arithmetic of visits completed and requested, as a rationale states it."""
    if ctx.completed == 0:
        return f"{ctx.requested} {_unit(ctx)} requested, with no earlier course documented"
    return f"{ctx.completed} {_unit(ctx)} completed and {ctx.requested} requested ({total} in all)"


def check(cond: Condition, ctx: ItemContext) -> Held:
    """Evaluate one condition of a rule on an item (`negate`: it holds when the test does not)."""
    held = _check(cond, ctx)
    if cond.negate:
        return Held(not held.holds)
    return held


def _value(cond: Condition) -> float:
    """The number a test compares with (the schema requires one for these tests)."""
    if cond.value is None:
        raise KBError(f"test {cond.test!r} needs a value")  # Condition's validator forbids this
    return cond.value


def _check(cond: Condition, ctx: ItemContext) -> Held:
    t = cond.test
    if t == "always":
        return Held(True)
    if t == "remainder_after_partial":
        return Held(ctx.partial, note="the claims administrator authorized part of the request" if ctx.partial else None)
    if t == "duplicate_request":
        return Held(ctx.duplicate, note="the same request appears earlier in this application" if ctx.duplicate else None)
    if t == "same_class_twice":
        return Held(bool(ctx.same_class), note=f"the application also requests {ctx.same_class[0]}" if ctx.same_class else None)
    if t == "no_quantity":
        return Held(not ctx.has_quantity, note="the request states no quantity, duration or supply" if not ctx.has_quantity else None)
    if t == "request_matches":
        hit = next((p for p in cond.values if re.search(p, ctx.request, re.I)), None)
        return Held(hit is not None)
    if t == "form_is":
        return Held(ctx.form in cond.values, note=f"the request is for {'an' if str(ctx.form)[:1] in 'aeiou' else 'a'} {ctx.form} form" if ctx.form in cond.values else None)
    if t == "medical_food":
        return Held(ctx.medical_food, note="the request is for a medical food" if ctx.medical_food else None)
    if t == "drug_in":
        found = _names_in(" ".join([ctx.request, *ctx.ingredients]), cond.values)
        return Held(bool(found), note=f"the request names {found[0]}" if found else None)
    if t == "kind_is":
        return Held(ctx.kind in cond.values)
    if t == "region_in":
        return Held(ctx.region in cond.values, note=f"the request is for the {ctx.region} region" if ctx.region in cond.values else None)
    if t == "requested_at_most":
        ok = ctx.requested is not None and ctx.requested <= _value(cond)
        return Held(ok, note=f"{ctx.requested} {_unit(ctx)} requested" if ctx.requested is not None else None)
    if t == "ingredient_not_recommended":
        bad = [i for i in ctx.ingredients if i in rules_data().topical.not_recommended]
        if bad:
            why = rules_data().topical.not_recommended[bad[0]]
            return Held(True, note=f"it contains {', '.join(bad)}; {why}")
        return Held(False)
    if t == "ingredients_all_recommended":
        good = rules_data().topical.recommended
        ok = bool(ctx.ingredients) and all(i in good for i in ctx.ingredients)
        return Held(ok)
    if t == "requested_over":
        ok = ctx.requested is not None and ctx.requested > _value(cond)
        return Held(ok, note=f"{ctx.requested} {_unit(ctx)} requested" if ctx.requested is not None else None)
    if t in ("total_over", "total_at_most"):
        if ctx.requested is None or ctx.completed is None:
            return Held(False)
        total = ctx.requested + ctx.completed
        ok = total > _value(cond) if t == "total_over" else total <= _value(cond)
        return Held(ok, ctx.completed_evidence, _total_note(ctx, total))
    if t == "discipline_total_over":
        kind, done, asked = discipline_total(ctx)
        if kind is None or asked is None:
            return Held(False)
        total = asked + (done or 0)
        note = (f"{done} {kind} visits completed on this injury and {asked} requested ({total} in all)" if done
                else f"{asked} {kind} visits requested")
        return Held(total > _value(cond), ctx.completed_evidence if done is not None else [], note)
    if t == "injury_on_or_after":
        since = date.fromisoformat(cond.values[0])
        ok = ctx.date_of_injury is not None and ctx.date_of_injury >= since
        return Held(ok, note=f"the injury of {ctx.date_of_injury:%Y-%m-%d} is on or after {since:%Y-%m-%d}" if ok else None)
    if t == "surgery_within_months":
        recent = [(d, s) for d, s in ctx.surgeries
                  if d is None or ctx.ur_date is None or 0 <= (ctx.ur_date - d).days <= _value(cond) * MONTH_DAYS]
        if not recent:
            return Held(False)
        d, span = recent[0]
        return Held(True, [span], f"the records show a surgery{'' if d is None else f' on {d:%Y-%m-%d}'} within "
                                  f"{_value(cond):.0f} months, or of no stated date")
    if t == "prior_course":
        ok = _prior_course(ctx)
        prior_note = None
        if ctx.completed == 0 and ok:
            prior_note = "the request asks for more visits, although the records document none completed"
        elif not ctx.completed and ok:
            prior_note = "the request continues an earlier course" if ctx.kind == "additional" else "the records report an earlier course"
        return Held(ok, ctx.completed_evidence or ctx.prior_given, prior_note)
    if t == "no_prior_course":
        ok = not _prior_course(ctx)
        return Held(ok, note="the records document no earlier course of this therapy" if ok else None)
    if t == "weeks_since_injury_over":
        ok = ctx.weeks is not None and ctx.weeks > _value(cond)
        return Held(ok, note=f"{ctx.weeks:.0f} weeks from the injury to utilization review" if ctx.weeks is not None else None)
    if t == "weeks_since_injury_under":
        ok = ctx.weeks is not None and ctx.weeks < _value(cond)
        return Held(ok, note=f"{ctx.weeks:.0f} weeks from the injury to utilization review" if ctx.weeks is not None else None)
    if t == "drug_taken":
        found = [d for d in cond.values if d in ctx.drugs_taken]
        return Held(bool(found), [ctx.drugs_taken[d] for d in found[:1]], f"the records show {found[0]} taken" if found else None)
    if t == "phase_is":
        ok = ctx.phase in cond.values
        return Held(ok, note=f"the {ctx.phase} phase: {ctx.phase_why}" if ok and ctx.phase_why else None)
    if t == "long_term_use":
        if ctx.drug_months is not None and ctx.drug_months >= 1:
            return Held(True, ctx.drug_evidence, f"the records show the drug taken for about {ctx.drug_months:.0f} months")
        ev = _affirmed(ctx.summary, ["long_term_drug_use"])
        if ev:
            return Held(True, ev)
        if ctx.kind == "additional":
            return Held(True, note="the request renews a drug already prescribed")
        # beyond twelve weeks from the injury, a drug (or one of its class) the records show
        # already taken is presumed in use for months; the age of the injury alone is no use of
        # the drug (a first prescription in chronic care is no long-term use)
        if ctx.weeks is not None and ctx.weeks > 12:
            continued = _drug_continued(ctx)
            if continued.holds:
                return Held(True, continued.evidence, f"{continued.note}, {ctx.weeks:.0f} weeks from the injury"
                            if continued.note else None)
            name = next(iter(ctx.class_taken), None)
            if name is not None:
                return Held(True, [ctx.class_taken[name]],
                            f"the records show {name}, a drug of the same class, already taken, "
                            f"{ctx.weeks:.0f} weeks from the injury")
        return Held(False)
    if t == "class_taken":
        name = next(iter(ctx.class_taken), None)
        return Held(name is not None, [ctx.class_taken[name]] if name else [],
                    f"the records show {name}, a drug of the same class, already taken" if name else None)
    if t == "drug_continued":
        return _drug_continued(ctx)
    if t == "fact_present":
        ev = _affirmed(ctx.summary, _facts(cond))
        return Held(bool(ev), ev)
    if t == "fact_absent":
        ev = _affirmed(ctx.summary, _facts(cond))
        negated = [m for n in _facts(cond) for m in ctx.summary.get(n, {}).get("negated", [])]
        return Held(not ev, negated)
    if t == "surgery_not_overturned":
        return Held(ctx.dependent and ctx.surgery_overturned is False,
                    note="the surgery it serves is not found medically necessary")
    if t == "surgery_overturned":
        return Held(ctx.dependent and ctx.surgery_overturned is True, note="the surgery it serves is found medically necessary")
    if t == "surgery_matches":
        serves = ctx.surgery_request is not None and any(re.search(p, ctx.surgery_request, re.I) for p in cond.values)
        return Held(serves, note=f"the surgery it serves is: {ctx.surgery_request}" if serves else None)
    if t == "therapy_given":
        found = [k for k in cond.values if k in ctx.therapies_given]
        return Held(bool(found), [ctx.therapies_given[k] for k in found[:1]],
                    f"the records report {found[0].replace('_', ' ')} given" if found else None)
    if t == "opioid_with_it":
        ok = ctx.opioid in ("overturned", "in_use")
        note = ("an opioid requested in the same application is found medically necessary" if ctx.opioid == "overturned"
                else "the records show an opioid in use")
        return Held(ok, note=note if ok else None)
    if t == "opioid_denied":
        ok = ctx.opioid == "upheld"
        return Held(ok, note="the opioid requested with it is not found medically necessary" if ok else None)
    if t == "nsaid_with_it":
        ok = ctx.nsaid == "overturned"
        return Held(ok, note="an NSAID requested in the same application is found medically necessary" if ok else None)
    if t == "nsaid_denied":
        ok = ctx.nsaid == "upheld"
        return Held(ok, note="the NSAID requested with it is not found medically necessary" if ok else None)
    if t == "age_under":
        ok = ctx.age is not None and ctx.age < _value(cond)
        return Held(ok, note=f"the worker is {ctx.age} years old" if ok else None)
    raise KBError(f"unknown rule test {t!r}")  # the schema forbids this


# --- deciding ----------------------------------------------------------------------------


@dataclass
class RuleDecision:
    """How an item was decided: the rule (or the criteria), the outcome key, the record spans
    and arithmetic that decided it."""

    decision: Decision
    verdict: CriteriaVerdict
    key: str
    firm: bool
    rule: Rule | None
    evidence: Sequence[RecordSpan]
    notes: list[str]
    criteria: list[tuple[Criterion, CriterionResult]]


def _status(crit: Criterion, summary: Summary) -> tuple[CriterionStatus, list[Mention]]:
    """Status of one criterion and the mentions that show it."""
    names = [crit.fact, *crit.also]
    affirmed = [m for n in names for m in summary.get(n, {}).get("affirmed", [])]
    negated = [m for n in names for m in summary.get(n, {}).get("negated", [])]
    against = [m for n in crit.against for m in summary.get(n, {}).get("affirmed", [])]
    if crit.expect == "present":
        if affirmed:
            return "met", affirmed
        if against or negated:
            return "not_met", against + negated
        return "insufficient", []
    if affirmed:
        return "not_met", affirmed
    if negated:
        return "met", negated
    return "insufficient", []


def evaluate_criteria(entry: KBEntry | None, summary: Summary) -> list[tuple[Criterion, CriterionResult]]:
    """Each criterion of the entry with its status and up to three evidence spans."""
    if entry is None:
        return []
    out = []
    for crit in entry.entry.criteria:
        status, mentions = _status(crit, summary)
        ev = [Evidence(**m.evidence()) for m in mentions[:3]]
        out.append((crit, CriterionResult(criterion=crit.text, role=crit.role, status=status, evidence=ev)))
    return out


def criteria_outcome(criteria: list[tuple[Criterion, CriterionResult]]) -> CriteriaVerdict:
    """What the criteria say: met (a sufficient criterion met, or every required one),
    not_met (a required criterion contradicted by the records) or not_shown."""
    if any(c.role == "sufficient" and r.status == "met" for c, r in criteria):
        return "met"
    required = [r for c, r in criteria if c.role == "required"]
    if required and all(r.status == "met" for r in required):
        return "met"
    if any(r.status == "not_met" for r in required):
        return "not_met"
    return "not_shown"


def _applies(rule: FormRule, category: str | None) -> bool:
    if rule.categories and category not in rule.categories:
        return False
    return category not in rule.except_categories


def decide_item(ctx: ItemContext) -> RuleDecision:
    """Decide one item by the form rules, then its entry's rules, then its criteria."""
    criteria = evaluate_criteria(ctx.entry, ctx.summary)
    data = rules_data()
    candidates: list[tuple[str, Rule]] = [("form", r) for r in data.form_rules if _applies(r, ctx.category)]
    if ctx.entry is not None:
        candidates += [(ctx.entry.entry.id, r) for r in ctx.entry.entry.rules]
    for owner, rule in candidates:
        held = [check(c, ctx) for c in rule.when]
        if all(h.holds for h in held):
            evidence = [m for h in held for m in h.evidence]
            notes = [h.note for h in held if h.note]
            ruled: CriteriaVerdict = "met" if rule.decision == "Overturned" else "not_met"
            return RuleDecision(rule.decision, ruled, f"rule:{owner}:{rule.id}", rule.firm, rule, evidence, notes, criteria)
    if ctx.entry is None:
        return RuleDecision("Upheld", "no_entry", f"criteria:{ctx.category}:no_entry", False, None, [], [], criteria)
    verdict = criteria_outcome(criteria)
    decision: Decision = "Overturned" if verdict == "met" else "Upheld"
    return RuleDecision(decision, verdict, f"criteria:{ctx.entry.entry.id}:{verdict}", False, None, [], [], criteria)


_NONE_COMPLETED = re.compile(r"\{completed\} (\w+(?: \w+)?) completed and \{requested\} requested")


def fill(text: str, ctx: ItemContext) -> str:
    """A rule's text with the item's arithmetic filled in. When the records say no visits were
    given ("has not had physical therapy") the text says no earlier course is documented, not
    "0 visits completed"."""
    course = ctx.entry.entry.course if ctx.entry is not None else None
    if ctx.completed == 0:
        text = _NONE_COMPLETED.sub(r"{requested} \1 requested (the records document no earlier course)", text)
    total = (ctx.requested or 0) + (ctx.completed or 0)
    values = {
        "requested": ctx.requested if ctx.requested is not None else "the",
        "completed": ctx.completed if ctx.completed is not None else "an earlier course of",
        "total": total,
        "course": _course_words(course, ctx),
        "trial": course.trial if course and course.trial else "a short",
        "most": course.most if course and course.most else (course.course if course else ""),
    }
    try:
        return text.format(**values)
    except (KeyError, IndexError):
        return text


def _course_words(course: Course | None, ctx: ItemContext) -> str:
    """The course as a rule's text names it: for the item's diagnosis (`by_diagnosis`), else
    the course's own words, else its number of visits or days."""
    if course is None:
        return "the guideline's course"
    for d in course.by_diagnosis:
        if all(check(c, ctx).holds for c in d.when):
            return d.words
    return course.words or f"{course.course} {'full days' if course.unit == 'days' else 'visits'}"
