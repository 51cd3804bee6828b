"""Our SQLite handling: the file and folder are created private, connections run with
foreign keys and WAL. These use their own temporary SQLite file, whatever the backend
under test, since they check pmp-intel's SQLite setup rather than the database."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from pmp_intel.store.engine import create_db_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "sub" / "dir" / "x.db"


@pytest.fixture
def sqlite_engine(sqlite_file: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{sqlite_file}")
    yield engine
    engine.dispose()


def test_engine_creates_the_folder_and_a_0600_file(
    sqlite_file: Path, sqlite_engine: Engine
) -> None:
    assert not sqlite_file.with_name("x.db-wal").exists()  # nothing opened yet
    assert sqlite_file.parent.is_dir()
    assert sqlite_file.is_file()
    assert _mode(sqlite_file) == 0o600
    assert _mode(sqlite_file.parent) & 0o077 == 0  # the leaf folder is private too


def test_file_stays_private_after_a_write_and_so_do_wal_side_files(
    sqlite_file: Path, sqlite_engine: Engine
) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        conn.execute(text("INSERT INTO t (v) VALUES ('inventory')"))
    with sqlite_engine.connect() as conn:  # the pooled connection keeps the WAL open
        assert conn.execute(text("SELECT v FROM t")).scalar_one() == "inventory"
        side_files = [
            p
            for p in (sqlite_file.with_name("x.db-wal"), sqlite_file.with_name("x.db-shm"))
            if p.exists()
        ]
        assert sqlite_file.with_name("x.db-wal") in side_files  # WAL mode really is on
        for path in [sqlite_file, *side_files]:
            assert _mode(path) & 0o077 == 0, f"{path.name} is {oct(_mode(path))}"
    assert _mode(sqlite_file) == 0o600


def test_existing_world_readable_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"
    path.touch()
    path.chmod(0o644)
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        assert _mode(path) == 0o600
        with engine.connect() as conn:  # and it is still a usable database
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_existing_private_file_keeps_its_content(tmp_path: Path) -> None:
    path = tmp_path / "kept.db"
    first = create_db_engine(f"sqlite:///{path}")
    with first.begin() as conn:
        conn.execute(text("CREATE TABLE kept (v INTEGER)"))
        conn.execute(text("INSERT INTO kept VALUES (42)"))
    first.dispose()
    again = create_db_engine(f"sqlite:///{path}")
    try:
        with again.connect() as conn:
            assert conn.execute(text("SELECT v FROM kept")).scalar_one() == 42
        assert _mode(path) == 0o600
    finally:
        again.dispose()


def test_file_is_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        engine = create_db_engine(f"sqlite:///{tmp_path / 'open' / 'umask.db'}")
    finally:
        os.umask(previous)
    engine.dispose()
    assert _mode(tmp_path / "open" / "umask.db") == 0o600


def test_tilde_in_the_path_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    engine = create_db_engine("sqlite:///~/.pmp-intel/pmp.db")
    engine.dispose()
    created = tmp_path / "home" / ".pmp-intel" / "pmp.db"
    assert created.is_file()
    assert _mode(created) == 0o600
    assert not (tmp_path / "~").exists()


def test_connections_enforce_foreign_keys_and_use_wal(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one().lower() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() > 0


def test_every_pooled_connection_is_configured(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as a, sqlite_engine.connect() as b:
        assert a.connection.dbapi_connection is not b.connection.dbapi_connection
        for conn in (a, b):
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_foreign_key_violation_is_refused(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(
            text("CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id))")
        )
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), sqlite_engine.begin() as conn:
        conn.execute(text("INSERT INTO child (p) VALUES (99)"))


def test_in_memory_database_creates_no_file(tmp_path: Path) -> None:
    engine = create_db_engine("sqlite://")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        engine.dispose()
    assert list(tmp_path.iterdir()) == []
