"""Measure the engine on real Final Determination letters, outcome hidden.

Each letter becomes a case holding only the clinical case summary, the dates, the item
requests and the claims administrator's citation; decisions, IMR citations and rationales
are held out and used only for scoring. Whatever is learned (the probability model and its
decision threshold) is fitted inside grouped cross-validation folds (by letter), and the two
baselines (always Upheld; TF-IDF + logistic regression) run on the same folds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from openimr.engine.models import Case, CaseDocument, DisputedRequest

SEED = 20161218


@dataclass
class EvalItem:
    """One held-out item: what the engine saw and what the reviewer decided."""

    letter: str
    request: str
    text: str  # summary + request, for the TF-IDF baseline
    overturned: bool
    reviewer_guideline: tuple[str, str] | None  # (scope, name) of the reviewer's first MTUS guideline


def case_from_letter(letter, name: str = "") -> Case:
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


def reviewer_guideline(citation) -> tuple[str, str] | None:
    """The reviewer's first MTUS guideline, else the first guideline named, else None."""
    refs = [r for r in citation.references if r.guideline]
    if not refs:
        return None
    mtus = [r for r in refs if r.scope == "MTUS"]
    r = (mtus or refs)[0]
    return (r.scope, r.guideline)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def guideline_matches(ours, theirs: tuple[str, str] | None) -> bool | None:
    """Same guideline as the reviewer's (None when the reviewer cited none)."""
    if theirs is None:
        return None
    if ours is None or not ours.guideline:
        return False
    scope, name = theirs
    if ours.scope != scope:
        return False
    if scope == "MTUS":
        a, b = _norm(ours.guideline), _norm(name)
        return a.startswith(b[:12]) or b.startswith(a[:12])
    return _family(ours.guideline) == _family(name)


def _family(name: str) -> str:
    """The guideline family of a non-MTUS citation (ODG, ACOEM, or its own name)."""
    low = name.lower()
    if "odg" in low or "official disability" in low:
        return "ODG"
    if "acoem" in low:
        return "ACOEM"
    return _norm(name)[:12]


def load_letters(paths: list[Path]) -> list[tuple[str, object]]:
    """Read letters; raise ValueError naming the file that cannot be read."""
    import openimr

    out = []
    for p in paths:
        try:
            letter = openimr.read_letter(Path(p))
        except Exception as exc:  # reader errors carry their own message
            raise ValueError(f"{p}: cannot read letter: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        if not letter.items:
            raise ValueError(f"{p}: no disputed items found")
        out.append((Path(p).stem, letter))
    return out


def build_dataset(letters):
    """Features of every item (engine view), the held-out truths, and the baseline texts."""
    from openimr.engine.decide import feature_vector, item_features

    feats, vecs, items = [], [], []
    for name, letter in letters:
        case = case_from_letter(letter, name)
        fs = item_features(case)
        for f, item in zip(fs, letter.items):
            feats.append((name, f))
            vecs.append(feature_vector(f))
            items.append(
                EvalItem(
                    letter=name,
                    request=item.request,
                    text=letter.clinical_case_summary + " REQUEST: " + item.request,
                    overturned=item.decision == "Overturned",
                    reviewer_guideline=reviewer_guideline(item.imr_guideline),
                )
            )
    return feats, vecs, items


def _matrix(vecs, names=None):
    import numpy as np

    names = names or sorted({k for v in vecs for k in v})
    X = np.array([[v.get(n, 0.0) for n in names] for v in vecs], dtype=float)
    return X, names


MAX_OVERTURN_SHARE = 0.25  # a draft flags at most a quarter of items as Overturned (base rate ~12%)


def _balanced(y, pred) -> float:
    """Balanced accuracy of decisions `pred` (a class with no item counts as 0 recall)."""
    tpr = (pred & y).sum() / max(y.sum(), 1)
    tnr = (~pred & ~y).sum() / max((~y).sum(), 1)
    return (tpr + tnr) / 2


def _pick_threshold(y, p) -> float:
    """Threshold maximizing balanced accuracy among those flagging at most
    MAX_OVERTURN_SHARE of the items as Overturned (ties to the higher threshold)."""
    import numpy as np

    best, best_t = -1.0, 1.0
    for t in np.unique(np.round(p, 3)):
        pred = p >= t
        if pred.mean() > MAX_OVERTURN_SHARE:
            continue
        score = _balanced(y, pred)
        if score > best + 1e-9 or (abs(score - best) <= 1e-9 and t > best_t):
            best, best_t = score, float(t)
    return best_t


def _fit_lr(X, y, C: float = 0.1):
    """Logistic regression on standardized features; returns (model, mean, scale)."""
    from sklearn.linear_model import LogisticRegression

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=C, max_iter=5000)
    lr.fit((X - mean) / scale, y)
    return lr, mean, scale


