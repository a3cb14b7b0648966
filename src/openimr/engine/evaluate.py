"""Measure the engine on real Final Determination letters, outcome hidden.

Each letter becomes a case holding only the clinical case summary, the dates, the item
requests and the claims administrator's citation; decisions, IMR citations and rationales
are held out and used only for scoring. The decisions come from the explicit rules (nothing
is fitted); the one thing learned from letters, the calibration of each rule outcome (and
with it which firm rules are `clear`), is computed out-of-fold: grouped cross-validation by
letter, each fold's calibration counted on the other folds' letters only. The baselines
(always Upheld; each category's overturn rate; TF-IDF + logistic regression) run on the same
folds. Letters of the held-out split (`is_holdout`: a fifth of case numbers by hash, fixed
before any rule was written) are also reported on their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

from openimr.engine.models import Case, CaseDocument, CriteriaVerdict, DisputedRequest
from openimr.models import Citation, Decision, GuidelineReference, Letter

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from openimr.engine.decide import Calibration

    Bools = npt.NDArray[np.bool_]
    Floats = npt.NDArray[np.float64]
    Index = npt.NDArray[np.intp]
    Names = npt.NDArray[np.str_]

SEED = 20161218


def case_from_letter(letter: Letter, name: str = "") -> Case:
    """The case the engine sees for a letter: summary, dates, requests, UR citation only."""
    return Case(
        case_number=letter.case_number or name,
        date_of_injury=letter.date_of_injury,
        ur_denial_date=letter.ur_denial_date,
        priority=letter.priority,
        documents=[CaseDocument(kind="clinical_summary", text=letter.clinical_case_summary)],
        disputed_items=[
            DisputedRequest(request=i.request, ur_guideline=i.claims_administrator_guideline.text) for i in letter.items
        ],
    )


def guideline_key(ref: GuidelineReference | Citation | None) -> str | None:
    """The registry key (openimr.vocab, guidelines.yaml) of a guideline reference or citation,
    by the one normaliser the library uses for its facets; None when it names none."""
    from openimr.library.classify import normalise_guideline

    if ref is None or not ref.guideline:
        return None
    found = normalise_guideline(ref.guideline, ref.scope, ref.chapter)
    return found.key if found else None


def reviewer_guidelines(citation: Citation) -> list[str]:
    """The registry keys of every guideline the reviewer cited, in the order printed."""
    keys = [guideline_key(r) for r in citation.references]
    return list(dict.fromkeys(k for k in keys if k))


def reviewer_guideline(citation: Citation) -> str | None:
    """The reviewer's first MTUS guideline, else the first guideline named (registry key)."""
    refs = [r for r in citation.references if r.guideline]
    mtus = [r for r in refs if r.scope == "MTUS"]
    return guideline_key((mtus or refs)[0]) if refs else None


def guideline_matches(ours: str | None, theirs: list[str] | str | None) -> bool | None:
    """The drafted guideline (registry key) is among those the reviewer cited (None when the
    reviewer cited none)."""
    cited = [theirs] if isinstance(theirs, str) else list(theirs or [])
    if not cited:
        return None
    return ours is not None and ours in cited


