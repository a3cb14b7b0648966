"""`openimr casefile synth`: sample case files with their truth, readable by `casefile index`."""

from __future__ import annotations

import json


def test_synth_writes_case_files_that_index_reads_as_their_truth(cli, tmp_path, letter_pdfs):
    out = tmp_path / "samples"
    result = cli("casefile", "synth", "--out", str(out), "--count", "1", "--scanned", "0",
                 "--source", str(letter_pdfs[0].parent))
    assert result.exit_code == 0, result.output
    [pdf] = sorted(out.glob("*.pdf"))
    truth = json.loads(pdf.with_suffix(".truth.json").read_text())
    assert truth["file"] == pdf.name and truth["pages"] >= 3
    # --scanned 0: only the faxed copy is an image
    assert [d["scanned"] for d in truth["documents"]] == [d["faxed"] for d in truth["documents"]]
    indexed = cli("casefile", "index", str(pdf), "--json")
    assert indexed.exit_code == 0, indexed.output
    found = json.loads(indexed.stdout.splitlines()[0])
    assert found["pages"] == truth["pages"]
    want = [(d["type"], d["first_page"], d["last_page"]) for d in truth["documents"]]
    got = [(d["type"], d["first_page"], d["last_page"]) for d in found["documents"]]
    assert got == want


def test_synth_refuses_a_source_that_is_no_folder_and_bounds_the_count(cli, tmp_path):
    result = cli("casefile", "synth", "--out", str(tmp_path / "x"), "--source", str(tmp_path / "nope"))
    assert result.exit_code == 1 and "--source:" in result.output and "not a folder" in result.output
    assert not (tmp_path / "x").exists()
    too_many = cli("casefile", "synth", "--out", str(tmp_path / "x"), "--count", "201")
    assert too_many.exit_code != 0 and "--count" in too_many.output
