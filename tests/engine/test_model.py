"""The probability model's inputs from the request form, and the honesty of its selection:
configurations are chosen on training letters only, and every shipped kind predicts."""

from __future__ import annotations

import numpy as np
import pytest

from openimr.engine import evaluate as ev
from openimr.engine.decide import predict_proba, visits_requested


@pytest.mark.parametrize(
    "request_text, visits",
    [
        ("Acupuncture 3 times a week for 2 weeks, neck, right hand and head", 6),
        ("Physical therapy, 2 times a week for 4 weeks, right knee", 8),
        ("Physical therapy three times a week for two weeks for the cervical", 6),
        ("Acupuncture therapy sessions lumbar spine #6", 6),
        ("Associated surgical service: Physical therapy, times 12", 12),
        ("Additional physical therapy two times four visits (8) for the lumbar", 8),
        ("Eight (8) physical therapy sessions", 8),
        ("Physical therapy 6 sessions 2 times a week for 3 weeks to the lumbar", 6),
        ("Chiropractic treatment for the lumbar spine, 12 visits", 12),
        ("PT 2x4 lumbar", 8),
        ("Physical therapy treatments for the left shoulder", None),
    ],
)
def test_visits_requested_reads_the_printed_request(request_text, visits):
    assert visits_requested(request_text) == visits


def _synthetic(seed=0, letters=40):
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"L{i}" for i in range(letters)], 3)
    y = rng.random(len(groups)) < 0.25
    signal = y + rng.normal(0, 0.8, len(y))
    X = np.column_stack([signal, rng.normal(size=len(y)), rng.normal(size=len(y))])
    return X, ["sig", "form_noise", "case_noise"], y, groups


def test_selection_sees_only_the_training_letters():
    X, names, y, groups = _synthetic()
    cats = ["x"] * len(y)
    tr = np.where(np.isin(groups, [f"L{i}" for i in range(30)]))[0]
    chosen = ev.select_config(tr, X, names, y, groups, cats, ev.candidate_configs())
    flipped = y.copy()
    rest = np.setdiff1d(np.arange(len(y)), tr)
    flipped[rest] = ~flipped[rest]  # labels outside the training letters must not matter
    assert ev.select_config(tr, X, names, flipped, groups, cats, ev.candidate_configs()) == chosen


@pytest.mark.parametrize("cfg", [ev.EngineConfig(c_grid=(0.3,)), ev.EngineConfig(learner="lgbm"),
                                 ev.EngineConfig(calibration="isotonic")])
def test_shipped_model_kinds_predict_like_the_fit(cfg):
    X, names, y, groups = _synthetic(1)
    model = ev.fit_config(X, names, y, groups, ["x"] * len(y), cfg)
    probs = [predict_proba(dict(zip(names, row)), model) for row in X]
    assert all(0 < p < 1 for p in probs)
    # the model ranks by the informative column, as fitted
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, probs) > 0.7


def test_auc_within_folds_ranks_inside_each_fold_only():
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    # inside each fold the overturned items score higher, but the second fold's scores are all
    # lower than the first's: the pooled AUC suffers, the within-fold AUC does not
    y = np.array([True, False, False] * 4)
    groups = np.repeat(["a", "b", "c", "d"], 3)
    p = np.zeros(12)
    for k, (_tr, te) in enumerate(GroupKFold(n_splits=2).split(p, y, groups)):
        p[te] = np.where(y[te], 0.4, 0.3) - 0.25 * k
    assert ev.auc_within_folds(y, p, groups, folds=2) == 1.0
    assert roc_auc_score(y, p) < 1.0
    assert np.isnan(ev.auc_within_folds(np.zeros(12, dtype=bool), p, groups, folds=2))
