"""Bad input: one line naming the file and the reason, the other files still read, exit 1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from openimr.cli import app
from openimr.letters.read import LetterError, parse_text, read_letter
from openimr.letters.read.source import letter_text
from tests.conftest import LETTERS_DIR

GOOD = LETTERS_DIR / "CM16-0219557.pdf"


@pytest.fixture
def bad_files(tmp_path):
    pdf = GOOD.read_bytes()
    files = {
        "not_a_letter.txt": (b"Dear customer, your order has shipped.\n", "not an IMR Final Determination letter"),
        "truncated.pdf": (pdf[:2000], "unreadable PDF"),
        "random.bin": (bytes(range(256)) * 20, "binary data"),
        "empty.txt": (b"   \n", "empty file"),
    }
    _, text = letter_text(GOOD)
    cut = text[: text.index("IMR ISSUES")]
    files["no_decisions.txt"] = (cut.encode(), "no decisions found")
    paths = {}
    for name, (data, reason) in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths[path] = reason
    return paths


def test_each_bad_file_gets_one_line_and_the_good_one_is_still_read(bad_files, tmp_path):
    missing = tmp_path / "missing.pdf"
    args = ["parse", str(GOOD), *map(str, bad_files), str(missing)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    letters = [json.loads(line) for line in result.stdout.splitlines()]
    assert [letter["case_number"] for letter in letters] == ["CM16-0219557"]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(bad_files) + 1
    for path, reason in bad_files.items():
        [line] = [e for e in errors if str(path) in e]
        assert reason in line, line
    assert any(str(missing) in e and "no such file" in e for e in errors)
    assert "Traceback" not in result.output


def test_all_good_exits_zero_and_out_folder(tmp_path):
    result = CliRunner().invoke(app, ["parse", str(GOOD), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "out" / "CM16-0219557.json").read_text())
    assert written["items"][0]["decision"] == "Upheld"


def test_a_folder_is_read_recursively(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.pdf").write_bytes(GOOD.read_bytes())
    result = CliRunner().invoke(app, ["parse", str(tmp_path)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["case_number"] == "CM16-0219557"


def test_python_api_raises_letter_error_with_the_name():
    with pytest.raises(LetterError) as caught:
        parse_text("IMR ISSUES, DECISIONS AND RATIONALES\nnothing here", "x.txt")
    assert str(caught.value).startswith("x.txt: no decisions found")
    with pytest.raises(LetterError, match="no such file"):
        read_letter("/nonexistent/letter.pdf")


def test_an_item_missing_its_rationale_is_named():
    _, text = letter_text(GOOD)
    broken = text.replace("Decision rationale:", "Decision reasons:")
    with pytest.raises(LetterError, match="item 1 has no Decision rationale line"):
        parse_text(broken, "broken.txt")
