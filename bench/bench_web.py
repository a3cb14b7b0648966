"""The reviewer workbench's speed: every page on the demo data, then 50 concurrent clients.

1. Pages: `openimr demo`'s data (its users, letters and demo case) served by `openimr serve`
   on loopback; each page of the workbench opened PAGE_RUNS times in a row by each role (a
   real HTTP client, one request at a time): p50 and p95 per page and role, how long the
   server took to answer after its start, and the first case page after the start.
2. Load: CLIENTS concurrent clients (each a signed-in reviewer with an assigned case) for
   SECONDS against `openimr serve` with one and with two processes (`--workers 2`), side by
   side in the same run with a bare FastAPI hello-world endpoint served by the same uvicorn:
   requests/s and p95 of each, the workbench's share of the bare endpoint's, and every
   acknowledged write found in the database afterwards. The load runs on the embedded SQLite
   database; BENCH_WEB_BACKENDS=sqlite,postgresql adds the same on a throw-away PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

CLIENTS = int(os.environ.get("BENCH_WEB_CLIENTS", "50"))
SECONDS = float(os.environ.get("BENCH_WEB_SECONDS", "12"))
LETTERS = int(os.environ.get("BENCH_WEB_LETTERS", "60"))
PAGE_RUNS = int(os.environ.get("BENCH_WEB_PAGE_RUNS", "20"))
WORKERS = tuple(int(n) for n in os.environ.get("BENCH_WEB_WORKERS", "1,2").split(","))
BACKENDS = os.environ.get("BENCH_WEB_BACKENDS", "sqlite").split(",")
PASSWORD = "bench password"
SHARED = Path(os.environ.get("OPENIMR_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
READS = ("/api/cases", "/api/cases/{case}", "/api/search?q={query}", "/api/stats?by=category",
         "/api/letters?page={page}", "/cases/{case}")
QUERIES = ("lumbar MRI", "physical therapy", "opioid", "acupuncture", "epidural injection", "Norco")
ROLES = ("reviewer", "intake", "qa", "admin")
PAGES = ("/login", "/cases", "/cases/{case}", "/cases/{case}/records", "/search?q=lumbar+MRI", "/letters",
         "/letters/{letter}", "/panel", "/analytics", "/late", "/users", "/intake")
HELLO = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()

@app.get("/hello")
def hello():
    return {"hello": "world"}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), timeout_keep_alive=75, log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


# ---------------------------------------------------------------- servers
def _wait(process: subprocess.Popen, port: int, log_path: Path, path: str = "/healthz") -> float:
    """Seconds until the server answers `path`; it is killed if it does not within 180 s."""
    import httpx

    started = time.perf_counter()
    while time.perf_counter() - started < 180:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start: " + log_path.read_text()[-500:])


def serve(url: str, port: int, log_path: Path, workers: int = 1) -> tuple[subprocess.Popen, float]:
    """`openimr serve` in its own process (its log to a file); (process, seconds to answer)."""
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "openimr.cli", "serve", "--db", url, "--port", str(port),
                                    "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=log)
    return process, _wait(process, port, log_path)


def serve_hello(port: int, log_path: Path) -> subprocess.Popen:
    """A bare FastAPI app with one endpoint, on the same uvicorn as the workbench."""
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-c", HELLO, str(port)], stdout=subprocess.DEVNULL, stderr=log)
    _wait(process, port, log_path, "/hello")
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(15)


# ---------------------------------------------------------------- 1. pages on the demo data
def demo_data(url: str) -> dict[str, int]:
    """What `openimr demo` sets up (its users, LETTERS of the real letters, the demo case)."""
    from openimr import db as dbmod
    from openimr.demo import SHARED_LETTERS, ensure_demo_case, ensure_users, letter_paths, load_letters
    from openimr.library import store as library

    dbmod.migrate(url)
    ensure_users(url)
    load_letters(url, letter_paths(SHARED_LETTERS)[:LETTERS], workers=2)
    case = ensure_demo_case(url)
    with dbmod.session_scope(url) as session:
        letter = library.list_letters(session, 1, 1).items[0].id
    assert case is not None, "the demo case was not made (no letters?)"
    return {"case": case, "letter": letter}


def time_pages(base: str, ids: dict[str, int]) -> tuple[dict, float]:
    """{(page, role): (status, [seconds])} and the first case page's seconds after the start."""
    import httpx

    from openimr.demo import DEMO_PASSWORD

    timings: dict[tuple[str, str], tuple[int, list[float]]] = {}
    first = float("nan")
    for role in ROLES:
        with httpx.Client(base_url=base, timeout=120) as http:
            signed = http.post("/api/login", json={"username": role, "password": DEMO_PASSWORD})
            if signed.status_code != 200:
                raise RuntimeError(f"{role}: sign-in answered {signed.status_code}")
            if role == "reviewer":  # the first page the server draws a case on after its start
                began = time.perf_counter()
                assert http.get(f"/cases/{ids['case']}").status_code == 200
                first = time.perf_counter() - began
            for page in PAGES:
                path, times, status = page.format(**ids), [], 0
                for _ in range(PAGE_RUNS):
                    began = time.perf_counter()
                    status = http.get(path, follow_redirects=False).status_code
                    times.append(time.perf_counter() - began)
                timings[(page, role)] = (status, times)
    return timings, first