def _logit(p):
    import numpy as np

    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class EngineConfig:
    """How the engine's probability model is fitted, calibrated and thresholded.

    Every choice made from data (C, the calibration map, the threshold) is made on inner
    grouped folds of the training letters only."""

    learner: str = "lr"  # "lr" (L2 logistic regression) or "lgbm" (shallow LightGBM)
    c_grid: tuple[float, ...] = (0.1,)  # C for "lr"; more than one value: chosen by inner grouped CV
    calibration: str = "platt"  # "platt", "isotonic" or "none"
    threshold: str = "max_ba_25"  # "max_ba_25", "p50" or "ba_acc88"
    drop: tuple[str, ...] = ()  # feature-name prefixes left out
    category_prior: bool = False  # in-fold smoothed overturn rate of the item's category


BASELINE_CONFIG = EngineConfig(drop=("form_", "case_"))  # the engine before the second round
FEATURE_SETS = {"criteria+category": ("form_", "case_"), "+request form": ("case_",), "+case": ("form_",), "+request form+case": ()}


def candidate_configs() -> list[EngineConfig]:
    """The configurations nested selection chooses among (feature set x learner), stated
    in docs/evaluation.md before they were measured."""
    out = []
    for drop in FEATURE_SETS.values():
        out += [EngineConfig(drop=drop, c_grid=(c,)) for c in (0.03, 0.1, 0.3)]
        out.append(EngineConfig(drop=drop, learner="lgbm"))
    return out


def describe(cfg: EngineConfig) -> str:
    """A short name of a configuration (feature set and learner)."""
    fs = next((k for k, v in FEATURE_SETS.items() if v == cfg.drop), ",".join(cfg.drop) or "all")
    learner = "LightGBM" if cfg.learner == "lgbm" else f"LR C={cfg.c_grid[0]}"
    return f"{fs}; {learner}; {cfg.calibration}; {cfg.threshold}"


def select_columns(names: list[str], cfg: EngineConfig) -> list[int]:
    """Indexes of the feature columns a configuration keeps."""
    return [i for i, n in enumerate(names) if not any(n.startswith(d) for d in cfg.drop)]


def _category_prior(cats, y, tr, k: float = 5.0) -> dict:
    """Smoothed overturn rate per category on the training items tr only."""
    base = float(y[tr].mean())
    counts: dict[str, list[int]] = {}
    for i in tr:
        c = counts.setdefault(cats[i], [0, 0])
        c[0] += int(y[i])
        c[1] += 1
    return {c: (o + k * base) / (n + k) for c, (o, n) in counts.items()} | {"__base__": base}


def _with_prior(X, cats, idx, prior):
    import numpy as np

    col = np.array([prior.get(cats[i], prior["__base__"]) for i in idx]).reshape(-1, 1)
    return np.hstack([X[idx], col])


def _fit_lgbm(X, y):
    import warnings

    import lightgbm as lgb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = lgb.LGBMClassifier(n_estimators=100, learning_rate=0.05, num_leaves=4, min_child_samples=10,
                               subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=SEED, verbose=-1,
                               n_jobs=1)
        m.fit(X, y)
    return m


