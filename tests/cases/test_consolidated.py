"""A consolidated case is matched and redacted with every joined application."""

from __future__ import annotations

import json
from pathlib import Path

REVIEWERS = json.loads((Path(__file__).parents[1] / "panel" / "data" / "reviewers.json").read_text())


def test_joined_items_and_parties_count(cli, write_json, app_data, db_url):
    first = cli("case", "new", write_json(app_data), "--db", db_url).stdout.split(":")[0]
    app_data["ur_decision"]["items"][0]["request"] = "Chiropractic manipulation x 6"
    app_data["attorney"] = {"name": "Reyna Castellanos", "firm": "Castellanos Injury Law"}
    second = cli("case", "new", write_json(app_data), "--db", db_url).stdout.split(":")[0]
    assert cli("panel", "add", write_json(REVIEWERS), "--db", db_url).exit_code == 0
    before = json.loads(cli("panel", "match", first, "--db", db_url, "--json", "--on", "2026-03-15").stdout)
    assert before["eligible"]
    assert cli("case", "consolidate", first, second, "--db", db_url).exit_code == 0
    after = json.loads(cli("panel", "match", first, "--db", db_url, "--json", "--on", "2026-03-15").stdout)
    assert after["eligible"] == []  # nobody on the sample panel fits both imaging and chiropractic
    result = cli("case", "assign", first, "--db", db_url)
    assert result.exit_code == 1 and "specialty" in result.stderr

    letter = {
        "layout": "L2016",
        "clinical_case_summary": "Counsel Reyna Castellanos of Castellanos Injury Law appealed for Maria Gonzalez.",
        "items": [{"request": "MRI of the lumbar spine", "decision": "Upheld", "medically_necessary": False,
                   "rationale": "Mr. Castellanos argued; Gonzalez had no red flags."}],
    }
    out = cli("case", "publish", first, "--letter", write_json(letter), "--db", db_url)
    assert out.exit_code == 0, out.stderr
    published = json.loads(out.stdout)
    text = json.dumps(published)
    assert "Castellanos" not in text and "Gonzalez" not in text and "Maria" not in text
    assert published["case_number"] == first
    assert "had no red flags" in published["items"][0]["rationale"]
