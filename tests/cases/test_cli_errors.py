"""Bad input on the command line: one line naming the file or field, exit 1, no traceback."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "args, expected",
    [
        (["case", "new", "missing.json"], "missing.json: file not found"),
        (["case", "show", "CM26-9999999"], "CM26-9999999: no such case"),
        (["case", "assign", "CM26-9999999"], "no such case"),
        (["case", "list", "--due-before", "next week"], "--due-before"),
        (["case", "late", "--as-of", "2026-02-30"], "--as-of"),
        (["case", "event", "CM26-9999999", "lunch", "2026-03-01"], "event kind 'lunch'"),
        (["case", "publish", "CM26-9999999", "--format", "pdf"], "--out"),
        (["case", "withdraw", "CM26-9999999", "--reason", "withdrawn"], "CM26-9999999: no such case"),
        (["case", "appeal", "CM26-9999999", "--reason", "x"], "reason: say why"),
        (["case", "qa", "approve", "CM26-9999999"], "CM26-9999999: no such case"),
        (["case", "qa", "return", "CM26-9999999", "--reason", "x"], "reason: say why"),
        (["case", "note", "CM26-9999999", "a note"], "CM26-9999999: no such case"),
        (["case", "notes", "CM26-9999999"], "CM26-9999999: no such case"),
        (["panel", "match", "CM26-9999999"], "no such case"),
        (["panel", "add", "nowhere.json"], "nowhere.json: file not found"),
    ],
)
def test_one_line_errors(cli, sqlite_url, tmp_path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    result = cli(*args, "--db", sqlite_url)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_unreachable_database_is_one_line(cli, app_data, write_json):
    result = cli("case", "new", write_json(app_data), "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 1 and result.stderr.startswith("database:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_every_command_has_help_with_an_example(cli):
    for group, commands in {
        "case": ["new", "check", "list", "show", "event", "late", "assign", "consolidate", "publish", "withdraw",
                 "terminate", "appeal", "note", "notes"],
        "case qa": ["approve", "return"],
        "panel": ["add", "list", "match"],
        "audit": ["verify", "show"],
    }.items():
        for command in commands:
            result = cli(*group.split(), command, "--help")
            assert result.exit_code == 0 and "Example: openimr" in result.stdout, (group, command)
