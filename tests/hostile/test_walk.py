"""Every route of the workbench walked with extreme values, as an admin, on SQLite and
PostgreSQL: each path and query parameter (and each field of a JSON body) in turn gets 0, -1,
2**31, 2**63, a 30-digit number, a huge string, "not-a-date" and 9999-12-31 while the other
parameters keep valid values. No answer is a 5xx; every 422 is one plain line naming a field."""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

EXTREMES = ("0", "-1", str(2**31), str(2**63), "9" * 30, "x" * 5000, "not-a-date", "9999-12-31")
SKIP = {"/api/logout", "/logout"}  # signing out would end the walk's session
ONE_LINE = re.compile(r"^[a-z_][\w.]*: \S[^\n]*$")
RAW = ("Value error,", "function-after", "[", "body.", "query.", "path.")


def _build_world():
    """The workbench world of tests/web (users, panel, letters, assigned cases), reused."""
    path = Path(__file__).resolve().parents[1] / "web" / "conftest.py"
    spec = importlib.util.spec_from_file_location("openimr_web_world", path)
    module = sys.modules.get(spec.name) or importlib.util.module_from_spec(spec)
    if spec.name not in sys.modules:
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module.build_world


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def walk_world(request, tmp_path_factory, letter_pdfs):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('walk') / 'openimr.sqlite'}"
    else:
        import uuid

        url = request.getfixturevalue("postgres_server").create_database("k_" + uuid.uuid4().hex[:12])
    return _build_world()(url, letter_pdfs[:3])


def _message(response) -> str:
    if response.headers.get("content-type", "").startswith("application/json"):
        detail = response.json().get("detail")
        return detail if isinstance(detail, str) else repr(detail)
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text, re.S)
    return html.unescape(found.group(1)).strip() if found else response.text[:300]


def _body_fields(route: APIRoute) -> list[str]:
    body = route.body_field
    annotation = getattr(body.field_info, "annotation", None) if body else None
    model = next((a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)
                  and issubclass(a, BaseModel)), None)
    return list(model.model_fields) if model else []


def _params(route: APIRoute, kind: str) -> list[str]:
    """The names of the route's parameters of a kind (path, query, body), its dependencies' too."""
    names, todo = [], [route.dependant]
    while todo:
        dependant = todo.pop()
        names += [p.name for p in getattr(dependant, f"{kind}_params") if p.name not in names]
        todo += dependant.dependencies
    return names


def _requests(route: APIRoute, valid: dict[str, str]):
    """(method, url, params, json) of every extreme value in every parameter of the route."""
    path_names, query_names = _params(route, "path"), _params(route, "query")
    form_names = [] if _body_fields(route) else _params(route, "body")
    fields = _body_fields(route)
    for method in sorted(route.methods - {"HEAD"}):
        def url(**changed):
            return route.path.format(**{n: changed.get(n, valid.get(n, "1")) for n in path_names})

        for name in path_names:
            for value in EXTREMES:
                if "/" not in value:
                    yield name, method, url(**{name: value}), {}, None, None
        for name in query_names:
            for value in EXTREMES:
                yield name, method, url(), {name: value}, None, None
        for value in EXTREMES if method != "GET" else ():
            if fields:
                number = int(value) if value.lstrip("-").isdigit() else value
                yield "body", method, url(), {}, {f: number for f in fields}, None
            elif form_names:
                yield "form", method, url(), {}, None, {f: value for f in form_names}


def test_every_route_with_extreme_values_answers_4xx_naming_the_field(walk_world):
    world = walk_world
    admin = world.client("admin")
    app = world.app
    case_id = world.cases["rev_a"]
    letters = admin.get("/api/letters").json()["items"]
    valid = {"case_id": str(case_id), "index": "0", "det_id": "1", "letter_id": str(letters[0]["id"])}
    routes = [c.original_route for c in iter_route_contexts(app.routes)]  # app.routes, routers included
    routes = [r for r in routes if isinstance(r, APIRoute) and r.path not in SKIP]
    assert len(routes) > 40  # the API and the pages: every one of them
    walked, problems = 0, []
    for route in routes:
        for name, method, url, params, body, form in _requests(route, valid):
            if form is not None:
                form = form | {"csrf_token": admin.csrf}
            response = admin.request(method, url, params=params, json=body, data=form, follow_redirects=False)
            walked += 1
            where = f"{method} {url[:80]} {name}={str(params or body or form)[:60]}"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
            elif response.status_code == 422:
                message = _message(response)
                if not ONE_LINE.match(message) or any(raw in message for raw in RAW):
                    problems.append(f"{where}: 422 not one plain line naming a field: {message[:160]!r}")
                elif name not in ("body", "form") and not message.startswith(name) and not message.endswith(": required"):
                    # (a required field left out comes first: the walk sends only the parameter)
                    problems.append(f"{where}: 422 names another field: {message[:160]!r}")
    assert walked > 500
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} in all)"
