"""Draft a determination for each disputed item of a case.

Steps per item: find the knowledge-base entry (MTUS first, by the evidence search sequence),
read the request's form and the case's facts, and decide by explicit rules kept as data
(`engine/rules.py`: the form rules, the entry's own rules and arithmetic, then its
criteria). The decision and `criteria_verdict` come from the same rule, so they always
agree. The probability of Overturned is the calibration of that rule outcome
(`data/calibration.json`: how often reviewers agreed with it in the shared letters, with a
Beta prior); `confidence` is "clear" when a firm rule decided and reviewers agreed with it
at least `CLEAR_AGREEMENT` of the time. Items that only serve a surgery disputed in the same
application (pre-operative tests, post-operative therapy, cold units, slings, assistant
surgeon) follow that surgery when it is not found necessary.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from openimr.engine import facts as factmod
from openimr.engine import rules as rulemod
from openimr.engine.history import THERAPIES, Span, TreatmentHistory, therapies_named, treatment_history
from openimr.engine.kb import (
    Entry,
    KBEntry,
    KnowledgeBase,
    Match,
    citation_for,
    default_kb,
    find_region,
    match_request,
    superseded_on,
)
from openimr.engine.models import Case, Confidence, CriterionResult, Determination, EvidenceStep, ItemDetermination
from openimr.models import Citation

if TYPE_CHECKING:
    from openimr.engine.kb import Criterion
    from openimr.request import RequestParse

CALIBRATION_PATH = Path(__file__).parent / "data" / "calibration.json"
CLEAR_AGREEMENT = 0.90  # a firm rule's items are clear when reviewers agreed with it this often
PRIOR_STRENGTH = 4.0  # Beta prior weight (in items) of an outcome's family rate

# Categories that exist only to serve a surgery in the same application.
SURGERY_DEPENDENT = {
    "preop_testing", "preop_clearance", "surgical_assistant", "postsurgical_therapy",
    "cold_therapy", "sling", "opioid_postop",
}
DEPENDENT_RX = re.compile(r"^\s*(?:associated surgical service|post-?op|pre-?op)", re.IGNORECASE)

@dataclass
class ItemFeatures:
    """What the rules and the rationale know about one item."""

    request: str
    match: Match
    context: rulemod.ItemContext
    dependent: bool
    ur_guideline: str = ""
    outcome: rulemod.RuleDecision | None = None

    @property
    def criteria(self) -> list[tuple[Criterion, CriterionResult]]:
        return self.outcome.criteria if self.outcome else []

    @property
    def decided(self) -> rulemod.RuleDecision:
        """The outcome, once `decide_features` has decided the item."""
        if self.outcome is None:
            raise ValueError("the item is not decided yet (decide_features)")
        return self.outcome


class Calibration(TypedDict):
    """Per rule outcome and per family (decision, firm or weighed): [items, overturned]."""

    outcomes: dict[str, list[int]]
    families: dict[str, list[int]]


def case_texts(case: Case) -> list[str]:
    """Document texts in order (the evidence `document` index refers to this list)."""
    return [d.text for d in case.documents]


def is_dependent(request: str, category: str | None) -> bool:
    """The item only serves a surgery (pre-/post-operative, associated surgical service)."""
    return bool(DEPENDENT_RX.search(request)) or category in SURGERY_DEPENDENT


def _completed(history: TreatmentHistory, category: str | None) -> tuple[int | None, list[Span], list[Span]]:
    """Visits of this therapy completed to date, the spans that count them, and the spans that
    say it was given at all (treatment history)."""
    given = [history.done[category]] if category in history.done else []
    found = history.sessions.get(category) if category else None
    if found is None:
        return None, [], given
    return found.count, list(found.evidence), given


def _wanted(parsed: RequestParse) -> set[str]:
    """The requested drug and its ingredients (generic names), as the records may name them."""
    return {n for n in [parsed.drug, *parsed.ingredients] if n}


def _drug_use(history: TreatmentHistory, parsed: RequestParse) -> tuple[float | None, list[Span]]:
    """How long the requested drug (or one of its ingredients) has been taken, and where."""
    for name in [parsed.drug, *parsed.ingredients]:
        use = history.drugs.get(name) if name else None
        if use is not None and use.months is not None:
            return use.months, list(use.evidence)
    return None, []


_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n\s*\n")


@lru_cache(maxsize=512)
def _drug_class(name: str) -> str | None:
    """The request category a drug name falls in (the one request taxonomy)."""
    return match_request(name, None, default_kb()).category


def _sentence_of(mention: rulemod.RecordSpan, texts: list[str]) -> str | None:
    """The sentence a fact mention stands in (None when its document is not in the case)."""
    if mention.document < 0 or mention.document >= len(texts):
        return None
    text = texts[mention.document]
    starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, mention.start)]
    start = starts[-1] if starts else 0
    nxt = _SENTENCE_END.search(text, mention.end)
    return text[start:nxt.start() if nxt else len(text)]


# A sentence reporting a drug as stopped, failed, replaced or past, not as taken now.
_PAST_USE = re.compile(r"\b(?:tried|trials? of|failed|previously|formerly|discontinu\w*|stopped|switched|changed|replaced|"
                       r"in the past|no longer|history of|had taken|was taking|did not tolerate|intoleran\w*)\b", re.IGNORECASE)
# A drug named as a topical product ("Voltaren gel", "flurbiprofen 20%/..."): little of it reaches the stomach.
_TOPICAL_AFTER = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*%|(?:sodium\s+)?(?:gel|cream|patch|lotion|ointment|topical|transdermal|solution))", re.IGNORECASE)
_TOPICAL_NAMES = {"flector", "pennsaid", "voltaren gel"}


def nsaids_in_use(history: TreatmentHistory, texts: list[str]) -> list[Span]:
    """One span for each oral NSAID (the request taxonomy's class) the treatment history shows
    taken now: a drug named only in sentences of past, failed or stopped use, or only as a
    topical product, is not counted. Two or more at once are a gastrointestinal risk factor
    (the Chronic Pain guideline's several NSAIDs, or an NSAID with aspirin)."""
    out = []
    for name, use in history.drugs.items():
        if _drug_class(name) != "nsaid":
            continue
        for ev in use.evidence:
            if ev.document < 0 or ev.document >= len(texts) or ev.text.lower() in _TOPICAL_NAMES:
                continue
            sentence = _sentence_of(ev, texts)
            if sentence is None or _PAST_USE.search(sentence) or _TOPICAL_AFTER.match(texts[ev.document], ev.end):
                continue
            out.append(ev)
            break
    return out


def _several_nsaids(history: TreatmentHistory, texts: list[str]) -> list[factmod.Mention]:
    """A gastrointestinal risk mention where the records show two or more NSAIDs taken at once
    (at the second one named)."""
    found = sorted(nsaids_in_use(history, texts), key=lambda s: (s.document, s.start))
    if len(found) < 2:
        return []
    ev = found[1]
    return [factmod.Mention("gi_risk", ev.document, ev.start, ev.end, ev.text)]


def _names_drug(sentence: str, wanted: set[str], category: str | None) -> bool:
    """The sentence names the requested drug (one of its ingredients) or a drug of its class."""
    from openimr.vocab.drugs import drug_names, ingredients_of

    for _a, _b, name in drug_names(sentence):
        if wanted & set(ingredients_of(name)) or (category is not None and _drug_class(name) == category):
            return True
    return False


def _about_drug(mention: factmod.Mention, texts: list[str], wanted: set[str], category: str | None) -> bool:
    """Whether a long-term-use mention bears on the requested drug: its sentence names no drug,
    or names the requested drug (one of its ingredients) or a drug of the same class. "Has
    been taking ibuprofen" is no long-term use of a requested opioid."""
    from openimr.vocab.drugs import drug_names

    sentence = _sentence_of(mention, texts)
    if sentence is None or not drug_names(sentence):
        return True
    return _names_drug(sentence, wanted, category)


# Facts of benefit from a treatment, or its lack: they count for the treatment their sentence
# names. "Physical therapy helped" is no functional improvement on a requested opioid, and
# "no improvement with medications" is no lack of benefit from chiropractic visits.
BENEFIT_FACTS = ("functional_improvement", "reported_benefit", "lack_of_benefit")
_STIMULATION_WORDS = re.compile(r"\bTENS\b|\bunit\b|stimulat\w*|interferential|H-?wave|\bMENS\b|microcurrent", re.IGNORECASE)
_MEDICATION_WORDS = re.compile(r"\b(?:medications?|meds|medicines?|pain pills?|analgesics?|pharmacolog\w*)\b", re.IGNORECASE)


def _benefit_about(mention: factmod.Mention, texts: list[str], parsed: RequestParse, category: str | None) -> bool:
    """Whether a benefit mention bears on the requested treatment.

    For a drug: its sentence names the drug or its class, medications in general, or no
    treatment at all. For a therapy: its sentence names that therapy, or no treatment and no
    drug. For a stimulation unit (TENS, interferential): its sentence names the unit or
    stimulation, or no treatment at all. Any other request keeps every mention."""
    from openimr.vocab.drugs import drug_names

    sentence = _sentence_of(mention, texts)
    if sentence is None:
        return True
    therapies = therapies_named(sentence)
    drugs = bool(drug_names(sentence))
    if category in rulemod.rules_data().drug_categories:
        if _MEDICATION_WORDS.search(sentence):
            return True
        if drugs:
            return _names_drug(sentence, _wanted(parsed), category)
        return not therapies
    if category in THERAPIES:
        if therapies:
            return category in therapies
        return not drugs and not _MEDICATION_WORDS.search(sentence)
    if category == "tens":  # an electrical stimulation unit: benefit from the unit, not from therapy or drugs
        if _STIMULATION_WORDS.search(sentence):
            return True
        return not therapies and not drugs and not _MEDICATION_WORDS.search(sentence)
    return True


def _names_request(mention: factmod.Mention, texts: list[str], parsed: RequestParse, category: str | None,
                   region: str | None) -> bool:
    """Whether a mention's sentence names the requested treatment itself: the drug (one of its
    ingredients, or its class) for a drug; otherwise the same request category and, where both
    name one, the same body region. "A cervical MRI was authorized" says nothing of a lumbar one."""
    sentence = _sentence_of(mention, texts)
    if sentence is None:
        return False
    if category in rulemod.rules_data().drug_categories:
        return _names_drug(sentence, _wanted(parsed), category)
    named = match_request(sentence, None, default_kb())
    if named.category != category:
        return False
    return region is None or named.region is None or named.region == region


def _bound(summary: factmod.Summary, texts: list[str], parsed: RequestParse, category: str | None,
           region: str | None = None) -> factmod.Summary:
    """The summary with facts kept only where they bear on the requested treatment: long-term
    drug use of the requested drug (or its class), benefit, or its lack, from it, and an
    authorization of it not yet used."""
    out = summary
    slot = summary.get("authorized_not_given")
    if slot and slot["affirmed"]:
        kept = [m for m in slot["affirmed"] if _names_request(m, texts, parsed, category, region)]
        if len(kept) != len(slot["affirmed"]):
            out = {**out, "authorized_not_given": {"affirmed": kept, "negated": slot["negated"]}}
    slot = summary.get("long_term_drug_use")
    if slot and slot["affirmed"] and category in rulemod.rules_data().drug_categories:
        wanted = _wanted(parsed)
        kept = [m for m in slot["affirmed"] if _about_drug(m, texts, wanted, category)]
        if len(kept) != len(slot["affirmed"]):
            out = {**out, "long_term_drug_use": {"affirmed": kept, "negated": slot["negated"]}}
    for fact in BENEFIT_FACTS:
        slot = summary.get(fact)
        if not slot:
            continue
        bound = {side: [m for m in slot[side] if _benefit_about(m, texts, parsed, category)] for side in ("affirmed", "negated")}
        if bound != slot:
            out = {**out, fact: bound}
    return out


def _norm_request(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def item_features(case: Case, kb: KnowledgeBase | None = None) -> list[ItemFeatures]:
    """What every disputed item of a case is (facts extracted once per case)."""
    kb = kb or default_kb()
    texts = case_texts(case)
    history = treatment_history(case)
    mentions = (factmod.extract(texts, kb) + factmod.date_facts(case.date_of_injury, case.ur_denial_date)
                + _several_nsaids(history, texts))
    summaries: dict[str | None, factmod.Summary] = {}  # what counts for a request of each region (facts.for_criteria)
    context_region = find_region(" ".join(texts)[:1500], kb) if texts else None
    weeks = None
    if case.date_of_injury and case.ur_denial_date and case.ur_denial_date >= case.date_of_injury:
        weeks = (case.ur_denial_date - case.date_of_injury).days / 7
    opioid_in_use = "in_use" if any(d in history.drugs for d in rulemod.rules_data().opioids) else None
    ages = [factmod.AGE_RX.search(t) for t in texts]
    age = next((int(m.group(1)) for m in ages if m), None)
    if weeks is None:
        weeks = history.weeks_since_injury
    seen: set[str] = set()
    out: list[ItemFeatures] = []
    for item in case.disputed_items:
        match = match_request(item.request, context_region, kb)
        if match.region not in summaries:
            summaries[match.region] = factmod.summarize(factmod.for_criteria(mentions, match.region, kb))
        parsed = rulemod.parse(item.request)
        summary = _bound(summaries[match.region], texts, parsed, match.category, match.region)
        form = rulemod.read_item(parsed)
        course = match.kb_entry.entry.course if match.kb_entry else None
        if course is not None and course.unit == "days":  # a day programme counts full days, not visits
            form["requested"] = rulemod.program_days(parsed)
        completed, completed_ev, given = _completed(history, match.category)
        months, months_ev = _drug_use(history, parsed)
        key = _norm_request(item.request)
        phase, phase_why = rulemod.phase_of(weeks, summary)
        ctx = rulemod.ItemContext(
            request=item.request, category=match.category, region=match.region, entry=match.kb_entry,
            summary=summary, weeks=weeks, completed=completed, completed_evidence=completed_ev, prior_given=given,
            therapies_given=dict(history.done),
            drugs_taken={name: use.evidence[0] for name, use in history.drugs.items() if use.evidence},
            class_taken={name: use.evidence[0] for name, use in history.drugs.items()
                         if use.evidence and match.category in rulemod.rules_data().drug_categories
                         and _drug_class(name) == match.category},
            duplicate=key in seen, dependent=is_dependent(item.request, match.category),
            drug_months=months, drug_evidence=months_ev, age=age, opioid=opioid_in_use, phase=phase, phase_why=phase_why,
            date_of_injury=case.date_of_injury, ur_date=case.ur_denial_date,
            surgeries=[(s.date, s.evidence) for s in history.surgeries],
            **form,
        )
        if any(e.entry.route for e in kb.entries if e.entry.category == match.category):
            routed = match_request(item.request, context_region, kb, routed=partial(_routes, ctx))
            if routed.kb_entry is not match.kb_entry:  # the diagnosis routes it (same region, same facts)
                match = routed
                ctx.entry = routed.kb_entry
        seen.add(key)
        out.append(ItemFeatures(item.request, match, ctx, ctx.dependent, item.ur_guideline))
    for f in out:
        f.context.same_class = [g.request for g in out if g is not f and g.match.category == f.match.category]
    return out


def _routes(ctx: rulemod.ItemContext, entry: Entry) -> bool:
    """Whether the item's facts route it to a routed entry (every condition of its `route` holds)."""
    return all(rulemod.check(cond, ctx).holds for cond in entry.route)


def decide_features(feats: list[ItemFeatures]) -> list[ItemFeatures]:
    """Decide every item: surgeries first, then the items that serve them, then the drugs that
    go with an opioid (a laxative, an antiemetic) once the application's opioids are decided,
    and the stomach protection that goes with an NSAID once its NSAIDs are decided."""
    data = rulemod.rules_data()
    companions, with_nsaid = set(data.companions), set(data.nsaid_companions)
    waiting = companions | with_nsaid
    later = [f for f in feats if f.match.category in waiting]
    feats_now = [f for f in feats if f.match.category not in waiting]
    _decide_surgery_first(feats_now)
    opioid = _decided(feats_now, ("opioid", "opioid_postop"))
    nsaid = _decided(feats_now, ("nsaid",))
    for f in later:
        if opioid and f.match.category in companions:  # else it keeps what the treatment history says ("in_use" or None)
            f.context.opioid = opioid
        if nsaid and f.match.category in with_nsaid:
            f.context.nsaid = nsaid
    _decide_surgery_first(later, feats_now)
    return feats


def _decided(feats: Sequence[ItemFeatures], categories: tuple[str, ...]) -> str | None:
    """How the application's items of these categories were decided: "overturned" when any
    was, "upheld" when all were, None when none is requested."""
    decisions = [f.outcome.decision for f in feats if f.match.category in categories and f.outcome]
    if not decisions:
        return None
    return "overturned" if "Overturned" in decisions else "upheld"


def _decide_surgery_first(feats: list[ItemFeatures], decided: Sequence[ItemFeatures] = ()) -> None:
    for f in feats:
        if f.match.category == "surgery" or not f.dependent:
            f.outcome = rulemod.decide_item(f.context)
    surgeries = [f for f in [*decided, *feats] if f.match.category == "surgery" and f.outcome]
    decisions = [f.outcome.decision for f in surgeries if f.outcome]
    surgery_overturned = ("Overturned" in decisions) if decisions else None
    surgery_request = "; ".join(f.request for f in surgeries) or None
    for f in feats:
        if f.outcome is None:
            f.context.surgery_overturned = surgery_overturned
            f.context.surgery_request = surgery_request
            f.outcome = rulemod.decide_item(f.context)


# --- calibration per rule outcome ---------------------------------------------------------


@lru_cache(maxsize=1)
def load_calibration(path: str | None = None) -> Calibration | None:
    """The calibration of rule outcomes (JSON: outcome key -> [items, overturned], and the
    pooled counts per decision), or None when absent."""
    p = Path(path) if path else CALIBRATION_PATH
    if not p.exists():
        return None
    data: Calibration = json.loads(p.read_text(encoding="utf-8"))
    for key in ("outcomes", "families"):
        if key not in data:
            raise ValueError(f"{p}: missing {key!r}")
    return data


def family(decision: str, firm: bool) -> str:
    """The family of a rule outcome whose pooled rate is its calibration prior."""
    return f"{decision}:{'firm' if firm else 'weighed'}"


def calibrate(key: str, decision: str, calibration: Calibration | None, firm: bool = False) -> tuple[float, tuple[float, float], int]:
    """Probability of Overturned for a rule outcome, its 90% interval, and the number of
    shared-letter items it rests on: a Beta posterior whose prior is the pooled rate of the
    outcomes of the same family (same decision, firm or weighed; weight PRIOR_STRENGTH items)."""
    if calibration is None:
        p0 = 0.6 if decision == "Overturned" else 0.1
        n = o = 0
    else:
        fn, fo = calibration["families"].get(family(decision, firm), [0, 0])
        p0 = (fo + 1) / (fn + 2)
        n, o = calibration["outcomes"].get(key, [0, 0])
    a, b = o + PRIOR_STRENGTH * p0, (n - o) + PRIOR_STRENGTH * (1 - p0)
    return a / (a + b), _beta_interval(a, b), n


@lru_cache(maxsize=4096)
def _beta_interval(a: float, b: float) -> tuple[float, float]:
    from scipy.stats import beta

    return float(beta.ppf(0.05, a, b)), float(beta.ppf(0.95, a, b))


def confidence(outcome: rulemod.RuleDecision, probability: float) -> Confidence:
    """clear: a firm rule decided and reviewers agreed with its outcome often enough."""
    agreement = probability if outcome.decision == "Overturned" else 1.0 - probability
    return "clear" if outcome.firm and agreement >= CLEAR_AGREEMENT else "uncertain"


def evidence_step(match: Match) -> EvidenceStep | None:
    """The step of the evidence search sequence (8 CCR 9792.21.1) the draft relied on."""
    if match.kb_entry is None:
        return None
    return match.kb_entry.evidence_step[1]


def edition_note(kb_entry: KBEntry, successor: tuple[str, int | None], on: _dt.date | None) -> str:
    """What the physician must check when the MTUS in force on the decision's date is not the
    edition the knowledge base encodes (the draft is then never `clear`)."""
    from openimr.engine.rationale import mtus_edition

    was = mtus_edition(kb_entry.guideline)
    now = successor[0] + (f" ({successor[1]})" if successor[1] else "")
    return (f"The knowledge base holds the criteria of {was}, in force until 30 November 2017. For a UR decision "
            f"of {on:%m/%d/%Y} the MTUS guideline in force is {now}, whose text the knowledge base does not hold: check the criteria "
            "and cite that guideline's own section before signing.")


def decide_case(case: Case, kb: KnowledgeBase | None = None, calibration: Calibration | None | bool = True) -> Determination:
    """Draft the determination of every disputed item of a case."""
    from openimr.engine.rationale import write_rationale

    kb = kb or default_kb()
    cal = load_calibration() if calibration is True else (calibration or None)
    feats = decide_features(item_features(case, kb))
    items = []
    for f in feats:
        o = f.decided
        p, interval, n = calibrate(o.key, o.decision, cal, o.firm)
        overturn = o.decision == "Overturned"
        on = case.ur_denial_date
        successor = superseded_on(f.match.kb_entry, on) if f.match.kb_entry and f.match.kb_entry.mtus else None
        citation = citation_for(f.match.kb_entry, f.match.region, kb, on) if f.match.kb_entry else None
        if citation is not None and o.rule is not None and o.rule.section and not successor:
            citation = citation.model_copy(update={"text": citation.text.rstrip(".") + f" ({o.rule.section})."})
        items.append(
            ItemDetermination(
                request=f.request,
                decision=o.decision,
                medically_necessary=overturn,
                probability_overturned=round(p, 4),
                probability_interval=(round(interval[0], 4), round(interval[1], 4)),
                calibration_items=n,
                confidence="uncertain" if successor else confidence(o, p),
                guideline_note=edition_note(f.match.kb_entry, successor, on) if successor and f.match.kb_entry else None,
                imr_guideline=citation if citation else Citation(),
                rationale=write_rationale(f, case),
                criteria=[r for _c, r in o.criteria],
                category=f.match.category,
                region=f.match.region,
                evidence_step=evidence_step(f.match),
                left_mtus_because=f.match.left_mtus_because,
                kb_entry=f.match.kb_entry.entry.id if f.match.kb_entry else None,
                criteria_verdict=o.verdict,
                rule=o.key,
            )
        )
    return Determination(case_number=case.case_number, items=items)