def _fit_predict_raw(Xtr, ytr, Xte, cfg: EngineConfig, C: float):
    import numpy as np

    if len(set(ytr)) < 2:  # a fold without any overturned item: the base rate
        return np.full(len(Xte), float(ytr.mean()))
    if cfg.learner == "lgbm":
        return _fit_lgbm(Xtr, ytr).predict_proba(Xte)[:, 1]
    lr, mean, scale = _fit_lr(Xtr, ytr, C)
    return lr.predict_proba((Xte - mean) / scale)[:, 1]


def make_fit_predict(X, y, cats, cfg: EngineConfig):
    """fp(tr, te, C) -> raw scores of te from a model fitted on tr (features, in-fold prior)."""

    def fp(tr, te, C):
        if cfg.category_prior:
            prior = _category_prior(cats, y, tr)
            return _fit_predict_raw(_with_prior(X, cats, tr, prior), y[tr], _with_prior(X, cats, te, prior), cfg, C)
        return _fit_predict_raw(X[tr], y[tr], X[te], cfg, C)

    return fp


def _inner_oof(tr, y, groups, fp, C):
    import numpy as np
    from sklearn.model_selection import GroupKFold

    oof = np.zeros(len(tr))
    k = min(4, len(set(groups[tr])))
    for a, b in GroupKFold(n_splits=k).split(tr, y[tr], groups[tr]):
        oof[b] = fp(tr[a], tr[b], C)
    return oof


def _choose_c(tr, y, groups, fp, cfg: EngineConfig) -> float:
    """C with the best inner grouped out-of-fold AUC (the first on ties)."""
    from sklearn.metrics import roc_auc_score

    if cfg.learner != "lr" or len(cfg.c_grid) == 1 or len(set(y[tr])) < 2:
        return cfg.c_grid[0]
    scores = [roc_auc_score(y[tr], _inner_oof(tr, y, groups, fp, c)) for c in cfg.c_grid]
    return cfg.c_grid[max(range(len(scores)), key=lambda i: (scores[i], -i))]


