"""Guideline scenarios: short cases written from what the guidelines say (../shared/docs/imr-facts.md
and the knowledge base's own sources), never from a shared letter, each with the decision the
guideline gives. They check the rules the way a physician would, and the reading of the facts
in wordings the shared letters do not use; the engine is measured on letters it has never seen.

Each file of tests/engine/scenarios/ is a YAML list of scenarios:

    - id: acupuncture-first-trial          # unique over all files
      source: "imr-facts.md 5.8"           # where the guideline fact is stated
      why: "a first trial of 3-6 treatments is what the guideline allows"   # own words
      summary: "..."                       # the clinical case summary
      request: "Acupuncture x 6 for the low back"
      weeks: 60                            # optional: weeks from injury to the UR decision
      injury: 2015-01-05                   # optional
      expect: Overturned                   # Upheld | Overturned
      entry: ac_acupuncture                # optional: the knowledge-base entry that decides
      rule: initial_trial                  # optional: the entry's rule (or form rule) that decides
      category: acupuncture                # optional: the request category read
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.support.engine_case import decide_one

HERE = Path(__file__).parent / "scenarios"
FIELDS = {"id", "source", "why", "summary", "request", "weeks", "injury", "expect", "entry", "rule", "category"}
REQUIRED = {"id", "source", "why", "summary", "request", "expect"}


def _load() -> list[dict]:
    out: list[dict] = []
    for path in sorted(HERE.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            out.append({**raw, "_file": path.name})
    return out


SCENARIOS = _load()


def test_the_scenario_files_are_well_formed():
    ids = [s["id"] for s in SCENARIOS]
    assert len(ids) == len(set(ids)), "scenario ids repeat"
    for s in SCENARIOS:
        keys = set(s) - {"_file"}
        assert REQUIRED <= keys, f"{s['_file']}: {s.get('id')}: missing {sorted(REQUIRED - keys)}"
        assert keys <= FIELDS, f"{s['_file']}: {s['id']}: unknown {sorted(keys - FIELDS)}"
        assert s["expect"] in ("Upheld", "Overturned"), f"{s['id']}: expect"


def test_the_scenarios_cover_both_outcomes():
    outcomes = {s["expect"] for s in SCENARIOS}
    assert outcomes == {"Upheld", "Overturned"} or not SCENARIOS


@pytest.mark.parametrize("s", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_scenario(s, nlp_loaded):
    injury = s.get("injury") or date(2015, 1, 5)
    item = decide_one(s["summary"], s["request"], weeks=s.get("weeks", 60), injury=injury)
    where = f"{s['_file']}: {s['id']}: drafted {item.decision} by {item.rule}"
    if "category" in s:
        assert item.category == s["category"], where
    if "entry" in s:
        assert item.kb_entry == s["entry"], where
    if "rule" in s:
        assert item.rule is not None and item.rule.split(":")[-1] == s["rule"], where
    assert item.decision == s["expect"], where