def load_letters(paths: Sequence[Path]) -> list[tuple[str, Letter]]:
    """Read letters; raise ValueError naming the file that cannot be read."""
    import openimr

    out: list[tuple[str, Letter]] = []
    for p in paths:
        try:
            letter = openimr.read_letter(Path(p))
        except Exception as exc:  # reader errors carry their own message
            raise ValueError(f"{p}: cannot read letter: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        if not letter.items:
            raise ValueError(f"{p}: no disputed items found")
        out.append((Path(p).stem, letter))
    return out


def is_holdout(name: str) -> bool:
    """The held-out split: letters whose case number hashes into one fifth. Fixed before the
    rules were written; these letters were not read while writing rules."""
    import hashlib

    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 5 == 0


@dataclass
class Drafted:
    """One item as the engine drafted it (outcome hidden) and what the reviewer decided."""

    letter: str
    request: str
    category: str | None
    key: str
    decision: Decision
    verdict: CriteriaVerdict
    firm: bool
    guideline_match: bool | None  # the drafted guideline is among those the reviewer cited
    guideline_first: bool | None  # ... and is the one the reviewer relied on first (MTUS first)
    overturned: bool
    text: str  # summary + request, for the TF-IDF baseline


class CalibrationFile(TypedDict):
    """The shipped calibration table (data/calibration.json): a note, the letters counted, and
    the counts of `count_outcomes`."""

    note: str
    letters: int
    outcomes: dict[str, list[int]]
    families: dict[str, list[int]]


class Metrics(TypedDict):
    """The scores of one system on a set of items (`_metrics`); the engine's also say how
    many items were clear and how often reviewers agreed with them (`_clear`), and 95%
    intervals by resampling letters (`_bootstrap`) where the report gives them."""

    n: int
    auc: float
    accuracy: float
    balanced_accuracy: float
    overturn_precision: float
    overturn_recall: float
    brier: float
    clear_items: NotRequired[int]
    clear_coverage: NotRequired[float]
    clear_agreement: NotRequired[float]
    ci95: NotRequired[dict[str, list[float]]]


class ClearMetrics(TypedDict):
    clear_items: int
    clear_coverage: float
    clear_agreement: float


class GuidelineShare(TypedDict):
    """How often the drafted guideline is among those the reviewer cited (`_guideline`)."""

    share: float
    items_counted: int
    first: float
    items_reviewer_cited_none: int


class Part(TypedDict):
    """The report on a set of letters (all, held-out, development)."""

    items: int
    overturned: int
    systems: NotRequired[dict[str, Metrics]]
    guideline_match: NotRequired[GuidelineShare]
    decision_criteria_disagreements: NotRequired[int]
    ci95: NotRequired[dict[str, list[float]]]


class CategoryReport(TypedDict):
    n: int
    overturned: int
    drafted_overturned: int
    engine: Metrics
    guideline_match: GuidelineShare
    decision_criteria_disagreements: int


class RuleCount(TypedDict):
    items: int
    overturned: int


class ErrorItem(TypedDict):
    """An item the engine drafted otherwise than the reviewer decided."""

    letter: str
    request: str
    rule: str
    drafted: str
    reviewer: str
    holdout: bool


class Report(TypedDict):
    """The evaluation report (`evaluate`), in the order it is built and printed."""

    letters: int
    items: int
    overturned: int
    folds: int
    all: NotRequired[Part]
    holdout_letters: NotRequired[int]
    holdout: NotRequired[Part]
    development: NotRequired[Part]
    per_category: NotRequired[dict[str, CategoryReport]]
    per_rule: NotRequired[dict[str, RuleCount]]
    errors: NotRequired[list[ErrorItem]]


def draft_letters(letters: Sequence[tuple[str, Letter]]) -> list[Drafted]:
    """Decide every item of every letter by the rules, outcome hidden."""
    from openimr.engine.decide import decide_features, item_features
    from openimr.engine.kb import citation_for

    out: list[Drafted] = []
    for name, letter in letters:
        case = case_from_letter(letter, name)
        feats = decide_features(item_features(case))
        for f, item in zip(feats, letter.items):
            ours = guideline_key(citation_for(f.match.kb_entry, f.match.region)) if f.match.kb_entry else None
            first = reviewer_guideline(item.imr_guideline)
            o = f.decided
            out.append(Drafted(
                letter=name, request=item.request, category=f.match.category, key=o.key, decision=o.decision,
                verdict=o.verdict, firm=o.firm,
                guideline_match=guideline_matches(ours, reviewer_guidelines(item.imr_guideline)),
                guideline_first=guideline_matches(ours, first),
                overturned=item.decision == "Overturned",
                text=letter.clinical_case_summary + " REQUEST: " + item.request,
            ))
    return out


def count_outcomes(drafted: list[Drafted]) -> Calibration:
    """The calibration table: per rule outcome and per family (decision, firm or weighed),
    [items, overturned]."""
    from openimr.engine.decide import family

    outcomes: dict[str, list[int]] = {}
    families: dict[str, list[int]] = {}
    for d in drafted:
        for table, key in ((outcomes, d.key), (families, family(d.decision, d.firm))):
            c = table.setdefault(key, [0, 0])
            c[0] += 1
            c[1] += int(d.overturned)
    return {"outcomes": dict(sorted(outcomes.items())), "families": dict(sorted(families.items()))}


def out_of_fold(drafted: list[Drafted], folds: int = 5) -> tuple[Floats, Bools]:
    """Probability of Overturned and confidence of every item from a calibration counted on
    the other folds' letters only (grouped k-fold by letter)."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    from openimr.engine.decide import calibrate, confidence
    from openimr.engine.rules import RuleDecision

    groups = np.array([d.letter for d in drafted])
    p = np.zeros(len(drafted))
    clear = np.zeros(len(drafted), dtype=bool)
    for tr, te in GroupKFold(n_splits=folds).split(p, groups=groups):
        cal = count_outcomes([drafted[i] for i in tr])
        for i in te:
            d = drafted[i]
            p[i] = calibrate(d.key, d.decision, cal, d.firm)[0]
            o = RuleDecision(d.decision, d.verdict, d.key, d.firm, None, [], [], [])
            clear[i] = confidence(o, p[i]) == "clear"
    return p, clear


def _baselines(drafted: list[Drafted], folds: int = 5) -> dict[str, tuple[Bools, Floats]]:
    """Out-of-fold probabilities of the baselines on the same folds."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    y = np.array([d.overturned for d in drafted])
    groups = np.array([d.letter for d in drafted])
    cats = [d.category or "-" for d in drafted]
    texts = [d.text for d in drafted]
    base = np.zeros(len(y))
    catrate = np.zeros(len(y))
    tfidf = np.zeros(len(y))
    fp = _tfidf_fit_predict(texts, y)
    for tr, te in GroupKFold(n_splits=folds).split(base, y, groups):
        rate = float(y[tr].mean())
        base[te] = rate
        by: dict[str, list[int]] = {}
        for i in tr:
            c = by.setdefault(cats[i], [0, 0])
            c[0] += 1
            c[1] += int(y[i])
        for i in te:
            n, o = by.get(cats[i], [0, 0])
            catrate[i] = (o + 2 * rate) / (n + 2)
        tfidf[te] = fp(tr, te)
    return {"always Upheld": (np.zeros(len(y), dtype=bool), base),
            "category overturn rate": (catrate >= 0.5, catrate),
            "TF-IDF + logistic regression": (tfidf >= 0.5, tfidf)}


def _clear(y: Bools, pred: Bools, clear: Bools) -> ClearMetrics:
    n = int(clear.sum())
    return {"clear_items": n, "clear_coverage": n / len(y) if len(y) else float("nan"),
            "clear_agreement": float((pred[clear] == y[clear]).mean()) if n else float("nan")}


def _guideline(drafted: list[Drafted], idx: Sequence[int] | Index) -> GuidelineShare:
    """Share of items whose drafted guideline is among those the reviewer cited, and (`first`)
    the one the reviewer relied on first."""
    counted = [m for m in (drafted[i].guideline_match for i in idx) if m is not None]
    first = [m for m in (drafted[i].guideline_first for i in idx) if m is not None]
    return {"share": sum(counted) / len(counted) if counted else float("nan"), "items_counted": len(counted),
            "first": sum(first) / len(first) if first else float("nan"),
            "items_reviewer_cited_none": len(idx) - len(counted)}


def _disagreements(drafted: list[Drafted], idx: Sequence[int] | Index) -> int:
    """Items whose decision does not follow their criteria verdict (must be 0)."""
    return sum((drafted[i].decision == "Overturned") != (drafted[i].verdict == "met") for i in idx)


def _intervals(part: Part, idx: Index, y: Bools, pred: Bools, p: Floats, groups: Names,
               upheld: tuple[Bools, Floats]) -> None:
    """Add the 95% intervals (letters resampled) of the engine and of the always-Upheld
    baseline to a part of the report."""
    if "systems" not in part:
        return
    part["systems"]["engine (rules)"]["ci95"] = _bootstrap(y[idx], pred[idx], p[idx], groups[idx])
    up_pred, up_p = upheld
    part["systems"]["always Upheld"]["ci95"] = _bootstrap(y[idx], up_pred[idx], up_p[idx], groups[idx])


def _report_on(drafted: list[Drafted], idx: Sequence[int] | Index, y: Bools, pred: Bools, p: Floats, clear: Bools,
               baselines: dict[str, tuple[Bools, Floats]]) -> Part:
    import numpy as np

    idx = np.asarray(idx, dtype=int)
    out: Part = {"items": int(len(idx)), "overturned": int(y[idx].sum())}
    if not len(idx):
        return out
    engine: Metrics = {**_metrics(y[idx], pred[idx], p[idx]), **_clear(y[idx], pred[idx], clear[idx])}
    out["systems"] = {"engine (rules)": engine} | {
        name: _metrics(y[idx], bp[idx], bprob[idx]) for name, (bp, bprob) in baselines.items()}
    out["guideline_match"] = _guideline(drafted, idx)
    out["decision_criteria_disagreements"] = _disagreements(drafted, idx)
    return out


def evaluate(paths: Sequence[Path], folds: int = 5) -> Report:
    """Full evaluation report: the engine and the baselines on all letters, on the held-out
    split alone, and per category; with 95% intervals by resampling letters."""
    import numpy as np

    letters = load_letters(paths)
    if len(letters) < folds:
        raise ValueError(f"need at least {folds} letters for {folds} folds, got {len(letters)}")
    drafted = draft_letters(letters)
    y = np.array([d.overturned for d in drafted])
    pred = np.array([d.decision == "Overturned" for d in drafted])
    groups = np.array([d.letter for d in drafted])
    p, clear = out_of_fold(drafted, folds)
    baselines = _baselines(drafted, folds)
    every = np.arange(len(drafted))
    report: Report = {"letters": len(letters), "items": len(drafted), "overturned": int(y.sum()), "folds": folds}
    report["all"] = _report_on(drafted, every, y, pred, p, clear, baselines)
    hold = [i for i, d in enumerate(drafted) if is_holdout(d.letter)]
    dev = [i for i, d in enumerate(drafted) if not is_holdout(d.letter)]
    report["holdout_letters"] = len({drafted[i].letter for i in hold})
    report["holdout"] = _report_on(drafted, hold, y, pred, p, clear, baselines)
    report["development"] = _report_on(drafted, dev, y, pred, p, clear, baselines)
    for part, idx in ((report["all"], every), (report["holdout"], hold)):  # 95% intervals: the engine and the always-Upheld baseline
        _intervals(part, np.asarray(idx, dtype=int), y, pred, p, groups, baselines["always Upheld"])
    report["all"]["ci95"] = report["all"]["systems"]["engine (rules)"]["ci95"]
    per: dict[str, CategoryReport] = {}
    for cat in sorted({d.category or "-" for d in drafted}):
        idx = np.array([i for i, d in enumerate(drafted) if (d.category or "-") == cat])
        m: Metrics = {**_metrics(y[idx], pred[idx], p[idx]), **_clear(y[idx], pred[idx], clear[idx])}
        per[cat] = {"n": int(len(idx)), "overturned": int(y[idx].sum()), "drafted_overturned": int(pred[idx].sum()),
                    "engine": m, "guideline_match": _guideline(drafted, idx),
                    "decision_criteria_disagreements": _disagreements(drafted, idx)}
    report["per_category"] = per
    report["per_rule"] = {k: {"items": n, "overturned": o} for k, (n, o) in count_outcomes(drafted)["outcomes"].items()}
    report["errors"] = [{"letter": drafted[i].letter, "request": drafted[i].request, "rule": drafted[i].key,
                         "drafted": drafted[i].decision, "reviewer": "Overturned" if y[i] else "Upheld",
                         "holdout": is_holdout(drafted[i].letter)}
                        for i in every if pred[i] != y[i]]
    return report


def fit_calibration(paths: Sequence[Path]) -> CalibrationFile:
    """The calibration table counted on all the letters given (the shipped data/calibration.json)."""
    letters = load_letters(paths)
    counts = count_outcomes(draft_letters(letters))
    return {"note": "per rule outcome: [items, overturned] in the shared letters; see engine/decide.py calibrate()",
            "letters": len(letters), **counts}


def _metrics(y: Bools, pred: Bools, p: Floats) -> Metrics:
    import numpy as np

    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    tn = int((~pred & ~y).sum())
    n = len(y)
    tpr = tp / (tp + fn) if tp + fn else float("nan")
    tnr = tn / (tn + fp) if tn + fp else float("nan")
    auc = float("nan")
    if 0 < y.sum() < n:
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score(y, p))
    return {
        "n": n,
        "auc": auc,
        "accuracy": (tp + tn) / n if n else float("nan"),
        "balanced_accuracy": float(np.nanmean([tpr, tnr])) if n else float("nan"),
        "overturn_precision": tp / (tp + fp) if tp + fp else 0.0,
        "overturn_recall": tpr,
        "brier": float(np.mean((p - y) ** 2)) if n else float("nan"),
    }