def _calibrator(oof, y, method: str):
    """A map raw score -> probability fitted on inner out-of-fold scores."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if method == "none" or len(set(y)) < 2:
        return (lambda p: np.asarray(p, dtype=float)), {}
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-3, y_max=1 - 1e-3).fit(oof, y)
        return (lambda p: iso.predict(np.asarray(p, dtype=float))), {
            "isotonic": {"x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]}}
    z = _logit(oof).reshape(-1, 1)
    platt = LogisticRegression(C=1.0, max_iter=1000).fit(z, y)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    if a <= 0:  # no usable ranking in the inner folds: keep the order, shrink to the base rate
        a, b = 0.05, float(np.log(max(y.mean(), 1e-3) / max(1 - y.mean(), 1e-3)))
    return (lambda p: _apply_platt(np.asarray(p, dtype=float), a, b)), {"platt": [a, b]}


def _threshold(y, cal, rule: str) -> float:
    import numpy as np

    if rule == "p50":
        return 0.5
    if rule == "ba_acc88":
        best, best_t = (-1.0, -1.0), 1.0
        for t in np.unique(np.round(cal, 3)):
            pred = cal >= t
            acc = float((pred == y).mean())
            key = (_balanced(y, pred), acc) if acc >= 0.88 else (-1.0, acc)
            if key > best:
                best, best_t = key, float(t)
        return best_t
    return _pick_threshold(y, cal)


def fit_inner(tr, X, y, groups, cats, cfg: EngineConfig):
    """Everything fitted on the training letters tr: C, calibration map, threshold.
    Returns (C, calibrate, threshold, calibration params)."""
    fp = make_fit_predict(X, y, cats, cfg)
    C = _choose_c(tr, y, groups, fp, cfg)
    oof = _inner_oof(tr, y, groups, fp, C)
    cal, params = _calibrator(oof, y[tr], cfg.calibration)
    return C, cal, _threshold(y[tr], cal(oof), cfg.threshold), params


def _inner_calibration(X, y, groups, fit_predict) -> tuple[float, float, float]:
    """Platt scaling (a, b) and decision threshold from inner grouped out-of-fold predictions
    (used for the TF-IDF baseline)."""
    import numpy as np

    tr = np.arange(len(y))
    oof = _inner_oof(tr, y, groups, lambda a, b, _c: fit_predict(a, b), None)
    _cal, params = _calibrator(oof, y, "platt")
    a, b = params.get("platt", [0.0, 0.0])
    return a, b, _pick_threshold(y, _apply_platt(oof, a, b))


def _apply_platt(p, a: float, b: float):
    import numpy as np

    return 1 / (1 + np.exp(-(a * _logit(p) + b)))


def _tfidf_fit_predict(texts, y):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    def fp(tr, te):
        if len(set(y[tr])) < 2:
            return np.full(len(te), float(y[tr].mean()))
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=20000)
        Xtr = vec.fit_transform([texts[i] for i in tr])
        lr = LogisticRegression(C=1.0, max_iter=5000)
        lr.fit(Xtr, y[tr])
        return lr.predict_proba(vec.transform([texts[i] for i in te]))[:, 1]

    return fp, np


def inner_auc(tr, X, y, groups, cats, cfg: EngineConfig) -> float:
    """Pooled inner grouped out-of-fold AUC of a configuration on the training letters tr."""
    from sklearn.metrics import roc_auc_score

    if len(set(y[tr])) < 2:
        return 0.5
    fp = make_fit_predict(X, y, cats, cfg)
    return float(roc_auc_score(y[tr], _inner_oof(tr, y, groups, fp, cfg.c_grid[0])))


def select_config(tr, X_full, names, y, groups, cats, candidates) -> EngineConfig:
    """The candidate configuration with the best inner grouped out-of-fold AUC on tr
    (the first listed on ties)."""
    scores = []
    for cfg in candidates:
        X = X_full[:, select_columns(names, cfg)]
        scores.append(inner_auc(tr, X, y, groups, cats, cfg))
    return candidates[max(range(len(scores)), key=lambda i: (scores[i], -i))]


def selected_oof(feats, X_full, names, y, groups, cats, candidates, folds: int = 5):
    """Out-of-fold figures when the configuration itself is chosen per outer fold by inner
    grouped CV on the training letters (nested selection); also the choices made."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    p_all, pred_all, chosen = np.zeros(len(y)), np.zeros(len(y), dtype=bool), []
    for tr, te in GroupKFold(n_splits=folds).split(X_full, y, groups):
        cfg = select_config(tr, X_full, names, y, groups, cats, candidates)
        chosen.append(cfg)
        X = X_full[:, select_columns(names, cfg)]
        p, pred = _one_fold(feats, X, y, groups, cats, cfg, tr, te)
        p_all[te], pred_all[te] = p, pred
    return p_all, pred_all, chosen


def _one_fold(feats, X, y, groups, cats, cfg, tr, te):
    """Calibrated probabilities and decisions of te from a model fitted on tr."""
    from openimr.engine.decide import apply_surgery_dependency

    fp = make_fit_predict(X, y, cats, cfg)
    C, cal, t, _params = fit_inner(tr, X, y, groups, cats, cfg)
    p = cal(fp(tr, te, C))
    # dependency on a disputed surgery, within each test letter
    for g in sorted(set(groups[te])):
        pos = [j for j, i in enumerate(te) if groups[i] == g]
        adj = apply_surgery_dependency([feats[te[j]][1] for j in pos], [p[j] for j in pos])
        for j, v in zip(pos, adj):
            p[j] = v
    return p, p >= t


