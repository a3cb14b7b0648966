"""Draft a determination for each disputed item of a case.

Steps per item: find the knowledge-base entry (MTUS first), check each criterion against
the case's clinical facts (met / not met / insufficient, with evidence spans), compute a
calibrated probability that the reviewer would overturn (a logistic model over criterion
statuses and category features, fitted on the shared letters; `data/model.json`), decide,
and write the rationale. Items that only serve a disputed surgery (pre-operative tests,
post-operative therapy, cold units, slings, assistant surgeon) follow that surgery.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from openimr.engine import facts as factmod
from openimr.engine.kb import Criterion, KnowledgeBase, Match, citation_for, default_kb, find_region, match_request
from openimr.engine.models import Case, CriterionResult, Determination, Driver, Evidence, ItemDetermination
from openimr.request import parse_request

MODEL_PATH = Path(__file__).parent / "data" / "model.json"
LABELS_PATH = Path(__file__).parent / "data" / "features.yaml"
PRIOR_OVERTURN = 0.12

# Categories that exist only to serve a surgery in the same application.
SURGERY_DEPENDENT = {
    "preop_testing", "preop_clearance", "surgical_assistant", "postsurgical_therapy",
    "cold_therapy", "sling", "opioid_postop",
}
DEPENDENT_RX = re.compile(r"^\s*(?:associated surgical service|post-?op|pre-?op)", re.IGNORECASE)

CATEGORIES = (
    "imaging", "physical_therapy", "chiropractic", "acupuncture", "opioid", "muscle_relaxant",
    "nsaid", "ppi", "topical_analgesic", "electrodiagnostic", "surgery", "consultation",
    "preop_testing", "injection_epidural", "tens", "passive_modality", "brace_support", "psych",
)


@dataclass
class ItemFeatures:
    """What the model and the rationale need to know about one item."""

    request: str
    match: Match
    criteria: list[tuple[Criterion, CriterionResult]]
    rule_overturn: bool
    dependent: bool
    ur_guideline: str = ""
    n_items: int = 1
    weeks_to_ur: float | None = None
    age: int | None = None
    prior_course: bool = False


def _status(crit: Criterion, summary: dict) -> tuple[str, list]:
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


def evaluate_criteria(match: Match, summary: dict) -> list[tuple[Criterion, CriterionResult]]:
    """Each criterion of the matched entry with its status and up to three evidence spans."""
    if match.kb_entry is None:
        return []
    out = []
    for crit in match.kb_entry.entry.criteria:
        status, mentions = _status(crit, summary)
        ev = [Evidence(**m.evidence()) for m in mentions[:3]]
        out.append((crit, CriterionResult(criterion=crit.text, role=crit.role, status=status, evidence=ev)))
    return out


def rule_decision(criteria: list[tuple[Criterion, CriterionResult]]) -> bool:
    """True (overturn) when a sufficient criterion is met or every required one is."""
    if not criteria:
        return False
    if any(c.role == "sufficient" and r.status == "met" for c, r in criteria):
        return True
    required = [r for c, r in criteria if c.role == "required"]
    return bool(required) and all(r.status == "met" for r in required)


def feature_vector(f: ItemFeatures) -> dict[str, float]:
    """Named numeric features of one item (criterion statuses, category, key facts)."""
    v: dict[str, float] = {}
    cat = f.match.category if f.match.category in CATEGORIES else "other"
    v[f"cat={cat}"] = 1.0
    req = [r for c, r in f.criteria if c.role == "required"]
    sup = [r for c, r in f.criteria if c.role == "supporting"]
    n = max(len(req), 1)
    v["req_met_share"] = sum(r.status == "met" for r in req) / n
    v["req_not_met_share"] = sum(r.status == "not_met" for r in req) / n
    v["req_insufficient_share"] = sum(r.status == "insufficient" for r in req) / n
    v["sufficient_met"] = float(any(c.role == "sufficient" and r.status == "met" for c, r in f.criteria))
    v["supporting_met"] = float(sum(r.status == "met" for r in sup))
    v["supporting_not_met"] = float(sum(r.status == "not_met" for r in sup))
    v["rule_overturn"] = float(f.rule_overturn)
    v["no_entry"] = float(f.match.kb_entry is None)
    v["non_mtus"] = float(f.match.kb_entry is not None and not f.match.kb_entry.mtus)
    # Items serving a surgery are handled by a rule (they follow the disputed surgery, see
    # apply_surgery_dependency), not by the model: under grouped cross-validation a
    # "dependent" feature only learned which letters had many such items.
    ur = f.ur_guideline.lower()
    v["ur_no_citation"] = float(not ur.strip() or "did not cite" in ur)
    v["ur_non_mtus_only"] = float("non-mtus" in ur and "based on mtus" not in ur)
    text = f.request.lower()
    v["req_retro"] = float("retro" in text)
    v["req_additional"] = float(bool(re.search(r"\b(?:additional|continue|continued|further|repeat|renewal|refill)", text)))
    # Case-level fact flags (is a fact mentioned anywhere in the summary) were tried as
    # features and dropped: under grouped cross-validation they overfit (AUC 0.72 -> 0.64).
    v.update(form_features(f))
    v.update(case_features(f))
    return v


PHYSICAL_MEDICINE = {"physical_therapy", "chiropractic", "acupuncture"}
TRIAL_VISITS = 6  # initial trial size: acupuncture 3-6, manipulation ~6, a therapy trial before more
COURSE_VISITS = 10  # usual course for myalgia/neuralgia: 8-10 / 9-10 visits


def visits_requested(request: str) -> int | None:
    """Number of visits the disputed portion of a request asks for, or None when it does not
    say (the one request parse, openimr.request)."""
    return parse_request(request).sessions


def form_features(f: ItemFeatures) -> dict[str, float]:
    """Features of the request's printed form: a partly authorised (modified) request, and for
    physical medicine the visits asked for against the trial size and the usual course."""
    v = {"form_partial": float(parse_request(f.request).authorized is not None)}
    if f.match.category in PHYSICAL_MEDICINE:
        n = visits_requested(f.request)
        v["form_visits_known"] = float(n is not None)
        v["form_initial_trial"] = float(n is not None and n <= TRIAL_VISITS and not f.prior_course)
        v["form_over_course"] = float(n is not None and n > COURSE_VISITS)
    return v


def case_features(f: ItemFeatures) -> dict[str, float]:
    """Case-level features from the dates, the application and the summary's age."""
    v: dict[str, float] = {}
    w = f.weeks_to_ur
    v["case_weeks_known"] = float(w is not None)
    v["case_acute"] = float(w is not None and w < 6)
    v["case_chronic"] = float(w is not None and w > 12)
    v["case_log_items"] = math.log(max(f.n_items, 1))
    v["case_age50_preop"] = float(f.match.category in {"preop_testing", "preop_clearance"} and (f.age or 0) >= 50)
    return v


