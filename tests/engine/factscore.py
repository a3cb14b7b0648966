"""Scoring of the fact extractor against the labelled fact mentions (shared by test and bench)."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "fact_mentions.jsonl"
DEV2 = Path(__file__).parent / "data" / "fact_mentions_dev2.jsonl"
HELDOUT = Path(__file__).parent / "data" / "fact_mentions_heldout.jsonl"
# the facts of rounds 7-8, labelled on their own set and scored only there (the three sets above
# were not labelled for them)
ROUND8 = Path(__file__).parent / "data" / "fact_mentions_round8.jsonl"
ROUND8_FACTS = ("chronic_pain_stated", "imaging_finding", "long_term_drug_use", "reported_benefit",
                "pain_relief_with_medication", "functional_improvement")


def load_gold(path: Path = DATA) -> list[dict]:
    """Labelled sentences: {letter, text, mentions: [{fact, text, negated}]}."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if "text" in r]


def _gold_spans(row: dict) -> list[tuple[str, int, int, bool]]:
    out, used = [], set()
    for m in row["mentions"]:
        start = row["text"].find(m["text"])
        while (m["fact"], start) in used and start >= 0:
            start = row["text"].find(m["text"], start + 1)
        used.add((m["fact"], start))
        out.append((m["fact"], start, start + len(m["text"]), m["negated"]))
    return out


def labelled_facts() -> set[str]:
    """The facts the labelled sets were labelled for (facts added later, e.g. the rules' block
    at the end of facts.yaml, have no labels yet and are not scored)."""
    return {m["fact"] for p in (DATA, DEV2, HELDOUT) if p.exists() for r in load_gold(p) for m in r["mentions"]}


def score(extract_text, path: Path = DATA, facts: tuple[str, ...] | None = None) -> dict:
    """Precision and recall (fact + overlapping span + same negation), and negation accuracy,
    over the facts the labelled sets cover (or only `facts`)."""
    tp = fp = fn = 0
    neg_ok = neg_n = 0
    rows = load_gold(path)
    scored = set(facts) if facts else labelled_facts()
    for row in rows:
        gold = [g for g in _gold_spans(row) if g[0] in scored]
        pred = [(m.fact, m.start, m.end, m.negated) for m in extract_text(row["text"]) if m.fact in scored]
        matched: set[int] = set()
        for f, s, e, n in pred:
            hit = next((i for i, g in enumerate(gold) if i not in matched and g[0] == f and g[1] < e and s < g[2]), None)
            if hit is None:
                fp += 1
                continue
            matched.add(hit)
            neg_n += 1
            if gold[hit][3] == n:
                tp += 1
                neg_ok += 1
            else:
                fp += 1
                fn += 1
        fn += len(gold) - len(matched)
    return {
        "gold_mentions": sum(1 for r in rows for m in r["mentions"] if m["fact"] in scored),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "negation_accuracy": neg_ok / neg_n if neg_n else 0.0,
    }


SECTIONS_DEV = Path(__file__).parent / "data" / "fact_sections_dev.jsonl"
SECTIONS_HELDOUT = Path(__file__).parent / "data" / "fact_sections_heldout.jsonl"
SECTION_FACTS = {"neuro_deficit", "normal_neuro_exam", "mechanical_symptoms", "trigger_points", "muscle_spasm", "red_flag",
                 "prior_imaging"}


def score_sections(path: Path) -> dict:
    """On whole summaries: mention precision/recall for the regional and objective facts; of the
    matched mentions, section accuracy and region accuracy (same region or one that counts for
    it); and precision/recall of the mentions that COUNT for the letter's request (for_criteria:
    not UR's reasoning, objective findings only from the examination, bound to the request's
    region) against the same rule applied to the labels."""
    from openimr.engine import facts
    from openimr.engine.kb import default_kb

    kb = default_kb()
    rows = load_gold(path)
    tp = fp = fn = 0
    sec_ok = reg_ok = matched_n = 0
    ctp = cfp = cfn = 0
    for row in rows:
        text, want_region = row["text"], row.get("request_region")
        gold = [dict(g, end=g["start"] + len(g["text"])) for g in row["mentions"]]
        pred = [m for m in facts.extract_text(text) if m.fact in SECTION_FACTS]
        kept = {id(m) for m in facts.for_criteria(pred, region=want_region, kb=kb)}
        used: set[int] = set()
        pairs = []
        for m in pred:
            hit = next((i for i, g in enumerate(gold) if i not in used and g["fact"] == m.fact
                        and g["start"] < m.end and m.start < g["end"]), None)
            if hit is None or gold[hit]["negated"] != m.negated:
                fp += 1
                if hit is not None:
                    used.add(hit)
                    fn += 1
                pairs.append((m, None))
                continue
            used.add(hit)
            tp += 1
            pairs.append((m, gold[hit]))
            matched_n += 1
            sec_ok += m.section == gold[hit]["section"]
            g_reg = gold[hit]["region"]
            reg_ok += (m.region == g_reg) or (m.region is not None and g_reg is not None and facts.region_counts(m.region, g_reg))
        fn += len(gold) - len(used)

        def gold_counts(g, want_region=want_region):
            spec = kb.facts[g["fact"]]
            if g["section"] == "ur" or (spec.objective and g["section"] != "exam"):
                return False
            return not (want_region and spec.regional and g["region"]
                        and not facts.region_counts(g["region"], want_region, spec.neural))

        counted_gold = {i for i, g in enumerate(gold) if gold_counts(g)}
        counted_pred_matched = set()
        for m, g in pairs:
            if id(m) not in kept:
                continue
            if g is not None and gold.index(g) in counted_gold:
                ctp += 1
                counted_pred_matched.add(gold.index(g))
            else:
                cfp += 1
        cfn += len(counted_gold - counted_pred_matched)
    return {
        "summaries": len(rows),
        "gold_mentions": sum(len(r["mentions"]) for r in rows),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "section_accuracy": sec_ok / matched_n if matched_n else 0.0,
        "region_accuracy": reg_ok / matched_n if matched_n else 0.0,
        "counted_precision": ctp / (ctp + cfp) if ctp + cfp else 0.0,
        "counted_recall": ctp / (ctp + cfn) if ctp + cfn else 0.0,
    }


def score_per_fact(extract_text, path: Path = ROUND8, facts: tuple[str, ...] = ROUND8_FACTS) -> dict[str, dict]:
    """`score` for each fact alone."""
    return {f: score(extract_text, path, (f,)) for f in facts}