def engine_oof(feats, X, y, groups, cats, cfg: EngineConfig, folds: int = 5):
    """Out-of-fold calibrated probabilities and decisions of the engine under one configuration."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    p_all, pred_all = np.zeros(len(y)), np.zeros(len(y), dtype=bool)
    for tr, te in GroupKFold(n_splits=folds).split(X, y, groups):
        p_all[te], pred_all[te] = _one_fold(feats, X, y, groups, cats, cfg, tr, te)
    return p_all, pred_all


def one_thread(fn):
    """Run fn with BLAS/OpenMP pools limited to one thread: the many small fits of nested
    cross-validation are several times slower with thread oversubscription."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)

    return wrapper


@one_thread
def cross_validate(feats, vecs, items, folds: int = 5, config: EngineConfig | None = None):
    """Out-of-fold probabilities and decisions for the engine and the baselines.

    "engine": the configuration chosen per outer fold by inner grouped CV among
    candidate_configs() (or the given config); "engine_before": the first-round
    configuration, for comparison in the same run."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    X_full, names = _matrix(vecs)
    y = np.array([i.overturned for i in items])
    groups = np.array([i.letter for i in items])
    cats = [f.match.category or "uncovered" for _n, f in feats]
    texts = [i.text for i in items]
    out = {k: {"p": np.zeros(len(y)), "pred": np.zeros(len(y), dtype=bool)} for k in ("engine", "tfidf", "always_upheld")}
    if config is None:
        p, pred, chosen = selected_oof(feats, X_full, names, y, groups, cats, candidate_configs(), folds)
    else:
        p, pred = engine_oof(feats, X_full[:, select_columns(names, config)], y, groups, cats, config, folds)
        chosen = [config] * folds
    out["engine"]["p"], out["engine"]["pred"] = p, pred
    out["engine"]["chosen"] = [describe(c) for c in chosen]
    X0 = X_full[:, select_columns(names, BASELINE_CONFIG)]
    p0, pred0 = engine_oof(feats, X0, y, groups, cats, BASELINE_CONFIG, folds)
    tf_fp, _ = _tfidf_fit_predict(texts, y)
    for tr, te in GroupKFold(n_splits=folds).split(X0, y, groups):
        a, b, t_tf = _inner_calibration(X0[tr], y[tr], groups[tr], lambda i, j: tf_fp(tr[i], tr[j]))
        q = _apply_platt(tf_fp(tr, te), a, b)
        out["tfidf"]["p"][te] = q
        out["tfidf"]["pred"][te] = q >= t_tf
    # a second operating point of the same probabilities: Overturned only when more likely than not
    out["engine_p50"] = {"p": out["engine"]["p"].copy(), "pred": out["engine"]["p"] >= 0.5}
    out["engine_before"] = {"p": p0, "pred": pred0}
    if config is None:  # the operating point for the pair: best inner balanced accuracy with inner accuracy >= 0.88
        from dataclasses import replace

        acc_cands = [replace(c, threshold="ba_acc88") for c in candidate_configs()]
        p88, pred88, _ = selected_oof(feats, X_full, names, y, groups, cats, acc_cands, folds)
        out["engine_acc88"] = {"p": p88, "pred": pred88}
    return out, y, groups


def _metrics(y, pred, p):
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


def _bootstrap(y, pred, p, groups, key, reps: int = 1000):
    """95% interval of a metric by resampling letters (cluster bootstrap)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    letters = np.array(sorted(set(groups)))
    index = {g: np.where(groups == g)[0] for g in letters}
    vals = []
    for _ in range(reps):
        pick = rng.choice(letters, size=len(letters), replace=True)
        idx = np.concatenate([index[g] for g in pick])
        v = _metrics(y[idx], pred[idx], p[idx])[key]
        if v == v:
            vals.append(v)
    if not vals:
        return [float("nan"), float("nan")]
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))]


