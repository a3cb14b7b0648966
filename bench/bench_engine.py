"""Determination engine figures: the rule engine on the 129 real letters (outcome hidden) beside
the always-Upheld baseline measured in the same run, on all letters and on the held-out split;
fact extraction on the labelled mentions; and the time to draft a case of 10 items on one core.

The evaluation is `openimr.engine.evaluate.evaluate` itself (the one evaluation: the same
folds, calibration out-of-fold, intervals by resampling letters); this module only formats it
and times `decide_case`.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LETTERS = ROOT.parent / "shared" / "data" / "letters"
SYSTEMS = ("engine (rules)", "always Upheld")
ITEMS_PER_CASE = 10


def _pin_one_core() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        pass


def _cases_of_ten(letters):
    """One case per letter, its requests repeated to ten items (the letter's own requests)."""
    from openimr.engine.evaluate import case_from_letter

    cases = []
    for name, letter in letters:
        case = case_from_letter(letter, name)
        items = list(case.disputed_items)
        while len(items) < ITEMS_PER_CASE:
            items += case.disputed_items
        case.disputed_items = items[:ITEMS_PER_CASE]
        cases.append(case)
    return cases


def _latency(letters) -> list[str]:
    """Seconds to draft one case of 10 items (facts, rules, calibration, rationale), models loaded."""
    from openimr.engine import facts
    from openimr.engine.decide import decide_case

    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    started = time.perf_counter()
    facts.load_models()
    load = time.perf_counter() - started
    cases = _cases_of_ten(letters)
    decide_case(cases[0])  # warm the caches
    times = []
    for case in cases:
        t = time.perf_counter()
        decide_case(case)
        times.append(time.perf_counter() - t)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return [
        "| measure | value |", "|---|---|",
        f"| model loading (medspaCy pipeline, once) | {load:.2f} s |",
        f"| cases of {ITEMS_PER_CASE} items timed (one per letter) | {len(times)} |",
        f"| per case, median | {statistics.median(times):.3f} s |",
        f"| per case, 95th percentile | {p95:.3f} s |",
        f"| per case, max (goal ≤ 1 s) | {times[-1]:.3f} s |",
        f"| machine load average (1 min) when timing began | {load_average:.1f} |",
    ]


def _facts() -> list[str]:
    from openimr.engine import facts

    spec = importlib.util.spec_from_file_location("factscore", ROOT / "tests" / "engine" / "factscore.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = ["| set | mentions | precision | recall | negation accuracy |", "|---|---|---|---|---|"]
    for title, path in (("development (patterns fixed on it)", None),
                        ("second development set (patterns later fixed on it)", mod.DEV2),
                        ("held-out (labelled after patterns froze)", mod.HELDOUT)):
        s = mod.score(facts.extract_text) if path is None else mod.score(facts.extract_text, path)
        rows.append(f"| {title} | {s['gold_mentions']} | {s['precision']:.3f} | {s['recall']:.3f} | {s['negation_accuracy']:.3f} |")
    return rows


def _f(v: float | None) -> str:
    return "–" if v is None or v != v else f"{v:.3f}"


def _ci(m: dict, key: str) -> str:
    lo, hi = m.get("ci95", {}).get(key, [None, None])
    return f"{_f(m[key])} [{_f(lo)}–{_f(hi)}]" if lo is not None and lo == lo else _f(m[key])


def _part(q: dict, title: str) -> list[str]:
    rows = [f"**{title}**: {q['items']} items, {q['overturned']} overturned", "",
            "| system | accuracy [95%] | balanced accuracy [95%] | Brier | AUC | overturn precision | overturn recall |",
            "|---|---|---|---|---|---|---|"]
    for name in SYSTEMS:
        m = q["systems"][name]
        rows.append(f"| {name} | {_ci(m, 'accuracy')} | {_ci(m, 'balanced_accuracy')} | {_f(m['brier'])} | {_f(m['auc'])} "
                    f"| {_f(m['overturn_precision'])} | {_f(m['overturn_recall'])} |")
    e, g = q["systems"]["engine (rules)"], q["guideline_match"]
    rows += ["", f"Engine: `clear` {e['clear_items']} items (coverage {_f(e['clear_coverage'])}), agreement "
                 f"{_f(e['clear_agreement'])}; drafted guideline among those the reviewer cited {_f(g['share'])} "
                 f"(the one relied on first {_f(g['first'])}) of {g['items_counted']} items "
                 f"({g['items_reviewer_cited_none']} where the reviewer cited none); decision/criteria disagreements "
                 f"**{q['decision_criteria_disagreements']}**.", ""]
    return rows


def _evaluation(paths) -> list[str]:
    from openimr.engine import evaluate as ev

    r = ev.evaluate(paths, folds=5)
    rows = [f"{r['letters']} letters, {r['items']} items ({r['overturned']} overturned), outcome hidden; decisions "
            f"from the rules, calibration out-of-fold ({r['folds']}-fold grouped by letter); 95% intervals by "
            "resampling letters (1,000 draws; balanced accuracy over draws holding both outcomes).", ""]
    rows += _part(r["all"], "All letters")
    rows += _part(r["holdout"], f"Held-out split ({r['holdout_letters']} letters, not read while writing rules)")
    rows += ["Per category (engine, all letters):", "",
             "| category | items | overturned | drafted overturned | accuracy | clear (agreement) | guideline among cited |",
             "|---|---|---|---|---|---|---|"]
    for cat, c in r["per_category"].items():
        e, g = c["engine"], c["guideline_match"]
        clear = f"{e['clear_items']} ({_f(e['clear_agreement'])})" if e["clear_items"] else "0"
        rows.append(f"| {cat} | {c['n']} | {c['overturned']} | {c['drafted_overturned']} | {_f(e['accuracy'])} | {clear} "
                    f"| {_f(g['share']) if g['items_counted'] else '–'} |")
    rows += ["", f"Errors: {len(r['errors'])} items ({sum(e['holdout'] for e in r['errors'])} in the held-out split); "
                 "`openimr evaluate` lists them.", ""]
    return rows


def run() -> str:
    """The engine section of docs/benchmarks.md (pinned to one core)."""
    import openimr

    _pin_one_core()
    paths = sorted(LETTERS.glob("*.pdf"))
    letters = [(p.stem, openimr.read_letter(p)) for p in paths]
    latency = _latency(letters)  # first, so model loading is timed in a fresh process
    out = ["## Determination engine (rules)", "",
           "Evaluation on the real letters (`openimr.engine.evaluate`, the same figures as "
           "`openimr evaluate ../shared/data/letters/*.pdf --folds 5`):", "", *_evaluation(paths),
           f"Time to draft a case of {ITEMS_PER_CASE} items on one core (the letter's requests repeated to ten; "
           "facts, rules, calibration and rationale):", "", *latency, "",
           "Fact extraction on the labelled mentions (tests/engine/data/fact_mentions*.jsonl):", "", *_facts()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(run())
