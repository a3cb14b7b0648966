"""Search: relevance on the labelled set, filters, snippets, similar, both databases."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import text

from openimr.db import engine_for, session_scope
from openimr.library import search as library_search
from openimr.library.embed import encode
from openimr.library.ingest import ingest
from openimr.library.search import Filters

from .conftest import DATA, make_letter, write_jsonl
from .relevance import evaluate, load_labels, ndcg


def search(url: str, *args, **options):
    """The library's find, in a session of its own."""
    with session_scope(url) as session:
        return library_search.find(session, *args, **options)


def similar(url: str, *args, **options):
    with session_scope(url) as session:
        return library_search.similar(session, *args, **options)


# Floors a little under what was measured on the 129 real letters (docs/library.md).
FLOORS = {"fulltext": 0.85, "semantic": 0.78, "fused": 0.88}


def test_ndcg_of_known_rankings():
    assert ndcg([1, 2, 3], {1, 2, 3}) == pytest.approx(1.0)
    assert ndcg([9, 8, 7], {1}) == 0.0
    assert ndcg([9, 1], {1}) == pytest.approx(1 / 1.5849625, rel=1e-6)


def test_relevance_on_the_labelled_set(real_library):
    scores = evaluate(real_library, load_labels(DATA / "relevance.yaml"))
    for mode, floor in FLOORS.items():
        assert scores[mode] >= floor, scores
    assert scores["fused"] >= max(scores["fulltext"], scores["semantic"]) - 0.02, scores


PG_FLOORS = {"fulltext": 0.82, "semantic": 0.78, "fused": 0.86}


def test_relevance_on_postgresql(postgres_server, letter_pdfs):
    import uuid

    url = postgres_server.create_database("rel_" + uuid.uuid4().hex[:8])
    assert ingest([letter_pdfs[0].parent], url, workers=2).added == 129
    scores = evaluate(url, load_labels(DATA / "relevance.yaml"))
    for mode, floor in PG_FLOORS.items():
        assert scores[mode] >= floor, scores


def test_filters_and_snippets(real_library):
    hits = search(real_library, "physical therapy", Filters(decision="Overturned"), limit=20)
    assert hits and all(h.decision == "Overturned" for h in hits)
    mri = search(real_library, "imaging", Filters(category="mri", region="lumbar"), limit=50)
    assert mri and all(h.category == "mri" for h in mri)
    group = search(real_library, "pain", Filters(category="pharmaceuticals"), limit=50)
    assert group and all(h.category in {"opioid", "nsaid", "muscle_relaxant", "topical_analgesic", "compounded", "proton_pump_inhibitor", "anticonvulsant", "antidepressant", "sleep_aid", "other_drug"} for h in group)
    acupuncture = search(real_library, "acupuncture", mode="fulltext", limit=5)
    assert all("**" in h.snippet for h in acupuncture)
    none = search(real_library, "acupuncture", Filters(date_from=date(2030, 1, 1)), limit=5)
    assert none == []
    semantic = search(real_library, "knee MRI", Filters(decision="Overturned", date_to=date(2017, 1, 31), category="diagnostics"), mode="semantic", limit=50)
    assert semantic and all(h.decision == "Overturned" and h.date <= "2017-01-31" and h.category in {"mri", "ct", "xray", "emg_ncv", "labs", "urine_drug_screen", "other_diagnostic"} for h in semantic)
    assert search(real_library, "knee", Filters(region="no such region"), mode="semantic") == []
    odg = search(real_library, "MRI", Filters(guideline="odg"), limit=50)
    with engine_for(real_library).connect() as c:
        citing = {r[0] for r in c.execute(text("SELECT item_id FROM library_citations WHERE role = 'imr' AND guideline_key = 'odg'"))}
    assert odg and {h.id for h in odg} <= citing
    by_name = search(real_library, "MRI", Filters(guideline="Official Disability Guidelines"), limit=50)
    assert [h.id for h in by_name] == [h.id for h in odg]
    specialty = search(real_library, "therapy", Filters(specialty="chiropract"), limit=50)
    everyone = search(real_library, "therapy", limit=50)
    assert len(specialty) < len(everyone)


