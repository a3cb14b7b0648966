"""The engine's draft on the case page and in the API: the criteria's own verdict and the
features that moved the calibrated probability, as the engine gives them; never to intake."""

from __future__ import annotations

import html
import re

VERDICT_WORDS = {"met": "met", "not_met": "not met", "not_shown": "not shown in the records",
                 "no_entry": "no guideline entry addresses this request"}


def _engine_items(world, case_id: int) -> list[dict]:
    """The engine's own drafts of a stored case, straight from the engine part."""
    from openimr import db as dbmod
    from openimr.cases.tables import CaseRow
    from openimr.engine.decide import decide_case
    from openimr.engine.models import Case as EngineCase
    from openimr.web import views

    with dbmod.session_scope(world.url) as session:
        file, _read = views.case_file(session, session.get(CaseRow, case_id))
    return decide_case(EngineCase.model_validate(file)).model_dump(mode="json")["items"]


def test_the_api_draft_carries_the_engines_criteria_verdict_confidence_and_drivers(world):
    case_id = world.cases["rev_a"]  # a real letter's case with many disputed items
    detail = world.client("rev_a").get(f"/api/cases/{case_id}").json()
    engine = _engine_items(world, case_id)
    assert len(engine) == len(detail["disputed_items"]) > 1
    for item, expected in zip(detail["disputed_items"], engine):
        draft = item["draft"]
        assert draft["criteria_verdict"] == expected["criteria_verdict"]
        assert draft["criteria_verdict"] in VERDICT_WORDS
        assert draft["confidence"] == expected["confidence"] in ("clear", "uncertain")
        assert [(d["feature"], d["label"], d["value"], d["weight"]) for d in draft["drivers"]] == \
            [(d["feature"], d["label"], d["value"], d["weight"]) for d in expected["drivers"]]
    assert {item["draft"]["confidence"] for item in detail["disputed_items"]} == {"clear", "uncertain"}  # not vacuous


def test_the_case_page_says_the_verdict_and_the_confidence(world):
    case_id = world.cases["rev_a"]
    client = world.client("rev_a")
    detail = client.get(f"/api/cases/{case_id}").json()
    page = html.unescape(client.get(f"/cases/{case_id}").text)
    ways = set()
    for item in detail["disputed_items"]:
        article = page.split(f'id="item-{item["index"]}"', 1)[1].split("</article>", 1)[0]
        words = VERDICT_WORDS[item["draft"]["criteria_verdict"]]
        assert re.search(rf"Criteria alone: <strong>{re.escape(words)}</strong>", article)
        assert f'<span class="confidence">{item["draft"]["confidence"]}</span>' in article
        ways.add(item["draft"]["confidence"])
        for driver in item["draft"]["drivers"]:  # drafts of the earlier, learned engine only
            way = "toward overturning" if driver["weight"] > 0 else "toward upholding"
            assert re.search(rf"{re.escape(driver['label'])}: <span[^>]*>{way}</span>", article), driver
    assert ways == {"clear", "uncertain"}  # both confidences were checked


def test_intake_users_never_see_the_engines_draft(world):
    case_id = world.cases["rev_a"]
    qa_detail = world.client("qa").get(f"/api/cases/{case_id}").json()
    assert all(item["draft"] is not None for item in qa_detail["disputed_items"])  # drafted for QA
    assert "Criteria alone" in world.client("qa").get(f"/cases/{case_id}").text
    client = world.client("intake")
    detail = client.get(f"/api/cases/{case_id}").json()
    assert detail["disputed_items"] and all(item["draft"] is None for item in detail["disputed_items"])
    page = client.get(f"/cases/{case_id}").text
    for shown_only_to_others in ("Engine draft", "Criteria alone", "probability overturned", "toward overturning",
                                 "toward upholding", "DRAFT RECOMMENDATION", "<mark"):
        assert shown_only_to_others not in page


def test_a_case_decided_under_the_2017_mtus_shows_what_to_check(world):
    """The fixture's cases have UR decisions of this year: the MTUS in force is ACOEM's updated
    guidelines, so each draft of a replaced guideline carries the note, on the page and in the API,
    and is never `clear`; one of a guideline the update left in place carries none."""
    case_id = world.cases["rev_a"]
    client = world.client("rev_a")
    detail = client.get(f"/api/cases/{case_id}").json()
    assert detail["ur_denial_date"] >= "2017-12-01"
    page = html.unescape(client.get(f"/cases/{case_id}").text)
    noted = 0
    for item, expected in zip(detail["disputed_items"], _engine_items(world, case_id)):
        note = item["draft"]["guideline_note"]
        assert note == expected["guideline_note"]
        article = page.split(f'id="item-{item["index"]}"', 1)[1].split("</article>", 1)[0]
        if note:
            noted += 1
            assert item["draft"]["confidence"] == "uncertain"
            assert f"check the guideline</span> {note}" in article
            assert "whose text the knowledge base does not hold" in note
        else:
            assert "check the guideline" not in article
    assert 0 < noted < len(detail["disputed_items"])  # both kinds were checked
