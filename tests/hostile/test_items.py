"""The number of disputed items per case and the length of a request have one limit each
(openimr.bounds), the same on the intake page form and the API, stated in docs/web.md and in
the OpenAPI schema: an application with 2,000 disputed items is refused at once, on SQLite and
PostgreSQL, and nothing is recorded (no case, so nothing is ever drafted)."""

from __future__ import annotations

import copy
import re
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from openimr import bounds

from .conftest import PASSWORD

DOCS = Path(__file__).resolve().parents[2] / "docs" / "web.md"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def intake_app(request, tmp_path_factory):
    """A workbench with an intake user and no cases, on SQLite and PostgreSQL."""
    from openimr import db as dbmod
    from openimr.web import auth
    from openimr.web.app import create_app

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('items') / 'openimr.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database("i_" + uuid.uuid4().hex[:12])
    dbmod.migrate(url)
    with dbmod.session_scope(url) as session:
        auth.create_user(session, "intake", PASSWORD, "intake", "Ivy Intake")
    client = TestClient(create_app(url))
    signed_in = client.post("/api/login", json={"username": "intake", "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    client.headers["X-CSRF-Token"] = client.csrf = signed_in.json()["csrf_token"]
    return url, client


def _cases(url: str) -> int:
    from openimr import db as dbmod

    with dbmod.session_scope(url) as session:
        return session.execute(text("SELECT count(*) FROM imr_cases")).scalar()


def _last_items(url: str) -> int:
    """How many disputed items the newest case was recorded with."""
    import json

    from openimr import db as dbmod

    with dbmod.session_scope(url) as session:
        application = session.execute(text("SELECT application FROM imr_cases ORDER BY id DESC LIMIT 1")).scalar()
    return len(json.loads(application)["ur_decision"]["items"])


def _form(requests: list[str]) -> dict[str, str]:
    today = date.today()
    return {"review_type": "regular", "received": today.isoformat(), "signed": "on", "ur_decision_attached": "on",
            "date_of_injury": (today - timedelta(days=400)).isoformat(), "employee_name": "Pat Worker",
            "claims_administrator": "Golden State Claims", "employer": "Acme Logistics",
            "physician_name": "Dr. Alan Reyes", "ur_date": (today - timedelta(days=10)).isoformat(),
            "ur_served": (today - timedelta(days=9)).isoformat(), "requests": "\n".join(requests)}


def _application(app_data: dict, requests: list[str]) -> dict:
    data = copy.deepcopy(app_data)
    data["ur_decision"]["items"] = [{"request": r, "outcome": "denied", "guideline": ""} for r in requests]
    return data


def _page_errors(html: str) -> list[str]:
    import html as htmllib

    return [htmllib.unescape(m).strip() for m in re.findall(r'class="field-error"[^>]*>(.*?)<', html, re.S)]


def test_two_thousand_items_are_refused_on_the_api_and_the_form_at_once(intake_app, app_data):
    url, client = intake_app
    before = _cases(url)
    many = [f"Physical therapy, 6 sessions, visit block {k}" for k in range(2000)]
    started = time.monotonic()
    api = client.post("/api/cases", json=_application(app_data, many))
    page = client.post("/intake", data=_form(many) | {"csrf_token": client.csrf})
    assert time.monotonic() - started < 10  # refused from the count: nothing drafted, nothing stored
    assert api.status_code == 422
    assert api.json()["detail"] == f"ur_decision.items: at most {bounds.MAX_ITEMS} entries"
    assert page.status_code == 422
    assert f"Disputed items: at most {bounds.MAX_ITEMS} entries" in _page_errors(page.text), \
        _page_errors(page.text)
    assert _cases(url) == before


def test_the_limits_are_the_same_on_the_form_and_the_api(intake_app, app_data):
    """At the limits both accept; one past them both refuse, naming the field."""
    url, client = intake_app
    longest = "Acupuncture " + "x" * (bounds.MAX_REQUEST - 12)
    at_limit = [longest] * bounds.MAX_ITEMS
    assert client.post("/api/cases", json=_application(app_data, at_limit)).status_code == 201
    page = client.post("/intake", data=_form(at_limit) | {"csrf_token": client.csrf})
    assert page.status_code == 201, _page_errors(page.text)
    assert _last_items(url) == bounds.MAX_ITEMS  # every item recorded, none cut off
    before = _cases(url)
    too_many = client.post("/api/cases", json=_application(app_data, at_limit + ["Massage"]))
    assert too_many.json()["detail"] == f"ur_decision.items: at most {bounds.MAX_ITEMS} entries"
    page = client.post("/intake", data=_form(at_limit + ["Massage"]) | {"csrf_token": client.csrf})
    assert page.status_code == 422
    assert f"Disputed items: at most {bounds.MAX_ITEMS} entries" in _page_errors(page.text)
    too_long = longest + "x"
    api = client.post("/api/cases", json=_application(app_data, [too_long]))
    assert api.status_code == 422
    assert api.json()["detail"] == f"ur_decision.items.0.request: at most {bounds.MAX_REQUEST} characters"
    page = client.post("/intake", data=_form([too_long]) | {"csrf_token": client.csrf})
    assert page.status_code == 422
    assert f"Disputed item 1: at most {bounds.MAX_REQUEST} characters" in _page_errors(page.text)
    assert _cases(url) == before


def test_the_limits_are_stated_in_the_openapi_schema_and_the_docs(intake_app):
    _, client = intake_app
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["URDecision"]["properties"]["items"]["maxItems"] == bounds.MAX_ITEMS
    assert schemas["DisputedItem"]["properties"]["request"]["maxLength"] == bounds.MAX_REQUEST
    limits = DOCS.read_text().split("\n## Limits", 1)[1].split("\n## ", 1)[0]
    stated = dict(re.findall(r"^\| `(MAX_\w+)` \| ([\d,]+) \|", limits, re.M))
    assert stated["MAX_ITEMS"] == f"{bounds.MAX_ITEMS:,}" and stated["MAX_REQUEST"] == f"{bounds.MAX_REQUEST:,}"
    assert set(stated) == {name for name in vars(bounds) if name.startswith("MAX_")}  # every one of them
    for name, number in stated.items():  # every limit the docs state is the one in openimr.bounds
        assert number == f"{getattr(bounds, name):,}", name


def test_implausible_dates_are_refused_naming_the_field(intake_app, app_data):
    """No injury in the future, received neither in year 9999 nor before the UR decision, a
    document's date a date: 422 naming the field, on the API and the form, nothing recorded."""
    url, client = intake_app
    before = _cases(url)
    ahead = (date.today() + timedelta(days=30)).isoformat()
    cases = [
        ({"date_of_injury": ahead}, "date_of_injury: ", "in the future"),
        ({"received": "9999-12-31"}, "received: ", "in the future"),
        ({"received": "2026-02-19"}, "received: 2026-02-19 ", "before the UR decision date"),
        ({"documents": [{"kind": "medical_record", "name": "note", "date": "not-a-date", "text": "x"}]},
         "documents.0.date: ", "is not a date"),
    ]
    for change, field, words in cases:
        response = client.post("/api/cases", json=app_data | change)
        detail = response.json()["detail"]
        assert response.status_code == 422 and detail.startswith(field) and words in detail, (change, detail)
    for change, words in (({"date_of_injury": ahead}, "Date of injury: "), ({"received": "9999-12-31"}, "Date received: ")):
        page = client.post("/intake", data=_form(["MRI of the lumbar spine"]) | change | {"csrf_token": client.csrf})
        assert page.status_code == 422
        assert any(e.startswith(words) and "in the future" in e for e in _page_errors(page.text)), _page_errors(page.text)
    assert _cases(url) == before
