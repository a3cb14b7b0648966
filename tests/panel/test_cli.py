"""Panel and assignment through the CLI on SQLite and PostgreSQL; names stay confidential."""

from __future__ import annotations

import json


def setup_case(cli, write_json, app_data, panel_data, db_url) -> str:
    assert cli("panel", "add", write_json(panel_data), "--db", db_url).exit_code == 0
    return cli("case", "new", write_json(app_data), "--db", db_url).stdout.split(":")[0]


def test_add_list_match_assign(cli, write_json, app_data, panel_data, db_url):
    number = setup_case(cli, write_json, app_data, panel_data, db_url)
    listed = cli("panel", "list", "--db", db_url, "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == sorted(r["id"] for r in panel_data)
    assert not any(r["name"] in listed.stdout for r in panel_data)
    admin = cli("panel", "list", "--db", db_url, "--json", "--show-names")
    assert "Dr. Omar Haddad" in admin.stdout

    matched = json.loads(cli("panel", "match", number, "--db", db_url, "--json", "--on", "2026-03-15").stdout)
    assert matched["eligible"][0]["reviewer"] == "R-PMR-02"
    assert {e["reviewer"] for e in matched["excluded"]} == {"R-ORTHO-03", "R-DC-04", "R-NEW-05"}

    assigned = cli("case", "assign", number, "--db", db_url, "--json", "--on", "2026-03-15")
    assert assigned.exit_code == 0, assigned.stderr
    result = json.loads(assigned.stdout)
    assert result["reviewer"] == "R-PMR-02"
    assert result["ranking"] == matched["ranking"]["text"] and result["ranking"].startswith("R-PMR-02 ranks first: ")
    assert result["credentials"]["licensure"] == ["California"]
    assert "Haddad" not in assigned.stdout
    shown = cli("case", "show", number, "--db", db_url)
    assert json.loads(shown.stdout)["reviewer_id"] == "R-PMR-02" and "Haddad" not in shown.stdout
    from openimr.cases import store

    kept = store.run(db_url, lambda s: json.loads(store.get(s, number).assignment)["why"])
    assert kept[-1] == result["ranking"]  # kept with the assignment
    again = cli("case", "assign", number, "--db", db_url)
    assert again.exit_code == 1 and "status assigned" in again.stderr
    history = json.loads(cli("audit", "show", number, "--db", db_url, "--json").stdout)
    assert [e["action"] for e in history] == ["create", "assign"]
    assert history[1]["before"]["reviewer_id"] is None and history[1]["after"]["reviewer_id"] == "R-PMR-02"
    reviewer_log = cli("audit", "show", "R-PMR-02", "--db", db_url, "--json").stdout
    assert json.loads(reviewer_log)[0]["action"] == "add" and "Haddad" not in reviewer_log


def test_assign_explains_why_none(cli, write_json, app_data, panel_data, db_url):
    app_data["ur_decision"]["items"][0]["request"] = "Dental implant"
    number = setup_case(cli, write_json, app_data, panel_data, db_url)
    result = cli("case", "assign", number, "--db", db_url)
    assert result.exit_code == 1
    assert "no eligible reviewer" in result.stderr and "specialty 5" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_match_application_file_with_reviewers_file(cli, write_json, app_data, panel_data, tmp_path):
    result = cli("panel", "match", write_json(app_data), "--reviewers", write_json(panel_data), "--json",
                 "--db", f"sqlite:///{tmp_path / 'unused.sqlite'}")
    data = json.loads(result.stdout)
    assert set(data) == {"eligible", "excluded", "ranking"}
    entry = data["eligible"][0]
    assert set(entry) >= {"reviewer", "score", "why", "checks"}
    assert data["ranking"]["reviewer"] == entry["reviewer"] and data["ranking"]["second"] == data["eligible"][1]["reviewer"]
    plain = cli("panel", "match", write_json(app_data), "--reviewers", write_json(panel_data),
                "--db", f"sqlite:///{tmp_path / 'unused.sqlite'}").stdout
    assert data["ranking"]["text"] in plain
    for excluded in data["excluded"]:
        assert all(set(r) == {"code", "message"} for r in excluded["reasons"])


def test_bad_reviewer_file_stores_nothing(cli, write_json, panel_data, db_url):
    panel_data[1]["hours_per_week"] = "lots"
    result = cli("panel", "add", write_json(panel_data), "--db", db_url)
    assert result.exit_code == 1 and "[1].hours_per_week" in result.stderr
    assert json.loads(cli("panel", "list", "--db", db_url, "--json").stdout) == []
