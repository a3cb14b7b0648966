"""The database: one SQLAlchemy engine per URL, the declarative base, and migrations.

SQLite (embedded, the default) and PostgreSQL run the same code. Each part of the system
(library, cases, panel, web) keeps its tables in its own module and its own Alembic
branch; `migrate` brings every branch to its head.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base of every OpenIMR table."""


def default_url() -> str:
    """The embedded SQLite database under the user's data dir, or $OPENIMR_DB."""
    if env := os.environ.get("OPENIMR_DB"):
        return env
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("openimr", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'openimr.sqlite'}"


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


SQLITE_PRAGMAS = ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=60000")


def sqlite_engine(url: str, **options) -> Engine:
    """A SQLite engine set up for concurrent use: the database's folder created, a 60 s busy
    timeout, connections usable from any thread, and SQLITE_PRAGMAS on every connection.
    `options` go to create_engine (e.g. a pool class)."""
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False}, hide_parameters=True,
                           **options)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return engine


@lru_cache(maxsize=32)
def engine_for(url: str) -> Engine:
    """One engine per database URL (cached), with SQLite set up for concurrent use."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)  # no bound values in errors or logs


def migrate(url: str) -> None:
    """Create or upgrade the schema: every Alembic branch to its head."""
    from alembic import command
    from alembic.config import Config

    engine = engine_for(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with exclusive(url, "migrate"), engine.begin() as connection:  # one process at a time
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


@contextmanager
def exclusive(url: str, name: str, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the database's lock `name`, waiting for it (`on_wait()` first, when another
    process holds it): a second process setting up the same database waits its turn instead
    of racing it. SQLite: a lock file beside the database; PostgreSQL: an advisory lock."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if not path or path == ":memory:":
            yield
            return
        import fcntl

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.{name}.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    import zlib

    from sqlalchemy import text

    key = zlib.crc32(f"openimr:{name}".encode())
    with engine_for(url).connect() as connection:
        if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}):
            if on_wait:
                on_wait()
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    maker = sessionmaker(bind=engine_for(url), expire_on_commit=False)
    session = maker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
