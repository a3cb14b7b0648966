"""Signing is one act, under real concurrency: requests from separate threads, each with its
own HTTP connection, against the app served by uvicorn on loopback, on SQLite and
PostgreSQL. Six simultaneous signs give one determination in force; a sign racing decision
edits issues a letter that states exactly the stored decisions of the signed version, and
no edit is acknowledged into a signed version; double-submitted forms are harmless; the
attestation is required."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

from openimr import read_letter

from .conftest import PASSWORD, live_server
from .test_workflow import _decide_all, _new_assigned_case

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(world):
    """The world's app served by uvicorn on a free loopback port, in a thread."""
    with live_server(world.app) as base:
        yield base


def _signed_in(base: str, username: str) -> httpx.Client:
    """A client of its own (its own connection) signed in, with the CSRF header set."""
    client = httpx.Client(base_url=base, timeout=120)
    response = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.csrf = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = client.csrf
    return client


def _at_once(calls) -> list:
    """Run the calls in threads released together; their results in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _stored(world, case_id: int):
    """(determinations, the decisions in force per item, the case's decisions version)."""
    from openimr import db as dbmod
    from openimr.cases import record
    from openimr.cases.tables import CaseRow, DeterminationRow

    with dbmod.session_scope(world.url) as session:
        case = session.get(CaseRow, case_id)
        dets = list(session.scalars(select(DeterminationRow).where(DeterminationRow.case_id == case_id)))
        return dets, {i: d.decision for i, d in record.current_decisions(session, case).items()}, \
            case.decisions_version


def _verify(world) -> list[str]:
    from openimr import db as dbmod
    from openimr.cases import audit

    with dbmod.session_scope(world.url) as session:
        return audit.verify(session)[1]


def test_six_simultaneous_signs_give_one_determination_and_409s_naming_it(world, live):
    case_id = _new_assigned_case(world)
    _decide_all(world.client("rev_a"), case_id, "Upheld")
    clients = [_signed_in(live, "rev_a") for _ in range(6)]
    version = clients[0].get(f"/api/cases/{case_id}").json()["decisions_version"]
    body = {"attest": True, "version": version}
    answers = _at_once([lambda c=c: c.post(f"/api/cases/{case_id}/sign", json=body) for c in clients])
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409, 409, 409, 409, 409], [a.text for a in answers]
    signed = next(a.json() for a in answers if a.status_code == 201)
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["detail"].endswith(
            f"already signed: determination version {signed['version']} states decisions version {version}")
    dets, _decisions, _version = _stored(world, case_id)
    assert len(dets) == 1 and [d.superseded_by for d in dets] == [None]
    assert _verify(world) == []


def _decisions_at(world, case_id: int, version: int) -> dict[int, tuple[str, str, str]]:
    """The decisions in force at `version`: item -> (decision, guideline, rationale)."""
    from openimr import db as dbmod
    from openimr.cases import record
    from openimr.cases.tables import CaseRow

    with dbmod.session_scope(world.url) as session:
        rows = record.current_decisions(session, session.get(CaseRow, case_id), version)
        return {i: (d.decision, d.guideline, d.rationale) for i, d in rows.items()}


