"""`openimr decide` and `openimr evaluate` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from openimr.cli import app

runner = CliRunner()


def _write_case(tmp_path, case, name="case.json"):
    path = tmp_path / name
    path.write_text(case.model_dump_json())
    return path


def test_decide_two_cases_json_lines(nlp_loaded, tmp_path, letters, case_of):
    p1 = _write_case(tmp_path, case_of(letters[0][0]), "a.json")
    p2 = _write_case(tmp_path, case_of(letters[1][0]), "b.json")
    res = runner.invoke(app, ["decide", str(p1), str(p2)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    assert [d["case_number"] for d in lines] == [letters[0][1].case_number, letters[1][1].case_number]
    assert len(lines[0]["items"]) == len(letters[0][1].items)
    assert all("DRAFT" in d["notice"] for d in lines)


def test_decide_bad_input_one_line_exit_1(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = runner.invoke(app, ["decide", str(bad)])
    assert res.exit_code == 1 and "bad.json" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"case_number": "X", "documents": [], "disputed_items": [{"ur_guideline": ""}]}))
    res = runner.invoke(app, ["decide", str(missing)])
    assert res.exit_code == 1 and "disputed_items.0.request" in res.output
    res = runner.invoke(app, ["decide", str(tmp_path / "nope.json")])
    assert res.exit_code == 1 and "nope.json" in res.output


def test_decide_refuses_a_case_over_the_engine_bounds_in_one_line(tmp_path):
    from openimr.bounds import MAX_CASE_TEXT, MAX_ITEMS

    big = tmp_path / "big.json"
    docs = [{"kind": "medical_record", "text": "Lumbar tenderness. " * 20_000} for _ in range(2)]  # 760,000 characters
    big.write_text(json.dumps({"documents": docs, "disputed_items": [{"request": "MRI lumbar spine"}]}))
    res = runner.invoke(app, ["decide", str(big)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.strip() == (f"error: {big}: documents: 760,000 characters of text, over the engine's limit of "
                                  f"{MAX_CASE_TEXT:,} for one draft (give the clinical summary and the records it rests on)")
    many = tmp_path / "many.json"
    many.write_text(json.dumps({"disputed_items": [{"request": f"Item {i}"} for i in range(MAX_ITEMS + 1)]}))
    res = runner.invoke(app, ["decide", str(many)])
    assert res.exit_code == 1 and "disputed_items" in res.output and len(res.output.strip().splitlines()) == 1


def test_a_long_record_is_read_in_pieces_with_every_mention_at_its_place(nlp_loaded):
    from openimr.engine import facts

    filler = "The worker attended a follow-up visit and reported the same symptoms. " * 600  # over 40,000 characters
    text = filler + "On examination straight leg raise is positive on the left. " + filler + "There is no weakness."
    assert len(facts._pieces(text)) >= 3
    found = facts.extract_text(text)
    assert all(text[m.start:m.end] == m.text for m in found)
    slr = [m for m in found if m.fact == "neuro_deficit" and "straight leg" in m.text.lower()]
    assert len(slr) == 1 and not slr[0].negated and slr[0].section == "exam"
    weak = [m for m in found if m.fact == "neuro_deficit" and m.text.lower() == "weakness"]
    assert len(weak) == 1 and weak[0].negated


def test_decide_drafts_the_letter_marked_draft(nlp_loaded, tmp_path, letters, case_of):
    p = _write_case(tmp_path, case_of(letters[0][0]))
    out = tmp_path / "draft.txt"
    res = runner.invoke(app, ["decide", str(p), "--letter", str(out), "--format", "text"])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "DRAFT" in text
    assert letters[0][1].items[0].request.split()[0] in text
    assert not (tmp_path / "draft.txt.part").exists()


def test_decide_help_has_example():
    res = runner.invoke(app, ["decide", "--help"])
    assert res.exit_code == 0 and "Example: openimr decide" in res.output
    res = runner.invoke(app, ["evaluate", "--help"])
    assert res.exit_code == 0 and "Example: openimr evaluate" in res.output


def test_evaluate_reports_engine_and_baselines(nlp_loaded, letter_pdfs, tmp_path):
    table = tmp_path / "calibration.json"
    res = runner.invoke(app, ["evaluate", *map(str, letter_pdfs[:24]), "--folds", "3", "--json",
                              "--save-calibration", str(table)])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["letters"] == 24 and report["folds"] == 3
    systems = report["all"]["systems"]
    assert set(systems) == {"engine (rules)", "always Upheld", "category overturn rate", "TF-IDF + logistic regression"}
    up = systems["always Upheld"]
    assert up["overturn_recall"] == 0 and up["balanced_accuracy"] == 0.5
    assert abs(up["accuracy"] - (1 - report["overturned"] / report["items"])) < 1e-9
    for m in systems.values():
        assert 0 <= m["brier"] <= 1
    engine = systems["engine (rules)"]
    assert 0 <= engine["clear_coverage"] <= 1 and engine["clear_items"] <= report["items"]
    assert report["all"]["decision_criteria_disagreements"] == 0
    assert 0 <= report["all"]["guideline_match"]["share"] <= 1
    assert report["all"]["items"] == report["holdout"]["items"] + report["development"]["items"]
    assert "imaging" in report["per_category"] and len(report["all"]["ci95"]["accuracy"]) == 2
    for part in ("all", "holdout"):  # intervals for the engine and the always-Upheld baseline, letters resampled
        for name in ("engine (rules)", "always Upheld"):
            m = report[part]["systems"][name]
            lo, hi = m["ci95"]["accuracy"]
            assert 0 <= lo <= m["accuracy"] <= hi <= 1
    assert report["all"]["systems"]["always Upheld"]["ci95"]["balanced_accuracy"] == [0.5, 0.5]
    errors = sum(1 for e in report["errors"])
    assert errors == round(report["items"] * (1 - engine["accuracy"]))
    saved = json.loads(table.read_text())
    assert sum(n for n, _o in saved["outcomes"].values()) == report["items"]
    assert sum(o for _n, o in saved["families"].values()) == report["overturned"]


def test_evaluate_bad_file(tmp_path):
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"not a pdf")
    res = runner.invoke(app, ["evaluate", str(bad), "--folds", "2"])
    assert res.exit_code == 1 and "x.pdf" in res.output and "Traceback" not in res.output


def test_decide_with_library_db_adds_precedents(nlp_loaded, tmp_path_factory, letter_pdfs, letters, case_of):
    from openimr.library.ingest import ingest

    url = f"sqlite:///{tmp_path_factory.mktemp('lib') / 'library.sqlite'}"
    summary = ingest(letter_pdfs[:30], url, workers=1)
    assert summary.added == 30
    from openimr.library.classify import classify

    held = {classify(item.request).category for _name, letter in letters[:30] for item in letter.items}
    # a case not in the library whose requests are of categories the library holds
    name = next(n for n, letter in letters[30:] if {classify(i.request).category for i in letter.items} <= held)
    p = _write_case(tmp_path_factory.mktemp("c"), case_of(name))
    res = runner.invoke(app, ["decide", str(p), "--db", url])
    assert res.exit_code == 0, res.output
    det = json.loads(res.stdout)
    assert any(item["precedents"] for item in det["items"])
    for item in det["items"]:  # only precedents of the item's own request category
        category = classify(item["request"]).category
        assert all(classify(pr["request"]).category == category for pr in item["precedents"]), item["request"]
        assert all(pr["decision"] in ("Upheld", "Overturned") for pr in item["precedents"])
    res = runner.invoke(app, ["decide", str(p), "--db", "sqlite:////nonexistent/dir/x.sqlite"])
    assert res.exit_code == 1 and "--db" in res.output


def test_precedents_of_the_same_kind_come_first(tmp_path_factory, letter_pdfs):
    from openimr.engine.cli import precedents_for
    from openimr.engine.kb import classify_request
    from openimr.library.ingest import ingest

    url = f"sqlite:///{tmp_path_factory.mktemp('lib') / 'library.sqlite'}"
    assert ingest(letter_pdfs, url, workers=1).added == len(letter_pdfs)
    # the library holds chronic opioids and a post-operative Norco: a chronic request gets chronic ones
    from openimr.db import session_scope

    with session_scope(url) as session:
        found = precedents_for(session, "Norco 10/325mg #90", limit=3)
        post = precedents_for(session, "Post-op Norco 5/325mg #60", limit=1)
    assert len(found) == 3 and all(classify_request(p.request) == "opioid" for p in found), found
    assert classify_request(post[0].request) == "opioid_postop", post
