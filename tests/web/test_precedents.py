"""Each disputed item's draft lists the nearest precedents of the same request category and,
where the knowledge base gives the past request an entry, the same entry; never another
category's, never as votes (engine/precedents.py, web/views.py)."""

from __future__ import annotations

from .test_workflow import application

REQUESTS = ["Physical therapy 12 sessions lumbar spine", "Norco 10/325 mg #60", "MRI of the lumbar spine",
            "Lumbar epidural steroid injection L4-5", "Laboratory tests CBC"]


def test_precedents_keep_to_the_request_category_and_entry(world):
    from openimr import db as dbmod
    from openimr.engine.precedents import entry_of
    from openimr.library import search as library_search
    from openimr.library.classify import classify

    app = application()
    app["ur_decision"]["items"] = [{"request": r, "outcome": "denied"} for r in REQUESTS]
    case_id = world.client("intake").post("/api/cases", json=app).json()["case"]["id"]
    items = world.client("qa").get(f"/api/cases/{case_id}").json()["disputed_items"]
    other_category = other_entry = 0
    with dbmod.session_scope(world.url) as session:
        for item in items:
            draft, category = item["draft"], classify(item["request"]).category
            raw = library_search.search(session, item["request"], per_page=12).items
            other_category += sum(h.category != category for h in raw[:3])
            other_entry += sum(h.category == category and entry_of(h.request, draft["region"]) not in
                               (None, draft["kb_entry"]) for h in raw)
            assert all(p["category"] == category for p in draft["precedents"]), item["request"]
            assert all(p["kb_entry"] in (None, draft["kb_entry"]) for p in draft["precedents"]), item["request"]
            assert "the same request category" in draft["precedents_scope"]
    assert other_category, "without the restriction another category's items would be listed"
    assert other_entry, "without the entry check a same-category item of another entry would be listed"
    by_request = {i["request"]: i["draft"] for i in items}
    assert by_request["Norco 10/325 mg #60"]["precedents"], "the library holds opioids"
    assert by_request["Lumbar epidural steroid injection L4-5"]["precedents"] == []  # none of that category
    labs = by_request["Laboratory tests CBC"]  # no entry addresses it: the category alone restricts
    assert labs["kb_entry"] is None and labs["precedents"] == []
    with dbmod.session_scope(world.url) as session:
        assert library_search.search(session, "Laboratory tests CBC", per_page=3).items, "other categories match it"
    page = world.client("qa").get(f"/cases/{case_id}").text
    assert "Nearest precedents of the same request category (Opioid) and guideline entry" in page
    assert "never counted as votes" in page and ": none in the library." in page
    assert "Nearest precedents" not in world.client("intake").get(f"/cases/{case_id}").text


def test_a_search_result_links_to_similar_letters_of_its_category_and_entry(world):
    import re

    from openimr import db as dbmod
    from openimr.library.classify import classify
    from openimr.web import views

    client = world.client("rev_a")
    page = client.get("/search?q=physical+therapy").text
    ids = [int(i) for i in re.findall(r"similar=(\d+)#similar", page)]
    assert ids, "each result links to its similar letters"
    with dbmod.session_scope(world.url) as session:
        item, near, scope = views.similar_to(session, ids[0])
    assert near and all(h.category == item.category and h.letter_id != item.letter_id for h in near)
    assert all(h.kb_entry in (None, near[0].kb_entry) for h in near)
    assert classify(item.request).category == item.category
    shown = client.get(f"/search?q=physical+therapy&similar={ids[0]}").text
    assert f"Similar letters: nearest precedents of {scope}" in shown
    section = shown[shown.index('id="similar"'):shown.index("</section>", shown.index('id="similar"'))]
    assert [f"/letters/{h.letter_id}" for h in near] == re.findall(r'href="(/letters/\d+)"', section)[1:]
    missing = client.get("/search?similar=2000000000")
    assert missing.status_code == 404 and "not in the library" in missing.text
    assert client.get("/search?similar=-1").status_code == 422
