"""Engines and sessions for the unified database.

SQLite is the embedded default: its folder is created, the file is created with mode 0600
before SQLite ever opens it, and every connection runs with foreign keys on, WAL journaling
and a busy timeout. Transactions are begun explicitly (``BEGIN``) so that SAVEPOINTs and
"one transaction per batch of pages" mean on SQLite what they mean on PostgreSQL.

A file that already holds another program's tables (no ``alembic_version``; e.g. the old
Maia migrator's ``pmp_intelligence.db`` at the default path) is changed by nothing here: its
mode is kept and WAL is not switched on; the migrations then refuse it
(:func:`pmp_intel.store.migrate.refuse_foreign`).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.errors import ConfigurationError, DatabaseError
from pmp_intel.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000


def parse_database_url(url: str | URL) -> URL:
    """Parse a SQLAlchemy URL, expanding ``~`` in SQLite paths; one clear error if invalid."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"database URL is not valid ({exc}); expected e.g. sqlite:///path/file.db "
            "or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        assert parsed.database is not None
        parsed = parsed.set(database=str(Path(parsed.database).expanduser()))
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file of a file-backed SQLite URL, else None."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if str(url.database).startswith("file:"):
        return None
    return Path(str(url.database))


#: SQL: the number of tables and whether ``alembic_version`` is one of them.
_TABLES_SQL = (
    "SELECT count(*), coalesce(sum(name = 'alembic_version'), 0) FROM sqlite_master "
    "WHERE type = 'table' AND name NOT LIKE 'sqlite~_%' ESCAPE '~'"
)


def _foreign(count: int, versioned: int) -> bool:
    return count > 0 and not versioned


def is_foreign_sqlite_file(path: Path) -> bool:
    """True when the SQLite file ``path`` is not (and cannot become) a pmp-intel database:
    it holds tables but no ``alembic_version``, or is no SQLite database at all. Read
    through a read-only connection; a missing or empty file is not foreign."""
    try:
        if path.stat().st_size == 0:
            return False
    except OSError:
        return False
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return True
    try:
        count, versioned = probe.execute(_TABLES_SQL).fetchone()
    except sqlite3.Error:
        return True
    finally:
        probe.close()
    return _foreign(int(count), int(versioned))


def prepare_sqlite_file(path: Path) -> None:
    """Create the SQLite file's folder and the file itself with mode 0600.

    An existing file is left as it is, but a group- or world-readable one is tightened to
    0600 (it holds the estate's inventory) unless it is another program's database, which
    pmp-intel does not change at all.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077 and not is_foreign_sqlite_file(path):
            path.chmod(0o600)
    else:
        os.close(fd)
        path.chmod(0o600)  # in case the umask was stricter than needed; never looser


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (pysqlite's own would defer BEGIN and
        # break SAVEPOINT); see the SQLAlchemy pysqlite "serializable isolation" notes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if engine.url.database not in (None, "", ":memory:"):
                count, versioned = cursor.execute(_TABLES_SQL).fetchone()
                # WAL is a change to the file: never made to another program's database
                if not _foreign(int(count), int(versioned)):
                    cursor.execute("PRAGMA journal_mode = WAL")
                    cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(SQLITE_BEGIN) == "immediate"
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_db_engine(
    url: str | URL | None = None, *, settings: Settings | None = None, **kwargs: Any
) -> Engine:
    """An engine for ``url`` (or the configured ``PMP_INTEL_DATABASE_URL``).

    For a SQLite file this also creates its folder and the 0600 file. Raises
    :class:`ConfigurationError` for a malformed URL or a driver that is not installed.
    """
    if url is None:
        url = (settings or Settings()).database_url
    parsed = parse_database_url(url)
    path = sqlite_path(parsed)
    if path is not None:
        try:
            prepare_sqlite_file(path)
        except OSError as exc:  # read-only or missing folder, a folder in the file's place
            raise DatabaseError(
                f"cannot create the database file {path}: {exc.strerror or exc}"
            ) from None
    kwargs.setdefault("pool_pre_ping", parsed.get_backend_name() != "sqlite")
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = " (pip install 'pmp-intel[postgres]')" if "postgres" in parsed.drivername else ""
        raise ConfigurationError(
            f"no database driver for {parsed.drivername!r}: {exc}{hint}"
        ) from None
    except ArgumentError as exc:
        raise ConfigurationError(f"database URL is not usable: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


#: Connection execution option: ``"immediate"`` makes SQLite begin the transaction with
#: ``BEGIN IMMEDIATE``. A deferred SQLite transaction that reads and then writes fails at
#: once with "database is locked" when another connection committed after its read began
#: (the busy timeout does not apply to that upgrade); an immediate one takes the write
#: lock at its start, waiting up to the busy timeout. Readers keep deferred transactions,
#: which never block (WAL).
SQLITE_BEGIN = "pmp_intel_sqlite_begin"
WRITER_OPTIONS: dict[str, Any] = {SQLITE_BEGIN: "immediate"}


def begin_writing(session: Session) -> Connection:
    """Start ``session``'s transaction as a writer (``BEGIN IMMEDIATE`` on SQLite); call it
    before the session runs anything. Returns the session's connection."""
    return session.connection(execution_options=WRITER_OPTIONS)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine_or_factory: Engine | sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll back if it raises.

    >>> with unit_of_work(engine) as session:  # doctest: +SKIP
    ...     session.add(Source(name="prod"))
    """
    factory = (
        session_factory(engine_or_factory)
        if isinstance(engine_or_factory, Engine)
        else engine_or_factory
    )
    with factory() as session, session.begin():
        begin_writing(session)
        yield session


def redacted_url(url: str | URL) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return parse_database_url(url).render_as_string(hide_password=True)
    except ConfigurationError:
        return "<invalid database URL>"
