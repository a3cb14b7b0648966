"""Scoring of the fact extractor against the labelled fact mentions (shared by test and bench)."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "fact_mentions.jsonl"
DEV2 = Path(__file__).parent / "data" / "fact_mentions_dev2.jsonl"
HELDOUT = Path(__file__).parent / "data" / "fact_mentions_heldout.jsonl"


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


def score(extract_text, path: Path = DATA) -> dict:
    """Precision and recall (fact + overlapping span + same negation), and negation accuracy,
    over the facts the labelled sets cover."""
    tp = fp = fn = 0
    neg_ok = neg_n = 0
    rows = load_gold(path)
    scored = labelled_facts()
    for row in rows:
        gold = _gold_spans(row)
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
        "gold_mentions": sum(len(r["mentions"]) for r in rows),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "negation_accuracy": neg_ok / neg_n if neg_n else 0.0,
    }
