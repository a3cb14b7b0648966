"""`openimr render`: JSON or JSON Lines in, a letter file out; bad input is one line, exit 1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from openimr.cli import app
from openimr.letters.read import parse_text, read_letter
from openimr.letters.write import DRAFT_BANNER
from openimr.letters.write.samples import RandomChooser, sample_letter


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture
def letters():
    return [sample_letter(RandomChooser(seed), layout) for seed, layout in ((1, "L2016"), (2, "L2015"))]


@pytest.fixture
def json_file(tmp_path, letters):
    path = tmp_path / "letter.json"
    path.write_text(letters[0].model_dump_json(indent=2), encoding="utf-8")
    return path


@pytest.fixture
def jsonl_file(tmp_path, letters):
    path = tmp_path / "letters.jsonl"
    path.write_text("".join(letter.model_dump_json() + "\n" for letter in letters), encoding="utf-8")
    return path


def test_render_pdf_to_file(runner, json_file, letters, tmp_path):
    out = tmp_path / "out" / "letter.pdf"
    result = runner.invoke(app, ["render", str(json_file), "--format", "pdf", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:5] == b"%PDF-"
    assert read_letter(data).model_dump() == letters[0].model_dump()


def test_render_second_jsonl_letter_as_text_in_another_layout_as_draft(runner, jsonl_file, letters, tmp_path):
    out = tmp_path / "letter.txt"
    args = ["render", str(jsonl_file), "--index", "2", "--layout", "L-professional", "--draft", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith(DRAFT_BANNER) and "MEDICAL PROFESSIONAL REVIEW" in text
    again = parse_text(text)
    assert again.layout == "L-professional"
    assert again.items == letters[1].items


def test_render_html_to_stdout(runner, json_file, letters):
    result = runner.invoke(app, ["render", str(json_file), "--format", "html"])
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>") and letters[0].case_number in result.stdout


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "no such file"),
        ("", "empty file"),
        ("{not json", "not JSON"),
        ('{"layout": "L1999"}', "field layout"),
        ('{"layout": "L2016", "items": [{"request": "x", "decision": "Upheld", "medically_necessary": true}]}', "items.0"),
        ('{"layout": "L2016", "reviewer_name": "Dr X"}', "reviewer_name"),
    ],
)
def test_bad_input_is_one_line_naming_the_file(runner, tmp_path, content, reason):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "never.pdf"
    result = runner.invoke(app, ["render", str(path), "--format", "pdf", "-o", str(out)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and reason in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_line_of_jsonl_is_named(runner, tmp_path, letters):
    path = tmp_path / "letters.jsonl"
    path.write_text(letters[0].model_dump_json() + "\n" + "{oops\n", encoding="utf-8")
    result = runner.invoke(app, ["render", str(path)])
    assert result.exit_code == 1 and f"{path} line 2: not JSON" in result.stderr


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--index", "3"], "no letter number 3 (the file holds 2)"),
        (["--format", "docx"], "--format: 'docx'"),
        (["--layout", "L1999"], "--layout: 'L1999'"),
    ],
)
def test_bad_options(runner, jsonl_file, args, reason):
    result = runner.invoke(app, ["render", str(jsonl_file), *args])
    assert result.exit_code == 1 and reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_output_is_one_line(runner, json_file, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["render", str(json_file), "-o", str(blocker / "sub" / "letter.txt")])
    assert result.exit_code == 1 and "cannot write" in result.stderr


def test_help_has_an_example(runner):
    result = runner.invoke(app, ["render", "--help"])
    assert result.exit_code == 0 and "Example: openimr" in result.output


def test_a_json_array_of_letters_works_too(runner, tmp_path, letters):
    path = tmp_path / "letters.json"
    path.write_text(json.dumps([json.loads(one.model_dump_json()) for one in letters]), encoding="utf-8")
    result = runner.invoke(app, ["render", str(path), "--index", "2"])
    assert result.exit_code == 0 and "MAXIMUS FEDERAL SERVICES, INC." in result.stdout
