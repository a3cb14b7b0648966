"""`openimr user add|list`, `openimr serve --help`, `openimr demo --no-serve`."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from openimr.cli import app

runner = CliRunner()


def test_user_add_links_a_reviewer_to_the_panel_and_lists_as_json(sqlite_url, monkeypatch, tmp_path):
    """The account only links to the panel's record (`--panel-id`): licences, specialties and
    whether the reviewer may sign come from that record."""
    monkeypatch.setenv("OPENIMR_PASSWORD", "a long password")
    panel = [{"id": "R-LEE", "name": "Dr. Lee", "profession": "MD", "licenses": [{"state": "CA", "type": "MD"}],
              "board_certifications": [{"board": "American Board of Anesthesiology", "specialty": "Pain Medicine"}],
              "years_active_practice": 9, "hours_per_week": 30}]
    (tmp_path / "panel.json").write_text(json.dumps(panel))
    assert runner.invoke(app, ["panel", "add", str(tmp_path / "panel.json"), "--db", sqlite_url]).exit_code == 0
    result = runner.invoke(app, ["user", "add", "drlee", "--role", "reviewer", "--panel-id", "R-LEE", "--name", "Dr. Lee",
                                 "--db", sqlite_url, "--json"])
    assert result.exit_code == 0, result.output
    added = json.loads(result.output)
    assert (added["role"], added["panel_reviewer_id"], added["may_sign"]) == ("reviewer", "R-LEE", True)
    assert added["licensure"] == ["California"] and added["specialties"] == ["Pain Medicine"]
    assert "password" not in result.output
    clerk = runner.invoke(app, ["user", "add", "clerk", "--role", "intake", "--db", sqlite_url])
    assert clerk.exit_code == 0 and clerk.output.strip() == "added clerk (intake)"
    listed = runner.invoke(app, ["user", "list", "--db", sqlite_url, "--json"])
    assert [json.loads(line)["username"] for line in listed.output.splitlines()] == ["drlee", "clerk"]
    plain = runner.invoke(app, ["user", "list", "--db", sqlite_url]).output.splitlines()
    assert plain[0] == "drlee\treviewer (panel R-LEE, may sign)\tDr. Lee"


def test_user_add_refuses_bad_input_with_one_line(sqlite_url, monkeypatch):
    monkeypatch.setenv("OPENIMR_PASSWORD", "a long password")
    for args, field in ((["x", "--role", "boss"], "role"), (["bad name!", "--role", "qa"], "username"),
                        (["nurse", "--role", "qa", "--panel-id", "R-1"], "panel_id"),
                        (["drno", "--role", "reviewer", "--panel-id", "R-NONE"], "panel_id")):
        result = runner.invoke(app, ["user", "add", *args, "--db", sqlite_url])
        assert result.exit_code == 1
        assert result.output.strip().startswith(f"error: {field}:") and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
    monkeypatch.setenv("OPENIMR_PASSWORD", "short")
    result = runner.invoke(app, ["user", "add", "ok", "--role", "qa", "--db", sqlite_url])
    assert result.exit_code == 1 and "password" in result.output


def test_help_has_examples():
    for command in (["serve"], ["user", "add"], ["user", "list"], ["demo"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command


def test_demo_sets_up_letters_users_and_a_case(tmp_path, letter_pdfs):
    folder = tmp_path / "letters"
    folder.mkdir()
    for pdf in letter_pdfs[:6]:
        (folder / pdf.name).write_bytes(pdf.read_bytes())
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    command = [sys.executable, "-m", "openimr.cli", "demo", "--db", url, "--letters", str(folder), "--no-serve"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "6 letters added" in first.stdout and "password 'openimr-demo'" in first.stdout
    assert "/cases/1" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert "0 letters added, 6 already there" in again.stdout and "/cases/1" in again.stdout


def _answers(url: str, seconds: float) -> int | None:
    """The status of `url` once the server started in the background answers it (None: it never did)."""
    import time

    import httpx

    deadline, status = time.monotonic() + seconds, None
    while time.monotonic() < deadline and status != 200:
        try:
            status = httpx.get(url, timeout=2).status_code
        except httpx.HTTPError:
            time.sleep(0.2)
    return status


def test_serve_answers_on_loopback(tmp_path):
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    process = subprocess.Popen([sys.executable, "-m", "openimr.cli", "serve", "--db", url, "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _answers(f"http://127.0.0.1:{port}/login", 60) == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/cases").status_code == 401
        assert "/api/cases" in httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["paths"]
    finally:
        process.terminate()
        process.wait(20)


def test_serve_with_two_workers_shares_one_database_between_its_processes(db_url, monkeypatch):
    """`openimr serve --workers 2`: two server processes on one port; a session made through
    one is good in both, and signing out ends it in both (SQLite and PostgreSQL)."""
    import socket

    import httpx
    import psutil

    monkeypatch.setenv("OPENIMR_PASSWORD", "a long password")
    assert runner.invoke(app, ["user", "add", "clerk", "--role", "intake", "--db", db_url]).exit_code == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "openimr.cli", "serve", "--db", db_url, "--port", str(port),
                                "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _answers(f"{base}/healthz", 90) == 200
        servers = [p for p in psutil.Process(process.pid).children() if "spawn_main" in " ".join(p.cmdline())]
        assert len(servers) == 2
        login = httpx.post(f"{base}/api/login", json={"username": "clerk", "password": "a long password"})
        assert login.status_code == 200
        cookies, csrf = dict(login.cookies), login.json()["csrf_token"]
        # a new connection each time: the kernel hands them to either process
        for _ in range(12):
            me = httpx.get(f"{base}/api/me", cookies=cookies)
            assert me.status_code == 200 and me.json()["username"] == "clerk"
        assert httpx.post(f"{base}/api/logout", cookies=cookies, headers={"X-CSRF-Token": csrf}).status_code == 204
        assert {httpx.get(f"{base}/api/me", cookies=cookies).status_code for _ in range(12)} == {401}
    finally:
        process.terminate()
        process.wait(30)
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in servers)


def test_serve_refuses_a_number_of_workers_out_of_range(sqlite_url):
    for bad in ("0", "17"):
        result = runner.invoke(app, ["serve", "--db", sqlite_url, "--workers", bad])
        assert result.exit_code == 2 and "--workers" in result.output