def _match_ci(feats, items, groups, reps: int = 1000):
    """95% interval of the guideline match share by resampling letters."""
    import numpy as np

    from openimr.engine.kb import citation_for

    hits = []
    for (_n, f), it in zip(feats, items):
        ours = citation_for(f.match.kb_entry, f.match.region) if f.match.kb_entry else None
        hits.append(guideline_matches(ours, it.reviewer_guideline))
    rng = np.random.default_rng(SEED)
    letters = sorted(set(groups))
    by = {g: [h for h, gg in zip(hits, groups) if gg == g and h is not None] for g in letters}
    vals = []
    for _ in range(reps):
        pick = rng.choice(len(letters), size=len(letters), replace=True)
        flat = [h for i in pick for h in by[letters[i]]]
        if flat:
            vals.append(sum(flat) / len(flat))
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))] if vals else [float("nan")] * 2


def guideline_match_share(feats, items, cats=None):
    """Share of items whose drafted guideline matches the reviewer's, and how many counted."""
    from openimr.engine.kb import citation_for

    hits = total = 0
    for (name, f), it in zip(feats, items):
        if cats is not None and f.match.category not in cats:
            continue
        ours = citation_for(f.match.kb_entry, f.match.region) if f.match.kb_entry else None
        m = guideline_matches(ours, it.reviewer_guideline)
        if m is None:
            continue
        total += 1
        hits += bool(m)
    return (hits / total if total else float("nan")), total


def auc_within_folds(y, p, groups, folds: int = 5) -> float:
    """Mean AUC inside each outer test fold (folds holding both outcomes). The pooled AUC also
    compares probabilities across folds, whose models differ in scale; this one does not."""
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    aucs = [roc_auc_score(y[te], p[te]) for _tr, te in GroupKFold(n_splits=folds).split(p, y, groups)
            if 0 < y[te].sum() < len(te)]
    return float(np.mean(aucs)) if aucs else float("nan")


def evaluate(paths: list[Path], folds: int = 5) -> dict:
    """Full evaluation report (figures for the engine and the baselines, per category too)."""
    import numpy as np

    letters = load_letters(paths)
    if len(letters) < folds:
        raise ValueError(f"need at least {folds} letters for {folds} folds, got {len(letters)}")
    feats, vecs, items = build_dataset(letters)
    out, y, groups = cross_validate(feats, vecs, items, folds)
    report = {"letters": len(letters), "items": len(items), "overturned": int(y.sum()), "folds": folds, "systems": {},
              "engine_configs_chosen": out["engine"].pop("chosen")}
    for sysname, r in out.items():
        m = _metrics(y, r["pred"], r["p"])
        m["auc_within_folds"] = auc_within_folds(y, r["p"], groups, folds)
        m["ci95"] = {k: _bootstrap(y, r["pred"], r["p"], groups, k) for k in ("accuracy", "balanced_accuracy", "overturn_precision", "overturn_recall", "brier", "auc")}
        report["systems"][sysname] = m
    share, counted = guideline_match_share(feats, items)
    report["guideline_match"] = {"share": share, "items_counted": counted, "items_reviewer_cited_none": len(items) - counted,
                                 "ci95": _match_ci(feats, items, groups)}
    cats: dict[str, list[int]] = {}
    for i, (_n, f) in enumerate(feats):
        cats.setdefault(f.match.category or "uncovered", []).append(i)
    per = {}
    for cat, idx in sorted(cats.items(), key=lambda kv: -len(kv[1])):
        idx = np.array(idx)
        row = {"n": len(idx), "overturned": int(y[idx].sum())}
        for sysname in [k for k in ("engine", "engine_p50", "engine_acc88", "engine_before", "tfidf", "always_upheld") if k in out]:
            mm = _metrics(y[idx], out[sysname]["pred"][idx], out[sysname]["p"][idx])
            row[sysname] = {"accuracy": mm["accuracy"], "balanced_accuracy": mm["balanced_accuracy"]}
        row["guideline_match"], row["guideline_counted"] = guideline_match_share(feats, items, {cat if cat != "uncovered" else None})
        per[cat] = row
    report["per_category"] = per
    report["errors"] = [
        {"letter": it.letter, "request": it.request, "truth": "Overturned" if it.overturned else "Upheld",
         "p": round(float(out["engine"]["p"][i]), 3), "category": feats[i][1].match.category}
        for i, it in enumerate(items) if bool(out["engine"]["pred"][i]) != it.overturned
    ]
    return report