def _decision_rows(world, case_id: int) -> dict[int, tuple[int, int, str, str]]:
    """Every stored decision row of the case: id -> (version, item, decision, rationale)."""
    from openimr import db as dbmod
    from openimr.cases.tables import DecisionRow

    with dbmod.session_scope(world.url) as session:
        return {d.id: (d.version, d.item_index, d.decision, d.rationale)
                for d in session.scalars(select(DecisionRow).where(DecisionRow.case_id == case_id))}


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("round_", range(3))
def test_a_sign_racing_five_edits_states_exactly_the_stored_decisions(world, live, round_):
    """Whichever request wins, the issued letter states exactly the decisions stored at the
    signed version (decision and rationale of every item), and no edit is acknowledged into
    a signed version: every acknowledged edit is a stored row at or before it, every other
    edit is refused naming it, and nothing is stored after it."""
    case_id = _new_assigned_case(world)
    _decide_all(world.client("rev_a"), case_id, "Upheld")
    signer, *editors = [_signed_in(live, "rev_a") for _ in range(6)]
    seen = signer.get(f"/api/cases/{case_id}").json()
    items = len(seen["disputed_items"])
    before = _decision_rows(world, case_id)

    def edit(n: int):
        return lambda: editors[n].put(f"/api/cases/{case_id}/items/{n % items}/decision",
                                      json={"decision": "Overturned", "guideline": "MTUS",
                                            "rationale": f"Edit {n}: the records support it."})

    sign = lambda: signer.post(f"/api/cases/{case_id}/sign",  # noqa: E731
                               json={"attest": True, "version": seen["decisions_version"]})
    calls = [edit(n) for n in range(5)]
    calls.insert(round_ % 6, sign)
    answers = _at_once(calls)
    signed = answers[round_ % 6]
    edits = [a for a in answers if a is not signed]
    assert {a.status_code for a in edits} <= {200, 409} and signed.status_code in (201, 409), \
        [a.text for a in answers]
    acknowledged = [a.json() for a in edits if a.status_code == 200]
    if signed.status_code == 201:  # the sign came first: it states the version seen, and no edit got in
        assert signed.json()["decisions_version"] == seen["decisions_version"] and acknowledged == []
    else:  # an edit came first: nothing was signed; the reviewer looks again and signs what is stored now
        assert "the decisions changed since you saw them" in signed.json()["detail"]
        assert acknowledged and _stored(world, case_id)[0] == []
        again = signer.get(f"/api/cases/{case_id}").json()
        signed = signer.post(f"/api/cases/{case_id}/sign", json={"attest": True,
                                                                  "version": again["decisions_version"]})
        assert signed.status_code == 201, signed.text
    determination = signed.json()
    at = determination["decisions_version"]
    rows = _decision_rows(world, case_id)
    assert all(version <= at for version, *_rest in rows.values())  # nothing stored after the signed version
    assert set(rows) - set(before) == {e["id"] for e in acknowledged}  # a refused edit stored nothing
    for e in acknowledged:  # each acknowledged edit is the stored row it names, at or before the signed version
        assert rows[e["id"]] == (e["version"], e["item_index"], e["decision"], e["rationale"]) and e["version"] <= at
    for refused in (a for a in edits if a.status_code == 409):
        assert refused.json()["detail"].endswith(
            f"the determination is signed (decisions version {at}): it cannot be changed, only superseded")
    dets, _decisions, version = _stored(world, case_id)
    assert len(dets) == 1 and version == at
    stated = _decisions_at(world, case_id, at)
    letter = read_letter(signer.get(determination["pdf_url"]).content)
    assert len(letter.items) == items == len(stated)
    for index, item in enumerate(letter.items):
        decision, _guideline, rationale = stated[index]
        assert item.decision == decision and _words(rationale) in _words(item.rationale), (index, item.rationale)
    assert _verify(world) == []


def test_double_submitted_forms_are_harmless(world, live):
    case_id = _new_assigned_case(world)
    first, second = _signed_in(live, "rev_a"), _signed_in(live, "rev_a")
    form = {"decision": "Upheld", "guideline": "MTUS", "rationale": "Not supported by the records."}
    for index in range(len(first.get(f"/api/cases/{case_id}").json()["disputed_items"])):
        answers = _at_once([lambda c=c, index=index: c.post(f"/cases/{case_id}/items/{index}", data={**form, "csrf_token": c.csrf})
                            for c in (first, second)])
        assert [a.status_code for a in answers] == [303, 303]
    detail = first.get(f"/api/cases/{case_id}").json()
    assert detail["decisions_version"] == len(detail["disputed_items"])  # one version per item, not two
    sign_form = {"attest": "yes", "version": str(detail["decisions_version"])}
    answers = _at_once([lambda c=c: c.post(f"/cases/{case_id}/sign", data={**sign_form, "csrf_token": c.csrf})
                        for c in (first, second)])
    assert [a.status_code for a in answers] == [303, 303]
    messages = sorted((httpx.URL(a.headers["location"]).params["message"] for a in answers),
                      key=lambda m: m.startswith("Signed"))
    assert messages[0].endswith(f"already signed: determination version 1 states decisions version "
                                f"{detail['decisions_version']}") and messages[1] == "Signed and issued version 1"
    dets, _decisions, _version = _stored(world, case_id)
    assert len(dets) == 1
    assert _verify(world) == []


def test_signing_needs_the_attestation_and_the_version_seen(world):
    case_id = _new_assigned_case(world)
    client = world.client("rev_a")
    _decide_all(client, case_id)
    version = client.get(f"/api/cases/{case_id}").json()["decisions_version"]
    for body in (None, {"version": version}, {"attest": False, "version": version}):
        refused = client.post(f"/api/cases/{case_id}/sign", json=body)
        assert refused.status_code == 422 and refused.json()["detail"].startswith("attest"), refused.text
    stale = client.post(f"/api/cases/{case_id}/sign", json={"attest": True, "version": version - 1})
    assert stale.status_code == 409 and f"you saw version {version - 1}, they are at version {version}" in \
        stale.json()["detail"]
    page = client.post(f"/cases/{case_id}/sign", data={"csrf_token": client.csrf, "version": str(version)})
    assert page.status_code == 422 and "attest" in page.text
    page = client.get(f"/cases/{case_id}").text
    assert re.search(r"reviewed the records of the case and decided\s+each disputed item", page)
    assert f'name="version" value="{version}"' in page
    assert _stored(world, case_id)[0] == []
    ok = client.post(f"/api/cases/{case_id}/sign", json={"attest": True, "version": version})
    assert ok.status_code == 201 and ok.json()["decisions_version"] == version
