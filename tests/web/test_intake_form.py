"""The intake form as intake staff use it: each problem beside its field in plain words,
everything typed kept after a refusal, nothing stored; the parties entered shown on the case
page (to intake too), never the reviewer's identity to intake."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from .conftest import REVIEWER_NAMES


def _form(client, **changes) -> dict:
    today = date.today()
    form = {"csrf_token": client.csrf, "review_type": "regular", "received": today.isoformat(),
            "signed": "1", "ur_decision_attached": "1", "employee_name": f"Pat {uuid.uuid4().hex[:6]}",
            "date_of_injury": "2024-01-01", "employer": "Acme Stores", "claims_administrator": "Claims Co",
            "physician_name": "Dr. Rowan Req", "physician_specialty": "Pain Medicine",
            "attorney_name": "Avery Counsel", "attorney_firm": "Counsel & Partners LLP",
            "ur_date": (today - timedelta(days=10)).isoformat(), "ur_served": (today - timedelta(days=9)).isoformat(),
            "requests": "Norco 10/325 mg #90\nMRI lumbar spine", "guidelines": "MTUS Opioids\nACOEM Low Back",
            "summary": "The worker reports low back pain since the injury."}
    return form | changes


def _beside(html: str, field: str) -> str:
    """The error shown right after the field's control, or '' when there is none."""
    match = re.search(rf'id="{field}"[^>]*aria-invalid="true" aria-describedby="err-{field}"', html)
    error = re.search(rf'<p class="field-error" id="err-{field}">([^<]*)</p>', html)
    return error.group(1) if match and error else ""


def test_errors_beside_their_fields_in_plain_words_and_the_form_kept(world):
    client = world.client("intake")
    before = client.get("/api/cases").json()["total"]
    form = _form(client, employer="", claims_administrator="", ur_served=(date.today() - timedelta(days=30)).isoformat(),
                 date_of_injury="not a day")
    page = client.post("/intake", data=form)
    assert page.status_code == 422
    html = page.text
    assert _beside(html, "employer") == "Employer: required"
    assert _beside(html, "claims_administrator") == "Claims administrator: required"
    assert _beside(html, "date_of_injury") == "Date of injury: &#39;not a day&#39; is not a date (YYYY-MM-DD)"
    assert _beside(html, "employee_name") == ""  # a good field has no error
    assert "fields need attention" in html
    assert "employer.name" not in html and "items.0" not in html  # no model paths
    # everything typed is kept: the parties, the dates, the items, the summary
    for name in ("employee_name", "physician_name", "physician_specialty", "attorney_name", "ur_date"):
        assert f'value="{form[name]}"' in html.replace("&amp;", "&"), name
    assert "Norco 10/325 mg #90\nMRI lumbar spine</textarea>" in html
    assert "MTUS Opioids\nACOEM Low Back</textarea>" in html
    assert "The worker reports low back pain since the injury.</textarea>" in html
    assert client.get("/api/cases").json()["total"] == before  # nothing stored

    second = client.post("/intake", data=_form(client, date_of_injury="2024-01-01", ur_served=form["ur_date"],
                                               ur_date=(date.today() - timedelta(days=5)).isoformat()))
    assert second.status_code == 422
    assert _beside(second.text, "ur_served").startswith("Date served: 2")
    assert "before the UR decision date" in _beside(second.text, "ur_served")

    empty = client.post("/intake", data=_form(client, requests="  \n"))
    assert empty.status_code == 422
    assert _beside(empty.text, "requests") == "Disputed items: list at least one disputed item, one per line"


def test_the_parties_entered_at_intake_are_on_the_case_page(world):
    client = world.client("intake")
    form = _form(client)
    page = client.post("/intake", data=form)
    assert page.status_code == 201, page.text
    case_id = int(re.search(r'href="/cases/(\d+)"', page.text).group(1))
    detail = client.get(f"/api/cases/{case_id}").json()
    assert {p["role"]: p["name"] for p in detail["parties"]} == {
        "Employee": form["employee_name"], "Employer": "Acme Stores", "Claims administrator": "Claims Co",
        "Requesting physician": "Dr. Rowan Req", "Employee's attorney": "Avery Counsel"}
    shown = client.get(f"/cases/{case_id}").text
    section = shown[shown.index('id="parties-h"'):shown.index("</section>", shown.index('id="parties-h"'))]
    for value in (form["employee_name"], "Acme Stores", "Claims Co", "Dr. Rowan Req", "Pain Medicine",
                  "Avery Counsel", "Counsel &amp; Partners LLP"):
        assert value in section, value
    # the reviewer is no party: never named to intake on an assigned case either
    assigned = client.get(f"/cases/{world.cases['rev_a']}").text
    assert 'id="parties-h"' in assigned
    assert not any(name in assigned for name in REVIEWER_NAMES)