def fit_model(paths: list[Path]) -> dict:
    """Fit the shipped probability model on all given letters (JSON-serialisable): the
    configuration is chosen among candidate_configs() by inner grouped CV on all letters, then
    its calibration and threshold come from grouped out-of-fold scores, and the model itself
    is fitted on every letter."""
    import numpy as np

    letters = load_letters(paths)
    feats, vecs, items = build_dataset(letters)
    X_full, names = _matrix(vecs)
    y = np.array([i.overturned for i in items])
    groups = np.array([i.letter for i in items])
    cats = [f.match.category or "uncovered" for _n, f in feats]
    cfg = one_thread(select_config)(np.arange(len(y)), X_full, names, y, groups, cats, candidate_configs())
    return fit_config(X_full, names, y, groups, cats, cfg) | {
        "trained_on": {"letters": len(letters), "items": len(items), "overturned": int(y.sum())}}


@one_thread
def fit_config(X_full, names, y, groups, cats, cfg: EngineConfig) -> dict:
    """The shipped model for one configuration, fitted on all items given."""
    import numpy as np

    cols = select_columns(names, cfg)
    X = X_full[:, cols]
    C, _cal, threshold, params = fit_inner(np.arange(len(y)), X, y, groups, cats, cfg)
    model = {"features": [names[i] for i in cols], "config": describe(cfg), "threshold": float(threshold), **params}
    if cfg.learner == "lgbm":
        booster = _fit_lgbm(X, y).booster_
        return model | {"lgbm": booster.model_to_string(), "coef": [], "intercept": 0.0}
    lr, mean, scale = _fit_lr(X, y, C)
    return model | {"coef": [float(c) for c in lr.coef_[0]], "intercept": float(lr.intercept_[0]),
                    "mean": [float(v) for v in mean], "scale": [float(v) for v in scale]}


def format_text(report: dict) -> str:
    """The report as a readable table."""
    lines = [f"{report['letters']} letters, {report['items']} items ({report['overturned']} overturned), "
             f"{report['folds']}-fold grouped cross-validation by letter"]
    lines.append(f"{'system':<15}{'acc':>7}{'bal.acc':>9}{'prec':>7}{'recall':>8}{'brier':>8}{'auc':>7}{'auc/fold':>9}")
    for s, m in report["systems"].items():
        auc = "      -" if m["auc"] != m["auc"] else f"{m['auc']:>7.3f}"
        within = m.get("auc_within_folds", float("nan"))
        within = "        -" if within != within else f"{within:>9.3f}"
        lines.append(f"{s:<15}{m['accuracy']:>7.3f}{m['balanced_accuracy']:>9.3f}{m['overturn_precision']:>7.3f}"
                     f"{m['overturn_recall']:>8.3f}{m['brier']:>8.3f}{auc}{within}")
    g = report["guideline_match"]
    lines.append(f"guideline match: {g['share']:.3f} of {g['items_counted']} items "
                 f"({g['items_reviewer_cited_none']} where the reviewer cited none)")
    lines.append("per category (n, overturned, engine acc / bal.acc, guideline match):")
    for cat, r in report["per_category"].items():
        e = r["engine"]
        gm = "-" if r["guideline_counted"] == 0 else f"{r['guideline_match']:.2f}"
        lines.append(f"  {cat:<30}{r['n']:>4}{r['overturned']:>4}  {e['accuracy']:.2f} / {e['balanced_accuracy']:.2f}  {gm}")
    return "\n".join(lines)


def dumps(report: dict) -> str:
    """JSON of the report (NaN written as null)."""
    def clean(o):
        if isinstance(o, float) and o != o:
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, list):
            return [clean(v) for v in o]
        return o

    return json.dumps(clean(report), indent=2)