_AGE_RX = re.compile(r"\b(\d{2})[- ]years?[- ]old\b", re.IGNORECASE)


def worker_age(texts: list[str]) -> int | None:
    """The worker's age as the summary states it ("a 58 year old female"), else None."""
    for t in texts:
        m = _AGE_RX.search(t)
        if m:
            return int(m.group(1))
    return None


@lru_cache(maxsize=1)
def load_model(path: str | None = None) -> dict | None:
    """The fitted probability model (JSON weights), or None when absent."""
    p = Path(path) if path else MODEL_PATH
    if not p.exists():
        return None
    data = json.loads(p.read_text(encoding="utf-8"))
    for key in ("features", "coef", "intercept", "threshold"):  # "lgbm" models keep coef empty
        if key not in data:
            raise ValueError(f"{p}: missing {key!r}")
    labels = feature_labels()
    for name in data["features"]:
        if not name.startswith("cat=") and name not in labels.features:
            raise ValueError(f"{p}: feature {name!r} has no plain-words label in {LABELS_PATH.name}")
    return data


@lru_cache(maxsize=1)
def feature_labels():
    """The plain-words labels of the model's features (data/features.yaml), validated."""
    import yaml
    from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

    class Labels(BaseModel):
        model_config = ConfigDict(extra="forbid")
        category: str
        features: dict[str, str]

        @field_validator("category")
        @classmethod
        def _has_slot(cls, v: str) -> str:
            if "{category}" not in v:
                raise ValueError("must contain {category}")
            return v

    try:
        return Labels.model_validate(yaml.safe_load(LABELS_PATH.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{LABELS_PATH}: {str(exc).splitlines()[0]}") from exc


def feature_label(name: str) -> str:
    """Plain words for one model feature."""
    labels = feature_labels()
    if name.startswith("cat="):
        return labels.category.format(category=name[4:].replace("_", " "))
    return labels.features.get(name, name)


def drivers(vec: dict[str, float], model: dict | None, top: int = 3) -> list[Driver]:
    """The features of this item that moved its probability most, in log-odds after
    calibration (positive: toward Overturned); only features the item has (non-zero)."""
    if model is None:
        return []
    values = _row(vec, model)
    slope = model["platt"][0] if "platt" in model else 1.0
    if model.get("lgbm"):
        contrib = list(_booster(model["lgbm"]).predict([values], pred_contrib=True)[0][:-1])
    else:
        contrib = _linear_terms(values, model)
    ranked = sorted(
        (Driver(feature=n, label=feature_label(n), value=round(x, 4), weight=round(slope * w, 4))
         for n, x, w in zip(model["features"], values, contrib) if x != 0.0 and abs(w) > 1e-9),
        key=lambda d: -abs(d.weight),
    )
    return ranked[:top]


def criteria_verdict(f: "ItemFeatures") -> str:
    """What the criteria alone say: met (the rule's indication), not_met (a required
    criterion is contradicted by the records), not_shown, or no_entry."""
    if f.match.kb_entry is None:
        return "no_entry"
    if f.rule_overturn:
        return "met"
    if any(c.role == "required" and r.status == "not_met" for c, r in f.criteria):
        return "not_met"
    return "not_shown"


def predict_proba(vec: dict[str, float], model: dict | None) -> float:
    """Probability of Overturned for one feature vector (prior when no model)."""
    if model is None:
        return 0.6 if vec.get("rule_overturn") else PRIOR_OVERTURN
    if model.get("lgbm"):
        z = _logit(float(_booster(model["lgbm"]).predict([_row(vec, model)])[0]))
    else:
        z = model["intercept"] + sum(_linear_terms(_row(vec, model), model))
    if "platt" in model:  # calibration fitted on grouped out-of-fold predictions
        a, b = model["platt"]
        z = a * _logit(1.0 / (1.0 + math.exp(-z))) + b
    p = 1.0 / (1.0 + math.exp(-z))
    if "isotonic" in model:  # piecewise-linear map fitted on grouped out-of-fold predictions
        xs, ys = model["isotonic"]["x"], model["isotonic"]["y"]
        p = _interp(p, xs, ys)
    return p


def _row(vec: dict[str, float], model: dict) -> list[float]:
    """The item's values in the model's feature order (absent features are 0)."""
    return [vec.get(n, 0.0) for n in model["features"]]


def _linear_terms(values: list[float], model: dict) -> list[float]:
    """Each feature's term of a logistic model's log-odds (on standardized values)."""
    n = len(model["features"])
    mean, scale = model.get("mean", [0.0] * n), model.get("scale", [1.0] * n)
    return [c * (x - mu) / (sd or 1.0) for c, x, mu, sd in zip(model["coef"], values, mean, scale)]


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _interp(x: float, xs: list[float], ys: list[float]) -> float:
    if x <= xs[0]:
        return ys[0]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return ys[-1]


@lru_cache(maxsize=2)
def _booster(text: str):
    import lightgbm as lgb

    return lgb.Booster(model_str=text)


def case_texts(case: Case) -> list[str]:
    """Document texts in order (the evidence `document` index refers to this list)."""
    return [d.text for d in case.documents]


def is_dependent(request: str, category: str | None) -> bool:
    """The item only serves a surgery (pre-/post-operative, associated surgical service)."""
    return bool(DEPENDENT_RX.search(request)) or category in SURGERY_DEPENDENT


def item_features(case: Case, kb: KnowledgeBase | None = None) -> list[ItemFeatures]:
    """Features of every disputed item of a case (facts extracted once per case)."""
    kb = kb or default_kb()
    texts = case_texts(case)
    mentions = factmod.extract(texts, kb) + factmod.date_facts(case.date_of_injury, case.ur_denial_date)
    summary = factmod.summarize(mentions)
    context_region = find_region(" ".join(texts)[:1500], kb) if texts else None
    weeks = None
    if case.date_of_injury and case.ur_denial_date and case.ur_denial_date >= case.date_of_injury:
        weeks = (case.ur_denial_date - case.date_of_injury).days / 7
    age = worker_age(texts)
    prior = bool(summary.get("prior_sessions", {}).get("affirmed"))
    out = []
    for item in case.disputed_items:
        match = match_request(item.request, context_region, kb)
        crits = evaluate_criteria(match, summary)
        out.append(
            ItemFeatures(
                request=item.request,
                match=match,
                criteria=crits,
                rule_overturn=rule_decision(crits),
                dependent=is_dependent(item.request, match.category),
                ur_guideline=item.ur_guideline,
                n_items=len(case.disputed_items),
                weeks_to_ur=weeks,
                age=age,
                prior_course=prior,
            )
        )
    return out


def apply_surgery_dependency(feats: list[ItemFeatures], probs: list[float]) -> list[float]:
    """Items serving a disputed surgery take the surgery's probability."""
    surgery = [p for f, p in zip(feats, probs) if f.match.category == "surgery"]
    if not surgery:
        return probs
    top = max(surgery)
    return [top if f.dependent and f.match.category != "surgery" else p for f, p in zip(feats, probs)]


def decide_case(case: Case, kb: KnowledgeBase | None = None, model: dict | None | bool = True) -> Determination:
    """Draft the determination of every disputed item of a case."""
    from openimr.engine.rationale import write_rationale

    kb = kb or default_kb()
    mdl = load_model() if model is True else (model or None)
    feats = item_features(case, kb)
    vecs = [feature_vector(f) for f in feats]
    probs = [predict_proba(v, mdl) for v in vecs]
    probs = apply_surgery_dependency(feats, probs)
    threshold = mdl["threshold"] if mdl else 0.5
    surgery_overturned = any(f.match.category == "surgery" and p >= threshold for f, p in zip(feats, probs))
    has_surgery = any(f.match.category == "surgery" for f in feats)
    items = []
    for f, vec, p in zip(feats, vecs, probs):
        overturn = p >= threshold
        citation = citation_for(f.match.kb_entry, f.match.region, kb) if f.match.kb_entry else None
        follows = f.dependent and has_surgery and f.match.category != "surgery"
        verdict = criteria_verdict(f)
        why = [] if follows else drivers(vec, mdl)
        rationale = write_rationale(f, overturn, case, follows_surgery=follows, surgery_overturned=surgery_overturned,
                                    verdict=verdict, probability=p, drivers=why,
                                    threshold=threshold if mdl else None,
                                    trained_on=mdl.get("trained_on") if mdl else None)
        items.append(
            ItemDetermination(
                request=f.request,
                decision="Overturned" if overturn else "Upheld",
                medically_necessary=overturn,
                probability_overturned=round(p, 4),
                imr_guideline=citation if citation else {},
                rationale=rationale,
                criteria=[r for _c, r in f.criteria],
                category=f.match.category,
                region=f.match.region,
                left_mtus_because=f.match.left_mtus_because,
                kb_entry=f.match.kb_entry.entry.id if f.match.kb_entry else None,
                criteria_verdict=verdict,
                drivers=why,
            )
        )
    return Determination(case_number=case.case_number, items=items)