CI_KEYS = ("accuracy", "balanced_accuracy", "auc")


def _bootstrap(y: Bools, pred: Bools, p: Floats, groups: Names, keys: Sequence[str] = CI_KEYS,
               reps: int = 1000) -> dict[str, list[float]]:
    """95% intervals of metrics by resampling letters (cluster bootstrap): one resample of the
    letters serves every metric, so the intervals of one system (and of systems given the same
    letters) come from the same draws. Balanced accuracy and AUC count only resamples holding
    both outcomes (with no overturned item, balanced accuracy would be specificity alone)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    letters = np.array(sorted(set(groups)))
    index = {g: np.where(groups == g)[0] for g in letters}
    vals: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(reps):
        pick = rng.choice(letters, size=len(letters), replace=True)
        idx = np.concatenate([index[g] for g in pick])
        m = _metrics(y[idx], pred[idx], p[idx])
        values: dict[str, float] = {"accuracy": m["accuracy"], "balanced_accuracy": m["balanced_accuracy"], "auc": m["auc"],
                                    "brier": m["brier"], "overturn_precision": m["overturn_precision"],
                                    "overturn_recall": m["overturn_recall"]}
        both = 0 < y[idx].sum() < len(idx)  # balanced accuracy and AUC need both outcomes in the resample
        for k in keys:
            if values[k] == values[k] and (both or k not in ("balanced_accuracy", "auc")):
                vals[k].append(values[k])
    return {k: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] if v else [float("nan"), float("nan")]
            for k, v in vals.items()}


def _tfidf_fit_predict(texts: list[str], y: Bools) -> Callable[[Index, Index], Floats]:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    def fp(tr: Index, te: Index) -> Floats:
        if len(set(y[tr])) < 2:
            return np.full(len(te), float(y[tr].mean()))
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=20000)
        Xtr = vec.fit_transform([texts[i] for i in tr])
        lr = LogisticRegression(C=1.0, max_iter=5000)
        lr.fit(Xtr, y[tr])
        proba: Floats = lr.predict_proba(vec.transform([texts[i] for i in te]))[:, 1]
        return proba

    return fp


def format_text(report: Report) -> str:
    """The report as readable tables."""
    lines = [f"{report['letters']} letters, {report['items']} items ({report['overturned']} overturned); "
             f"calibration out-of-fold, {report['folds']}-fold grouped by letter"]
    for r, title in ((report["all"], "all letters"), (report["development"], "development letters"),
                     (report["holdout"], f"held-out split ({report['holdout_letters']} letters, not read while writing rules)")):
        if "systems" not in r:
            continue
        lines.append(f"{title}: {r['items']} items, {r['overturned']} overturned")
        lines.append(f"  {'system':<30}{'acc':>7}{'bal.acc':>9}{'prec':>7}{'recall':>8}{'brier':>8}{'auc':>7}")
        for s, m in r["systems"].items():
            auc = "      -" if m["auc"] != m["auc"] else f"{m['auc']:>7.3f}"
            lines.append(f"  {s:<30}{m['accuracy']:>7.3f}{m['balanced_accuracy']:>9.3f}{m['overturn_precision']:>7.3f}"
                         f"{m['overturn_recall']:>8.3f}{m['brier']:>8.3f}{auc}")
        for s, m in r["systems"].items():
            if "ci95" in m:
                lines.append(f"  {s}: 95% interval (letters resampled) accuracy {_span(m['ci95']['accuracy'])}, "
                             f"balanced accuracy {_span(m['ci95']['balanced_accuracy'])}")
        e, g = r["systems"]["engine (rules)"], r["guideline_match"]
        lines.append(f"  clear: {e['clear_items']} items ({e['clear_coverage']:.3f}), agreement {e['clear_agreement']:.3f}; "
                     f"guideline among those cited {g['share']:.3f} (first cited {g['first']:.3f}) of {g['items_counted']}; "
                     f"decision/criteria disagreements {r['decision_criteria_disagreements']}")
    lines.append("per category (n, overturned, drafted overturned, accuracy, clear n / agreement, guideline match):")
    for cat, c in report["per_category"].items():
        e, g = c["engine"], c["guideline_match"]
        ca = "-" if e["clear_items"] == 0 else f"{e['clear_agreement']:.2f}"
        gm = "-" if g["items_counted"] == 0 else f"{g['share']:.2f}"
        lines.append(f"  {cat:<30}{c['n']:>4}{c['overturned']:>4}{c['drafted_overturned']:>4}  {e['accuracy']:.2f}  "
                     f"{e['clear_items']:>3} / {ca}  {gm}")
    return "\n".join(lines)


def _span(interval: list[float]) -> str:
    """A 95% interval as "[0.93, 0.98]" ("-" when it could not be computed)."""
    lo, hi = interval
    return "-" if lo != lo else f"[{lo:.3f}, {hi:.3f}]"


def dumps(report: Report) -> str:
    """JSON of the report (NaN written as null)."""
    def clean(o: object) -> object:
        if isinstance(o, float) and o != o:
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, list):
            return [clean(v) for v in o]
        return o

    return json.dumps(clean(report), indent=2)
