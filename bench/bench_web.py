"""Load test of the workbench on loopback: 50 concurrent clients for 60 s mixing reads and
writes against `openimr serve` (uvicorn, embedded SQLite). Reports p50/p95 latency, the
request rate, any 5xx, and checks that no acknowledged write was lost."""

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
SECONDS = float(os.environ.get("BENCH_WEB_SECONDS", "60"))
LETTERS = int(os.environ.get("BENCH_WEB_LETTERS", "60"))
BACKENDS = os.environ.get("BENCH_WEB_BACKENDS", "sqlite,postgresql").split(",")
PASSWORD = "bench password"
SHARED = Path(os.environ.get("OPENIMR_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
READS = ("/api/cases", "/api/cases/{case}", "/api/search?q={query}", "/api/stats?by=category",
         "/api/letters?page={page}", "/cases/{case}")
QUERIES = ("lumbar MRI", "physical therapy", "opioid", "acupuncture", "epidural injection", "Norco")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_up(url: str) -> dict[str, int]:
    """Letters in the library, one clinician reviewer per client, each with an assigned case."""
    from openimr import db as dbmod
    from openimr.demo import demo_application, load_letters
    from openimr.library import store as library
    from openimr.web import auth, workflow

    dbmod.migrate(url)
    load_letters(url, sorted((SHARED / "data" / "letters").glob("*.pdf"))[:LETTERS], workers=2)
    with dbmod.session_scope(url) as session:
        intake = auth.principal_of(auth.create_user(session, "intake", PASSWORD, "intake"), "")
        admin = auth.principal_of(auth.create_user(session, "admin", PASSWORD, "admin"), "")
        letters = [library.get_letter(session, r.id) for r in library.list_letters(session, 1, 500).items if r.items]
    cases = {}
    for n in range(CLIENTS):
        with dbmod.session_scope(url) as session:
            reviewer = auth.create_user(session, f"rev{n}", PASSWORD, "reviewer", f"Reviewer {n}", True,
                                        ["California"], ["Physical Medicine & Rehabilitation"])
        with dbmod.session_scope(url) as session:  # one transaction: the case part's row, then the workbench's
            application, documents = demo_application(letters[n % len(letters)], date.today())
            application["employee"] = {"name": f"Bench Worker {n}"}
            case = workflow.create_case(session, intake, application, documents)
            workflow.assign(session, admin, case, reviewer.id)
            cases[f"rev{n}"] = case.id
    return cases


def serve(url: str, port: int, log_path: Path) -> subprocess.Popen:
    """`openimr serve` in its own process (its log to a file); returns once it answers."""
    import httpx

    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "openimr.cli", "serve", "--db", url, "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start: " + log_path.read_text()[-500:])


async def sign_in(http, username: str, case_id: int) -> int:
    """Sign in and open the case once (the engine drafts it); its number of items."""
    login = await http.post("/api/login", json={"username": username, "password": PASSWORD})
    if login.status_code != 200:
        raise RuntimeError(f"{username}: sign-in answered {login.status_code}: {login.text[:300]}")
    http.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return len((await http.get(f"/api/cases/{case_id}")).json()["disputed_items"])


async def client(http, username: str, case_id: int, items: int, seconds: float, log: list, writes: list) -> None:
    """One reviewer reading and writing at random for `seconds`."""
    import httpx

    rng = random.Random(username)
    until = time.monotonic() + seconds
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


async def load(base: str, cases: dict[str, int], log: list, writes: list) -> float:
    """Every client signs in (warm-up, not measured), then all run together; the seconds run."""
    import httpx

    clients = [httpx.AsyncClient(base_url=base, timeout=120) for _ in cases]
    try:
        items = await asyncio.gather(*(sign_in(http, user, case) for http, (user, case) in zip(clients, cases.items())))
        began = time.perf_counter()
        await asyncio.gather(*(client(http, user, case, n, SECONDS, log, writes)
                               for http, (user, case), n in zip(clients, cases.items(), items)))
        return time.perf_counter() - began
    finally:
        for http in clients:
            await http.aclose()


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


def run() -> str:
    """The Markdown section of docs/benchmarks.md: the same load on each backend."""
    sections = []
    for backend in BACKENDS:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                sections.append(run_on(f"sqlite:///{Path(folder) / 'bench.sqlite'}", "embedded SQLite", Path(folder)))
        else:
            from tests.support import pgserver

            server = pgserver.start()
            try:
                with tempfile.TemporaryDirectory() as folder:
                    sections.append(run_on(server.create_database("bench_web"), "PostgreSQL 15 (throw-away, "
                                           "loopback)", Path(folder)))
            finally:
                server.stop()
    return "\n".join(sections)


def run_on(url: str, label: str, folder: Path) -> str:
    """Set up, serve, load and check one database; its Markdown part."""
    from sqlalchemy import func, select

    from openimr import db as dbmod
    from openimr.cases import audit
    from openimr.cases.tables import DecisionRow

    started = time.perf_counter()
    cases = set_up(url)
    setup_s = time.perf_counter() - started
    port = _free_port()
    process = serve(url, port, folder / "server.log")
    log, writes = [], []
    try:
        elapsed = asyncio.run(load(f"http://127.0.0.1:{port}", cases, log, writes))
    except Exception:
        print((folder / "server.log").read_text()[-200000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)
    with dbmod.session_scope(url) as session:
        stored = set(session.scalars(select(DecisionRow.id)))
        total_rows = session.scalar(select(func.count()).select_from(DecisionRow))
        chain = audit.verify(session)[1]
    return _report(log, writes, stored, total_rows, elapsed, setup_s, label) + (
        f"\nAudit chain after the run: {'intact' if not chain else f'{len(chain)} problems, first: ' + chain[0]}.\n")


def _report(log, writes, stored, total_rows, elapsed, setup_s, label: str) -> str:
    lost = [w for w in writes if w not in stored]
    errors = sum(1 for _k, status, _t in log if status >= 500)
    dropped = sum(1 for _k, status, _t in log if status == 0)
    other = sum(1 for _k, status, _t in log if 400 <= status < 500)
    heading = "## Web workbench under load (bench_web)\n\n" if label == "embedded SQLite" else ""
    lines = [
        f"{heading}### {label}",
        "",
        f"{CLIENTS} concurrent clients (each a signed-in clinician reviewer with one assigned case) for "
        f"{SECONDS:.0f} s against `openimr serve` on loopback (one uvicorn process, {label}, "
        f"{LETTERS} real letters in the library); 70% reads (queue, case page and JSON, precedent search, "
        f"stats, letters), 30% writes (the reviewer's decision on an item). Set-up took {setup_s:.0f} s.",
        "",
        "| requests | kind | p50 ms | p95 ms | rate /s |",
        "|---:|---|---:|---:|---:|",
    ]
    for kind in ("read", "write", "all"):
        times = [t for k, _s, t in log if kind in (k, "all")]
        lines.append(f"| {len(times)} | {kind} | {_pct(times, 50):.0f} | {_pct(times, 95):.0f} | "
                     f"{len(times) / elapsed:.0f} |")
    lines += ["", f"5xx responses: **{errors}**; dropped connections: **{dropped}**; 4xx: {other}; "
              f"acknowledged writes: {len(writes)}, "
              f"found in the database afterwards: {len(writes) - len(lost)} (lost: **{len(lost)}**; "
              f"decision rows stored: {total_rows})."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(run())
