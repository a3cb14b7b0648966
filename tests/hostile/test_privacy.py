"""No secrets or health information in errors and logs: database errors never show bound
parameters, on every engine; two demos on one default database do not crash each other."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from openimr import db as dbmod

SECRET_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0c2FsdA$SECRET-HASH-NEVER-SHOWN"
HEALTH = "lumbar fusion L4-L5, depression, opioid use disorder"


def _engines(url: str):
    from openimr.web.app import web_engine

    return {"engine_for": dbmod.engine_for(dbmod.normalise_url(url)), "web_engine": web_engine(dbmod.normalise_url(url))}


def test_database_errors_show_no_bound_parameters_in_errors_or_logs(db_url, caplog):
    from openimr.web.tables import User

    dbmod.migrate(db_url)
    row = dict(username="dup", display_name=HEALTH, password_hash=SECRET_HASH, role="qa", active=True)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # even with SQL logging turned on
    for name, engine in _engines(db_url).items():
        with engine.begin() as connection:
            connection.execute(insert(User).values(**{**row, "username": f"dup-{name}"}))
        with pytest.raises(IntegrityError) as error, engine.begin() as connection:
            connection.execute(insert(User).values(**{**row, "username": f"dup-{name}"}))
        shown = str(error.value)
        assert "hidden" in shown and "INSERT INTO web_users" in shown, shown  # the statement, not its values
        for secret in (SECRET_HASH, HEALTH, "SECRET-HASH"):
            assert secret not in shown, name
            assert secret not in caplog.text, name
    assert "INSERT INTO web_users" in caplog.text  # the log was on: the check above means something


def _run_demo(env: dict, args: list[str]) -> subprocess.Popen:
    openimr = str(Path(sys.executable).with_name("openimr"))
    return subprocess.Popen([openimr, "demo", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def demo_env(tmp_path, letter_pdfs):
    letters = tmp_path / "letters"
    letters.mkdir()
    for pdf in letter_pdfs[:3]:
        shutil.copy(pdf, letters / pdf.name)
    from openimr.library.embed import model_dir

    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "OPENIMR_MODEL_DIR": str(model_dir())}
    env.pop("OPENIMR_DB", None)
    return env, letters


def _clean(output: str) -> None:
    for bad in ("Traceback", "$argon2", "[parameters:", "IntegrityError", "OperationalError", "locked"):
        assert bad not in output, output[-3000:]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_demos_on_one_database_do_not_crash_each_other(demo_env, backend, request):
    env, letters = demo_env
    args = ["--no-serve", "--letters", str(letters)]
    if backend == "postgresql":  # SQLite: the default database (under XDG_DATA_HOME)
        args += ["--db", request.getfixturevalue("postgres_server").create_database("d_" + os.urandom(6).hex())]
    runs = [_run_demo(env, args) for _ in range(2)]
    outputs = [run.communicate(timeout=180) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        text = out.decode() + err.decode()
        assert run.returncode == 0, text[-3000:]
        _clean(text)
    added = sorted(int(out.decode().split("library: ")[1].split()[0]) for out, _ in outputs)
    assert added == [0, 3]  # one demo put the letters in, the other found them there
    if backend == "sqlite":
        assert (Path(env["XDG_DATA_HOME"]) / "openimr" / "openimr.sqlite").exists()


def test_a_second_demo_on_a_taken_port_says_so_in_one_line(demo_env):
    env, letters = demo_env
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    first = _run_demo(env, ["--letters", str(letters), "--port", str(port)])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        second = _run_demo(env, ["--letters", str(letters), "--port", str(port)])
        out, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert err.decode().strip().splitlines()[-1] == (
            f"error: 127.0.0.1:{port} is in use (Address already in use): another workbench is running there; "
            "choose another --port")
        _clean(out.decode() + err.decode())
        assert first.poll() is None  # the first one still serves
    finally:
        first.terminate()
        first.wait(timeout=30)
