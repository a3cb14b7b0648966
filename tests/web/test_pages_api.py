"""Letters, precedent search, statistics, analytics, OpenAPI and uploads on the real app."""

from __future__ import annotations

import io

from .conftest import LETTERS
from .test_workflow import application as _application


def test_letters_are_listed_with_pagination_and_shown(world):
    client = world.client("qa")
    first = client.get("/api/letters?per_page=3").json()
    assert first["total"] >= 8 and len(first["items"]) == 3
    second = client.get("/api/letters?per_page=3&page=2").json()
    assert {r["id"] for r in first["items"]}.isdisjoint({r["id"] for r in second["items"]})
    letter_id = first["items"][0]["id"]
    letter = client.get(f"/api/letters/{letter_id}").json()
    assert letter["case_number"] == first["items"][0]["case_number"] and letter["items"]
    page = client.get(f"/letters/{letter_id}").text
    assert letter["items"][0]["request"].split()[0] in page
    assert client.get("/api/letters/999999").status_code == 404


def test_search_finds_highlights_and_filters(world):
    client = world.client("rev_a")
    everything = client.get("/api/search", params={"q": "MRI", "per_page": 50}).json()
    assert everything["total"] >= 1 and everything["items"]
    assert any("<mark>" in hit["snippet_html"] for hit in everything["items"])
    assert all(hit["snippet_html"].count("<mark>") == hit["snippet"].count("**") // 2 for hit in everything["items"])
    assert "decision" in everything["facets"]
    upheld = client.get("/api/search", params={"q": "MRI", "decision": "Upheld", "per_page": 50}).json()
    assert upheld["total"] <= everything["total"]
    assert all(hit["decision"] == "Upheld" for hit in upheld["items"])
    page = client.get("/search", params={"q": "MRI"}).text
    assert "<mark>" in page and "found" in page


def test_snippets_escape_letter_text(world):
    """Snippets are HTML built by the app: text from letters is escaped, only <mark> is added."""
    hits = world.client("qa").get("/api/search", params={"q": "the MRI", "per_page": 50}).json()["items"]
    assert hits
    for hit in hits:
        assert "<script" not in hit["snippet_html"].lower()
        assert hit["snippet_html"].replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_stats_rows_add_up_with_intervals(world):
    client = world.client("intake")
    by_decision = {r["group"]: r for r in client.get("/api/stats?by=decision").json()["rows"]}
    total = sum(r["items"] for r in by_decision.values())
    for by in ("category", "guideline", "month"):
        rows = client.get(f"/api/stats?by={by}").json()["rows"]
        assert sum(r["items"] for r in rows) == total, by
        for row in rows:
            assert row["upheld"] + row["overturned"] == row["items"]
            assert 0 <= row["ci_low"] <= row["overturned_rate"] <= row["ci_high"] <= 1
    assert client.get("/api/stats?by=colour").status_code == 422


def test_analytics_page_draws_three_svg_charts(world):
    page = world.client("qa").get("/analytics").text
    assert page.count("<svg") == 3 and "Overturned rate by treatment category" in page


def test_openapi_describes_the_api(world):
    spec = world.client().get("/openapi.json").json()
    for path in ("/api/cases", "/api/reviewers", "/api/search", "/api/stats", "/api/letters", "/api/login"):
        assert path in spec["paths"], path
    assert "page" in [p["name"] for p in spec["paths"]["/api/cases"]["get"]["parameters"]]
    assert not any(not p.startswith("/api/") for p in spec["paths"]), "pages stay out of the API document"


def test_the_api_takes_the_intake_application_as_its_contract(world):
    """No web copy of the application: the API's schema is the case part's Application, so
    a party without a name is refused at the API, naming the field, as `openimr case intake` does."""
    from openimr.cases.intake import Application

    client = world.client("intake")
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    body = schemas["ApplicationIn"]
    assert set(body["properties"]) == set(Application.model_fields) | {"documents"}
    assert "name" in schemas["Employee"]["required"]
    application = _application()
    application["employee"] = {"claim_number": "X-1"}
    response = client.post("/api/cases", json=application)
    assert response.status_code == 422 and "employee.name: required" in response.json()["detail"]


def test_bad_uploads_get_a_clear_message(world):
    client = world.client("admin")
    case_id = world.cases["rev_a"]
    cases = [
        (("evil.exe", b"MZ....", "application/octet-stream"), "unsupported type"),
        (("fake.pdf", b"not a pdf at all", "application/pdf"), "not a PDF"),
        (("empty.txt", b"", "text/plain"), "empty"),
        (("big.txt", b"x" * (10 * 1024 * 1024 + 1), "text/plain"), "too large"),
        (("latin.txt", "café".encode("latin-1"), "text/plain"), "not UTF-8"),
    ]
    for file, reason in cases:
        response = client.post(f"/api/cases/{case_id}/documents", files={"file": file})
        assert response.status_code == 422, file[0]
        assert file[0] in response.json()["detail"] and reason in response.json()["detail"]
    page = client.post("/letters", data={"csrf_token": client.csrf},
                       files={"file": ("fake.pdf", b"%PDF-1.4 broken", "application/pdf")})
    assert page.status_code == 422 and "fake.pdf" in page.text


def test_records_and_letters_can_be_uploaded(world):
    client = world.client("admin")
    case_id = world.cases["rev_b"]
    response = client.post(f"/api/cases/{case_id}/documents",
                           files={"file": ("progress-note.txt", io.BytesIO(b"Pain 7/10, no red flags."), "text/plain")})
    assert response.status_code == 201
    docs = client.get(f"/api/cases/{case_id}").json()["documents"]
    assert docs[-1]["name"] == "progress-note.txt" and "no red flags" in docs[-1]["text"]
    pdf = sorted(LETTERS.glob("*.pdf"))[20]
    added = client.post("/api/letters", files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
    assert added.status_code == 201, added.text
    again = client.post("/api/letters", files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
    assert again.json()["id"] == added.json()["id"]
    assert client.get(f"/api/letters/{added.json()['id']}").json()["case_number"] == pdf.stem
    assert world.client("rev_a").post("/api/letters", files={"file": (pdf.name, b"%PDF", "application/pdf")}
                                      ).status_code == 403


def test_oversized_request_is_refused_before_reading_it(world):
    client = world.client("admin")
    body = b"x" * (11 * 1024 * 1024)
    response = client.post(f"/api/cases/{world.cases['rev_a']}/documents",
                           files={"file": ("huge.txt", body, "text/plain")})
    assert response.status_code == 413 and "limited to 10 MB" in response.json()["detail"]


def test_facet_links_filter_the_search(world):
    import re

    client = world.client("qa")
    page = client.get("/search", params={"q": "MRI"}).text
    link = re.search(r'href="/search\?([^"]*category=[^"]+)"', page)
    assert link, "the category facet links to a filtered search"
    query = link.group(1).replace("&amp;", "&")
    category = dict(p.split("=", 1) for p in query.split("&"))["category"]
    filtered = client.get("/api/search?" + query + "&per_page=200").json()
    assert filtered["items"] and filtered["total"] <= client.get("/api/search?q=MRI&per_page=200").json()["total"]
    labels = {hit["category"] for hit in filtered["items"]}
    assert len(labels) == 1, (category, labels)


def test_unknown_paths_answer_json_for_the_api_and_html_for_browsers(world):
    client = world.client()
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json() == {"detail": "there is no such page"}
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "there is no such page" in page.text and 'href="/"' in page.text
    wrong_method = client.delete("/api/cases")
    assert wrong_method.status_code == 405 and "allow" in {name.lower() for name in wrong_method.headers}
    assert wrong_method.json() == {"detail": "that action is not offered here"}


def test_api_docs_are_served_from_the_installed_package(world):
    client = world.client()
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/swagger-ui/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    bundle = client.get("/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
    assert client.get("/static/docs.js").status_code == 200


def test_search_floor_totals_and_facets_on_the_api_and_page(world, monkeypatch):
    """A nonsense query finds nothing (API and page); the total says whether it is exact;
    the facets hold vocabulary values only (no web address, no free-text guideline)."""
    from openimr.library.search import facet_values

    client = world.client("qa")
    nothing = client.get("/api/search", params={"q": "zzqx qwerty"}).json()
    assert (nothing["items"], nothing["total"], nothing["total_exact"]) == ([], 0, True)
    page = client.get("/search", params={"q": "zzqx qwerty"}).text
    assert "0 items found" in page and "Nothing in the library matches" in page
    found = client.get("/api/search", params={"q": "MRI", "per_page": 5}).json()
    assert found["total_exact"] and found["total"] >= len(found["items"])
    pages = [client.get("/api/search", params={"q": "MRI", "per_page": 5, "page": n}).json()["items"]
             for n in range(1, -(-found["total"] // 5) + 2)]
    assert sum(len(p) for p in pages) == found["total"]  # counted: the pages hold exactly the total
    known = facet_values()
    for name, counts in found["facets"].items():
        assert set(counts) <= known[name] and not any("http" in value for value in counts), (name, counts)
    assert f'{found["total"]} item' in client.get("/search", params={"q": "MRI"}).text
    from openimr.library import search as library_search

    monkeypatch.setattr(library_search, "POOL", 2)  # a cap below what MRI finds
    capped = client.get("/api/search", params={"q": "MRI"}).json()
    assert (capped["total"], capped["total_exact"]) == (2, False)
    assert "More than 2 items found" in client.get("/search", params={"q": "MRI"}).text


def test_search_filters_before_and_after_searching(world):
    """The category and guideline filters are lists from the vocabularies before any search,
    keep what was chosen after it, and can be cleared."""
    import re

    client = world.client("qa")
    before = client.get("/search").text
    assert '<option value="opioid" >Opioid</option>' in before and '<option value="pharmaceuticals" >' in before
    assert '<option value="mtus-chronic-pain" >MTUS Chronic Pain Medical Treatment Guidelines</option>' in before
    assert "Clear filters" not in before
    after = client.get("/search", params={"q": "MRI", "category": "diagnostics", "guideline": "mtus-chronic-pain"}).text
    assert '<option value="diagnostics" selected>' in after and '<option value="mtus-chronic-pain" selected>' in after
    clear = re.search(r'<a href="(/search\?[^"]*)">Clear filters</a>', after)
    assert clear and "category" not in clear.group(1) and "q=MRI" in clear.group(1)
    typed = client.get("/search", params={"q": "MRI", "guideline": "Chronic Pain"}).text
    assert '<option value="Chronic Pain" selected>' in typed  # a name typed in the address is kept