def test_similar_finds_the_same_kind_in_other_letters(real_library):
    seed = search(real_library, "acupuncture", mode="fulltext", limit=1)[0]
    near = similar(real_library, seed.id, limit=5)
    assert near and seed.id not in [h.id for h in near]
    assert sum(h.category == "acupuncture" for h in near) >= 3
    assert all(h.case_number != seed.case_number for h in near)
    with pytest.raises(LookupError):
        similar(real_library, 10**9)


def test_search_on_both_databases(db_url, tmp_path):
    letters = [
        make_letter("CM16-1000001", [("Norco 10/325mg #90", "Upheld"), ("Acupuncture 6 sessions", "Overturned")], specialty="Anesthesiology"),
        make_letter("CM16-1000002", [("MRI of the lumbar spine", "Upheld")], decided=date(2016, 6, 1)),
        make_letter("CM16-1000003", [("Hydrocodone 5/325mg #60", "Overturned")]),
    ]
    ingest([write_jsonl(tmp_path / "l.jsonl", letters)], db_url, workers=1)
    for mode in ("fulltext", "semantic", "fused"):
        hits = search(db_url, "Norco", mode=mode, limit=3)
        assert hits[0].request == "Norco 10/325mg #90", mode
    assert [h.request for h in search(db_url, "lumbar MRI", Filters(date_to=date(2016, 12, 31)))] == ["MRI of the lumbar spine"]
    assert {h.request for h in search(db_url, "guidelines", Filters(specialty="anesthesiology"), limit=10)} == {"Norco 10/325mg #90", "Acupuncture 6 sessions"}
    opioid = search(db_url, "guidelines", Filters(category="opioid"), limit=10)
    assert {h.request for h in opioid} == {"Norco 10/325mg #90", "Hydrocodone 5/325mg #60"}
    assert all(h.guideline == "MTUS Chronic Pain Medical Treatment Guidelines" for h in opioid)


