"""Redaction measured: identifiers planted in every written form into real letters, none left
after redaction, and the clinical text kept (the full run over all 129 letters is
bench/bench_redaction.py; this runs a spread of them)."""

from __future__ import annotations

import json

import pytest

from bench.redaction_plant import as_text, make_case, measure, plant, survivors


@pytest.fixture(scope="module")
def real_letters(letter_pdfs):
    import openimr

    return [(pdf.name, openimr.read_letter(pdf)) for pdf in letter_pdfs]


def test_no_planted_identifier_survives_and_the_clinical_text_is_kept(real_letters):
    subset = real_letters[::8]  # 17 letters across the years and layouts
    assert {letter.layout for _, letter in subset} == {letter.layout for _, letter in real_letters}
    result = measure(subset)
    assert result.letters == len(subset) and result.planted >= 30 * len(subset)
    assert result.not_planted == [], "planting failed: the check would prove nothing"
    assert result.unchecked == []
    assert result.survived == [], result.survived[:10]
    assert result.kept_ratio >= 0.999, f"clinical text kept {result.kept_ratio:.5f}"


def test_every_kind_of_identifier_is_planted():
    kinds = {kind for kind, _ in make_case(0).forms}
    assert kinds >= {"name", "reviewer", "user", "date_of_birth", "ssn", "medical_record", "account", "claim",
                     "adj", "policy", "phone", "email", "street", "city", "organization"}


def test_published_letter_keeps_no_planted_identifier(cli, write_json, db_url, real_letters, tmp_path):
    """The whole way: a case, its panel reviewer and a workbench user named as planted, the
    letter published by `openimr case publish`."""
    from openimr import db as dbmod
    from openimr.web import auth

    name, letter = real_letters[40]
    planted = make_case(40)
    dbmod.migrate(db_url)
    with dbmod.session_scope(db_url) as session:
        auth.create_user(session, "clerk", "long enough password", "intake", planted.people[0])
    number = cli("case", "new", write_json(planted.application), "--db", db_url).stdout.split(":")[0]
    reviewer = {"id": "R-1", "name": planted.reviewer, "profession": "MD",
                "licenses": [{"state": "CA", "unrestricted": True}],
                "board_certifications": [{"board": "ABA", "specialty": "Pain Medicine", "current": True}],
                "years_active_practice": 12, "hours_per_week": 30}
    assert cli("panel", "add", write_json(reviewer), "--db", db_url).exit_code == 0
    assert cli("case", "assign", number, "--db", db_url, "--on", "2016-11-20").exit_code == 0
    letter_file = write_json(json.loads(plant(letter, planted).model_dump_json()), "letter.json")
    out = tmp_path / "published.txt"
    result = cli("case", "publish", number, "--letter", letter_file, "--format", "text", "--out", out, "--db", db_url)
    assert result.exit_code == 0, result.stderr
    assert survivors(out.read_text(), planted, as_text(letter)) == []
    assert letter.items[0].request.split()[0] in out.read_text()