def pages_section(folder: Path) -> str:
    url = f"sqlite:///{folder / 'demo.sqlite'}"
    started = time.perf_counter()
    ids = demo_data(url)
    setup_s = time.perf_counter() - started
    port = _free_port()
    process, start_s = serve(url, port, folder / "pages.log")
    try:
        timings, first = time_pages(f"http://127.0.0.1:{port}", ids)
    finally:
        stop(process)
    all_times = [t for status, times in timings.values() if status == 200 for t in times]
    lines = [
        "## Web workbench (bench_web)",
        "",
        "### Every page on the demo data",
        "",
        f"`openimr demo`'s data (its users, {LETTERS} real letters in the library, the demo case; set up in "
        f"{setup_s:.0f} s) served by `openimr serve` (one process, embedded SQLite) on loopback; each page "
        f"opened {PAGE_RUNS} times in a row by each role, one request at a time (a real HTTP client, "
        "httpx). p50 / p95 in ms; \"refused\" where the role may not see the page (403, one line) and "
        "\"sent on\" where it is redirected (the signed-in user's /login).",
        "",
        "| page | " + " | ".join(ROLES) + " |",
        "|---|" + "---:|" * len(ROLES),
    ]
    for page in PAGES:
        cells = []
        for role in ROLES:
            status, times = timings[(page, role)]
            if status == 200:
                cells.append(f"{_pct(times, 50):.0f} / {_pct(times, 95):.0f}")
            else:
                cells.append({403: "refused", 303: "sent on"}.get(status, f"HTTP {status}"))
        lines.append(f"| `{page}` | " + " | ".join(cells) + " |")
    slowest = max(((_pct(times, 95), page, role) for (page, role), (status, times) in timings.items()
                   if status == 200))
    lines += ["", f"All pages: p50 {_pct(all_times, 50):.0f} ms, p95 {_pct(all_times, 95):.0f} ms; the slowest "
              f"p95 is `{slowest[1]}` for {slowest[2]} ({slowest[0]:.0f} ms). The server answered "
              f"{start_s:.1f} s after its start (the engine and the library model load first); the first case "
              f"page after that took {first * 1000:.0f} ms (the engine drafting the case; then kept), the next "
              f"ones the reviewer's column above."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- 2. load
def set_up(url: str, letters_in: bool = False) -> dict[str, int]:
    """Letters in the library (unless `letters_in` already), one reviewer on the panel per
    client, each with an assigned case."""
    from openimr import bounds
    from openimr import db as dbmod
    from openimr.cases import store
    from openimr.demo import DEMO_PANEL, demo_application, load_letters
    from openimr.library import store as library
    from openimr.panel import reviewers
    from openimr.panel.assign import assign_to
    from openimr.web import auth, workflow

    dbmod.migrate(url)
    if not letters_in:
        load_letters(url, sorted((SHARED / "data" / "letters").glob("*.pdf"))[:LETTERS], workers=2)
    panel = [DEMO_PANEL[0] | {"id": f"BENCH-{n:02d}", "name": f"Dr. Bench {n}"} for n in range(CLIENTS)]
    store.run(url, reviewers.add, reviewers.parse_reviewers(panel, "bench panel"), "bench")
    with dbmod.session_scope(url) as session:
        intake = auth.principal_of(session, auth.create_user(session, "bench-intake", PASSWORD, "intake"), "")
        for n in range(CLIENTS):
            auth.create_user(session, f"rev{n}", PASSWORD, "reviewer", f"Dr. Bench {n}", f"BENCH-{n:02d}")
        letters = [library.get_letter(session, r.id) for r in library.list_letters(session, 1, 500).items if r.items]
    # a letter whose request is longer than an application takes is no case to make
    letters = [x for x in letters if x and all(len(i.request) <= bounds.MAX_REQUEST for i in x.items)]
    cases = {}
    for n in range(CLIENTS):
        with dbmod.session_scope(url) as session:  # one transaction a case, as a request would
            application, documents = demo_application(letters[n % len(letters)], date.today())
            application["employee"] = {"name": f"Bench Worker {n}"}
            case = workflow.create_case(session, intake, application, documents)
            assign_to(session, case.case_number, f"BENCH-{n:02d}", ["bench"], "web:admin", "admin")
            cases[f"rev{n}"] = case.id
    return cases


async def sign_in(http, username: str) -> None:
    """Sign in (one at a time: parallel attempts from one address meet the sign-in limit)."""
    login = await http.post("/api/login", json={"username": username, "password": PASSWORD})
    if login.status_code != 200:
        raise RuntimeError(f"{username}: sign-in answered {login.status_code}: {login.text[:300]}")
    http.headers["X-CSRF-Token"] = login.json()["csrf_token"]


async def open_case(http, case_id: int) -> int:
    """Open the case once (the engine drafts it); its number of items."""
    return len((await http.get(f"/api/cases/{case_id}")).json()["disputed_items"])


async def client(http, username: str, case_id: int, items: int, until: float, log: list, writes: list) -> None:
    """One reviewer reading (70%) and writing (30%) at random until `until`."""
    import httpx

    rng = random.Random(username)
    while time.monotonic() < until:
        started = time.perf_counter()
        kind = "write" if rng.random() < 0.3 else "read"
        try:
            if kind == "write":
                body = {"decision": rng.choice(["Upheld", "Overturned"]), "guideline": "MTUS",
                        "rationale": f"bench {username} {time.time_ns()}"}
                response = await http.put(f"/api/cases/{case_id}/items/{rng.randrange(items)}/decision", json=body)
                if response.status_code == 200:
                    writes.append(response.json()["id"])
            else:
                path = rng.choice(READS).format(case=case_id, query=rng.choice(QUERIES), page=rng.randint(1, 3))
                response = await http.get(path)
            status = response.status_code
        except httpx.TransportError:  # counted, never hidden: a dropped connection is a failure
            status = 0
        log.append((kind, status, time.perf_counter() - started))


async def hello_client(http, until: float, log: list) -> None:
    import httpx

    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            status = (await http.get("/hello")).status_code
        except httpx.TransportError:
            status = 0
        log.append(("read", status, time.perf_counter() - started))


async def load(base: str, cases: dict[str, int] | None, log: list, writes: list) -> float:
    """Every client signs in (warm-up, not measured), then all run together; the seconds run.
    Without `cases`: the hello-world endpoint, CLIENTS clients."""
    import httpx

    clients = [httpx.AsyncClient(base_url=base, timeout=120) for _ in range(CLIENTS)]
    try:
        if cases is None:
            await asyncio.gather(*(http.get("/hello") for http in clients))
            began = time.perf_counter()
            until = time.monotonic() + SECONDS
            await asyncio.gather(*(hello_client(http, until, log) for http in clients))
        else:
            for http, user in zip(clients, cases):
                await sign_in(http, user)
            items = await asyncio.gather(*(open_case(http, case) for http, case in zip(clients, cases.values())))
            began = time.perf_counter()
            until = time.monotonic() + SECONDS
            await asyncio.gather(*(client(http, user, case, n, until, log, writes)
                                   for http, (user, case), n in zip(clients, cases.items(), items)))
        return time.perf_counter() - began
    finally:
        for http in clients:
            await http.aclose()


def measure(log: list, elapsed: float, kind: str = "all") -> dict:
    times = [t for k, _s, t in log if kind in (k, "all")]
    return {"n": len(times), "rate": len(times) / elapsed, "p50": _pct(times, 50), "p95": _pct(times, 95),
            "errors": sum(1 for _k, s, _t in log if s >= 500), "dropped": sum(1 for _k, s, _t in log if s == 0),
            "refused": sum(1 for _k, s, _t in log if 400 <= s < 500)}


def load_workbench(url: str, folder: Path, cases: dict[str, int], workers: int) -> dict:
    """One run of the load against `openimr serve --workers N`; its figures and the check that
    every acknowledged write is in the database."""
    from sqlalchemy import select

    from openimr import db as dbmod
    from openimr.cases.tables import DecisionRow

    port = _free_port()
    process, start_s = serve(url, port, folder / f"server-{workers}.log", workers)
    log: list = []
    writes: list = []
    try:
        elapsed = asyncio.run(load(f"http://127.0.0.1:{port}", cases, log, writes))
    except Exception:
        print((folder / f"server-{workers}.log").read_text()[-20000:], file=sys.stderr)
        raise
    finally:
        stop(process)
    with dbmod.session_scope(url) as session:
        stored = set(session.scalars(select(DecisionRow.id)))
    return {"all": measure(log, elapsed), "read": measure(log, elapsed, "read"),
            "write": measure(log, elapsed, "write"), "writes": len(writes),
            "lost": sum(1 for w in writes if w not in stored), "start_s": start_s}


def load_hello(folder: Path) -> dict:
    port = _free_port()
    process = serve_hello(port, folder / "hello.log")
    log: list = []
    try:
        elapsed = asyncio.run(load(f"http://127.0.0.1:{port}", None, log, []))
    finally:
        stop(process)
    return {"all": measure(log, elapsed)}


def load_section(url: str, label: str, folder: Path, hello: dict | None, letters_in: bool = False) -> str:
    from openimr import db as dbmod
    from openimr.cases import audit

    started = time.perf_counter()
    cases = set_up(url, letters_in)
    setup_s = time.perf_counter() - started
    runs = {workers: load_workbench(url, folder, cases, workers) for workers in WORKERS}
    with dbmod.session_scope(url) as session:
        chain = audit.verify(session)[1]
    lines = [f"### {CLIENTS} clients at once, {label}", "",
             f"{CLIENTS} concurrent clients (each a signed-in reviewer with one assigned case; httpx on one event "
             f"loop, sharing the 2 cores with the server) for {SECONDS:.0f} s against `openimr serve` on loopback "
             f"({label}, {LETTERS} real letters in the library, {CLIENTS} reviewers and cases added in {setup_s:.0f} s); 70% reads (queue, "
             "case page and JSON, precedent search, stats, letters), 30% writes (the reviewer's decision on an "
             "item)" + (", and the same clients against a bare FastAPI endpoint (`GET /hello` answering a "
                        "constant JSON, on the same uvicorn, one process) in the same run" if hello else "") + ".",
             "",
             "| server | processes | requests | kind | rate /s | p50 ms | p95 ms | 5xx | dropped |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    if hello:
        h = hello["all"]
        lines.append(f"| bare FastAPI `/hello` | 1 | {h['n']} | read | {h['rate']:.0f} | {h['p50']:.0f} | "
                     f"{h['p95']:.0f} | {h['errors']} | {h['dropped']} |")
    for workers, run in runs.items():
        for kind in ("read", "write", "all"):
            m = run[kind]
            lines.append(f"| workbench | {workers} | {m['n']} | {kind} | {m['rate']:.0f} | {m['p50']:.0f} | "
                         f"{m['p95']:.0f} | {m['errors']} | {m['dropped']} |")
    lines.append("")
    for workers, run in runs.items():
        m = run["all"]
        ratio = (f"; against the bare endpoint: {m['rate'] / hello['all']['rate']:.1%} of its requests/s, "
                 f"p95 {m['p95'] / hello['all']['p95']:.1f}×" if hello else "")
        lines.append(f"- {workers} process{'es' if workers > 1 else ''}: answered {run['start_s']:.1f} s after "
                     f"its start{ratio}; 4xx: {m['refused']}; acknowledged writes {run['writes']}, lost "
                     f"**{run['lost']}**.")
    if len(runs) > 1:
        one, two = runs[WORKERS[0]]["all"], runs[WORKERS[-1]]["all"]
        lines.append(f"- {WORKERS[-1]} processes against {WORKERS[0]}: requests/s ×{two['rate'] / one['rate']:.2f}, "
                     f"p95 ×{two['p95'] / one['p95']:.2f}.")
    lines += ["", f"Audit chain after the runs: {'intact' if not chain else f'{len(chain)} problems, first: ' + chain[0]}."]
    return "\n".join(lines) + "\n"


def run() -> str:
    """The Markdown section of docs/benchmarks.md."""
    sections = []
    hello = None
    with tempfile.TemporaryDirectory() as folder:
        sections.append(pages_section(Path(folder)))
        hello = load_hello(Path(folder))
        if "sqlite" in BACKENDS:  # the load on the same database, the demo's letters already in
            sections.append(load_section(f"sqlite:///{Path(folder) / 'demo.sqlite'}", "embedded SQLite",
                                         Path(folder), hello, letters_in=True))
    if "postgresql" in BACKENDS:  # BENCH_WEB_BACKENDS=sqlite,postgresql (about a minute more)
        from tests.support import pgserver

        server = pgserver.start()
        try:
            with tempfile.TemporaryDirectory() as folder:
                sections.append(load_section(server.create_database("bench_web"),
                                             "PostgreSQL 15 (throw-away, loopback)", Path(folder), hello))
        finally:
            server.stop()
    return "\n".join(sections)


if __name__ == "__main__":  # pragma: no cover
    print(run())
