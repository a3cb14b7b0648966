"""Determination engine figures: speed per case (one core, models loaded), fact extraction
on the labelled mentions, and the evaluation on the 129 real letters with its baselines."""

from __future__ import annotations

import importlib.util
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LETTERS = ROOT.parent / "shared" / "data" / "letters"


def _speed(letters) -> list[str]:
    from openimr.engine import facts
    from openimr.engine.decide import decide_case
    from openimr.engine.evaluate import case_from_letter

    started = time.perf_counter()
    facts.load_models()
    load = time.perf_counter() - started
    cases = []
    for name, letter in letters:
        case = case_from_letter(letter, name)
        items = list(case.disputed_items)
        while len(items) < 10:  # pad to ten items with the letter's own requests
            items += case.disputed_items
        case.disputed_items = items[:10]
        cases.append(case)
    decide_case(cases[0])
    times = []
    for case in cases:
        t = time.perf_counter()
        decide_case(case)
        times.append(time.perf_counter() - t)
    times.sort()
    return [
        f"| model loading (medspaCy pipeline, once) | {load:.2f} s |",
        f"| cases of 10 items timed | {len(times)} |",
        f"| per case, median | {1000 * statistics.median(times):.0f} ms |",
        f"| per case, 95th percentile | {1000 * times[int(0.95 * (len(times) - 1))]:.0f} ms |",
        f"| per case, max (goal ≤ 1000 ms) | {1000 * times[-1]:.0f} ms |",
    ]


def _facts() -> list[str]:
    from openimr.engine import facts

    spec = importlib.util.spec_from_file_location("factscore", ROOT / "tests" / "engine" / "factscore.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    dev = mod.score(facts.extract_text)
    dev2 = mod.score(facts.extract_text, mod.DEV2)
    held = mod.score(facts.extract_text, mod.HELDOUT)
    return [
        "| set | mentions | precision | recall | negation accuracy |",
        "|---|---|---|---|---|",
        f"| development (patterns fixed on it) | {dev['gold_mentions']} | {dev['precision']:.3f} | {dev['recall']:.3f} | {dev['negation_accuracy']:.3f} |",
        f"| second development set (held out once, then patterns fixed on it) | {dev2['gold_mentions']} | {dev2['precision']:.3f} | {dev2['recall']:.3f} | {dev2['negation_accuracy']:.3f} |",
        f"| held-out (labelled after patterns froze) | {held['gold_mentions']} | {held['precision']:.3f} | {held['recall']:.3f} | {held['negation_accuracy']:.3f} |",
    ]


def _evaluation(paths) -> list[str]:
    from openimr.engine import evaluate as ev

    r = ev.evaluate(paths, folds=5)
    rows = [f"{r['letters']} letters, {r['items']} items ({r['overturned']} overturned); decisions from the rules, "
            "calibration out-of-fold (5-fold grouped by letter).", ""]
    for part, title in (("all", "all letters"), ("development", "development letters"),
                        ("holdout", f"held-out split ({r['holdout_letters']} letters, not read while writing rules)")):
        q = r[part]
        rows += [f"{title}: {q['items']} items, {q['overturned']} overturned", "",
                 "| system | accuracy | balanced acc. | overturn precision | overturn recall | Brier | AUC |",
                 "|---|---|---|---|---|---|---|"]
        for name, m in q["systems"].items():
            rows.append(f"| {name} | {m['accuracy']:.3f} | {m['balanced_accuracy']:.3f} | {m['overturn_precision']:.3f} "
                        f"| {m['overturn_recall']:.3f} | {m['brier']:.3f} | {m['auc']:.3f} |")
        e, g = q["systems"]["engine (rules)"], q["guideline_match"]
        rows += ["", f"clear: {e['clear_items']} items ({e['clear_coverage']:.3f}), agreement {e['clear_agreement']:.3f}; "
                     f"guideline match {g['share']:.3f} of {g['items_counted']}; decision/criteria disagreements "
                     f"{q['decision_criteria_disagreements']}.", ""]
    return rows


def run() -> str:
    """The engine section of docs/benchmarks.md (single core for the speed figures)."""
    import openimr

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        pass
    paths = sorted(LETTERS.glob("*.pdf"))
    letters = [(p.stem, openimr.read_letter(p)) for p in paths]
    out = ["## Determination engine", "", "Speed on one core, cases of 10 items from the real letters:", "",
           "| measure | value |", "|---|---|", *_speed(letters), "",
           "Fact extraction on the labelled mentions (tests/engine/data/fact_mentions*.jsonl):", "",
           *_facts(), "", "Evaluation on the real letters:", "", *_evaluation(paths)]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(run())
