"""A throw-away PostgreSQL server on loopback, for tests and benchmarks.

Runs Debian's PostgreSQL 15 binaries in a temporary directory. The server refuses to run
as root, so as root it runs as the unprivileged `postgres` user (created by the Debian
package). Stop it with `stop()`; the directory is removed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("OPENIMR_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PostgresServer:
    """A running throw-away server. `url` is a SQLAlchemy/psycopg URL to its database."""

    port: int
    datadir: Path
    process: subprocess.Popen
    database: str = "openimr"
    _root: Path = field(default=None)  # type: ignore[assignment]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def create_database(self, name: str) -> str:
        """Create another database on this server and return its URL."""
        subprocess.run(
            _as_server_user([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name]),
            check=True,
            capture_output=True,
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.process.poll() is None:
            subprocess.run(
                _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"]),
                capture_output=True,
            )
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self._root, ignore_errors=True)


def available() -> bool:
    """True when the PostgreSQL server binaries are installed."""
    return (PG_BIN / "initdb").exists()


def start(database: str = "openimr") -> PostgresServer:
    """Initialise and start a server in a fresh temp dir; wait until it accepts connections."""
    if not available():
        raise RuntimeError(f"PostgreSQL server binaries not found in {PG_BIN}: run `make system-deps`")
    root = Path(tempfile.mkdtemp(prefix="openimr-pg-"))
    datadir = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        os.chmod(root, 0o700)
    subprocess.run(
        _as_server_user([str(PG_BIN / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    process = subprocess.Popen(
        _as_server_user([
            str(PG_BIN / "postgres"), "-D", str(datadir), "-p", str(port), "-h", "127.0.0.1",
            "-k", str(root), "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=200",
        ]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = PostgresServer(port=port, datadir=datadir, process=process, database=database, _root=root)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
        )
        if ready.returncode == 0:
            break
        if process.poll() is not None:
            raise RuntimeError("throw-away PostgreSQL server exited at start")
        time.sleep(0.1)
    else:
        server.stop()
        raise RuntimeError("throw-away PostgreSQL server did not start within 30 s")
    server.create_database(database)
    return server
