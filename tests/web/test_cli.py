"""`openimr user add|list`, `openimr serve --help`, `openimr demo --no-serve`."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from openimr.cli import app

runner = CliRunner()


def test_user_add_and_list_as_json(sqlite_url, monkeypatch):
    monkeypatch.setenv("OPENIMR_PASSWORD", "a long password")
    result = runner.invoke(app, ["user", "add", "drlee", "--role", "reviewer", "--clinician", "--name", "Dr. Lee",
                                 "--licensure", "California", "--specialty", "Pain Medicine", "--db", sqlite_url,
                                 "--json"])
    assert result.exit_code == 0, result.output
    added = json.loads(result.output)
    assert added["role"] == "reviewer" and added["clinician"] is True and "password" not in result.output
    listed = runner.invoke(app, ["user", "list", "--db", sqlite_url, "--json"])
    assert [json.loads(line)["username"] for line in listed.output.splitlines()] == ["drlee"]


def test_user_add_refuses_bad_input_with_one_line(sqlite_url, monkeypatch):
    monkeypatch.setenv("OPENIMR_PASSWORD", "a long password")
    for args, field in ((["x", "--role", "boss"], "role"), (["bad name!", "--role", "qa"], "username"),
                        (["nurse", "--role", "qa", "--clinician"], "clinician")):
        result = runner.invoke(app, ["user", "add", *args, "--db", sqlite_url])
        assert result.exit_code == 1
        assert result.output.strip().startswith(f"error: {field}:") and "Traceback" not in result.output
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


def test_serve_answers_on_loopback(tmp_path):
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    process = subprocess.Popen([sys.executable, "-m", "openimr.cli", "serve", "--db", url, "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code
            except httpx.HTTPError:
                time.sleep(0.2)
        assert status == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/cases").status_code == 401
        assert "/api/cases" in httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["paths"]
    finally:
        process.terminate()
        process.wait(20)