def test_cli_search_json(real_library):
    run = subprocess.run(
        [sys.executable, "-m", "openimr.cli", "search", "lumbar MRI", "--db", real_library, "--json", "--limit", "3", "--decision", "upheld"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert len(rows) == 3
    assert set(rows[0]) == {"id", "letter_id", "case_number", "request", "decision", "category", "category_label", "guideline",
                            "guideline_key", "snippet", "snippet_html", "score", "date"}
    bad = subprocess.run([sys.executable, "-m", "openimr.cli", "search", "x", "--db", real_library, "--from", "yesterday"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "--from" in bad.stderr


def test_vector_index_first_pass_keeps_the_nearest(monkeypatch):
    import numpy as np

    from openimr.library import search as module

    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(6000, 256)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = module.VectorIndex()
    index.ids = np.arange(1, 6001, dtype=np.int64)
    index.matrix = vectors
    index.coarse = np.ascontiguousarray(vectors[:, : module.COARSE_DIMS])
    monkeypatch.setattr(module, "COARSE_POOL", 300)
    for row in rng.choice(6000, size=20, replace=False):
        query = vectors[row] + rng.normal(scale=0.02, size=256).astype(np.float32)
        exact = int(np.argmax(vectors @ query)) + 1
        assert index.nearest(query, 1)[0][0] == exact
    allowed = np.arange(1, 6001, 2, dtype=np.int64)
    assert all(i % 2 == 1 for i, _ in index.nearest(vectors[10], 50, allowed=allowed))
    assert 11 not in [i for i, _ in index.nearest(vectors[10], 5, exclude={11})]


def test_a_replaced_letter_is_searched_in_its_new_version(db_url, tmp_path):
    first = make_letter("CM16-3000001", [("Norco 10/325mg #90", "Upheld")])
    ingest([write_jsonl(tmp_path / "a.jsonl", [first])], db_url, workers=1)
    before = search(db_url, "Norco", mode="semantic", limit=5)
    assert [h.request for h in before] == ["Norco 10/325mg #90"]
    second = make_letter("CM16-3000001", [("Aquatic therapy 12 sessions", "Overturned")])
    assert ingest([write_jsonl(tmp_path / "b.jsonl", [second])], db_url, workers=1).replaced == 1
    after = search(db_url, "aquatic therapy", mode="semantic", limit=5)
    assert [h.request for h in after] == ["Aquatic therapy 12 sessions"]
    assert after[0].id > before[0].id  # ids are never reused: in-memory vectors stay right


def test_a_query_matching_nothing_finds_nothing(db_url, tmp_path):
    """The relevance floor: embeddings always have neighbours, but a query none of whose
    words the library holds finds nothing in every mode, nor do neighbours under
    RELEVANCE_FLOOR; a true query still does."""
    letters = [make_letter(f"CM16-20000{n:02d}", [(request, "Upheld")])
               for n, request in enumerate(["Norco 10/325mg #90", "MRI of the lumbar spine", "Acupuncture 6 sessions"])]
    ingest([write_jsonl(tmp_path / "l.jsonl", letters)], db_url, workers=1)
    for mode in ("fulltext", "semantic", "fused"):
        assert search(db_url, "zzqx qwerty", mode=mode, limit=10) == [], mode
    assert search(db_url, "lumbar MRI", mode="semantic", limit=10)[0].request == "MRI of the lumbar spine"
    with session_scope(db_url) as session:
        empty = library_search.search(session, "zzqx qwerty")
        assert (empty.items, empty.total, empty.total_exact) == ([], 0, True)
        # nearest neighbours do exist below the floor: the floor is what removes them
        assert library_search.vector_index(session).nearest(encode(["zzqx qwerty"])[0], 3)
        every = library_search.vector_index(session).nearest(encode(["lumbar spine"])[0], 10)
        above = [(i, s) for i, s in every if s >= library_search.RELEVANCE_FLOOR]
        assert 0 < len(above) < len(every)  # "lumbar spine" is close to the MRI only
        assert library_search.semantic_ids(session, "lumbar spine", Filters(), 10) == above


def test_totals_are_counted_or_said_to_be_more(db_url, tmp_path, monkeypatch):
    """The total is the hits counted; past POOL it is "more than POOL" (total_exact false),
    never the length of a page."""
    letters = [make_letter(f"CM16-30000{n:02d}", [(f"Physical therapy {n} sessions for the knee", "Overturned")]) for n in range(7)]
    letters.append(make_letter("CM16-3000099", [("Norco 10/325mg #90", "Upheld")]))
    ingest([write_jsonl(tmp_path / "l.jsonl", letters)], db_url, workers=1)
    with session_scope(db_url) as session:
        page = library_search.search(session, "physical therapy knee", page=1, per_page=2)
        assert len(page.items) == 2 and page.total_exact and page.total >= 7
        assert page.total == len({h.id for n in (1, 2, 3, 4, 5) for h in
                                  library_search.search(session, "physical therapy knee", page=n, per_page=2).items})
        monkeypatch.setattr(library_search, "POOL", 3)
        capped = library_search.search(session, "physical therapy knee", per_page=2)
        assert (capped.total, capped.total_exact) == (3, False)


def test_facets_hold_only_vocabulary_values(db_url, tmp_path):
    """A free-text guideline ("other:…", a web address) is no facet value: facets come from
    the decisions, the library taxonomy and the guideline registry only."""
    from openimr.models import Citation

    odd = make_letter("CM16-4000001", [("Norco 10/325mg #90", "Upheld"), ("Norco 5/325mg #30", "Upheld")])
    odd.items[1].imr_guideline = Citation(text="http://www.example.org/some-page", scope="non-MTUS",
                                          guideline="http://www.example.org/some-page")
    ingest([write_jsonl(tmp_path / "l.jsonl", [odd])], db_url, workers=1)
    with session_scope(db_url) as session:
        page = library_search.search(session, "Norco")
        keys = {h.guideline_key for h in page.items}
        assert any(k and k.startswith("other:") for k in keys), keys  # the junk is stored...
        known = library_search.facet_values()
        for name, counts in page.facets.items():
            assert counts and set(counts) <= known[name], (name, counts)  # ...but never a facet
        assert not any("http" in value for counts in page.facets.values() for value in counts)
