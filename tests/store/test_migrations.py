"""The schema comes only from Alembic: upgrade, no drift, downgrade, and the packaged wheel."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import make_url

from pmp_intel.store.engine import create_db_engine, sqlite_path
from pmp_intel.store.migrate import (
    ForeignDatabaseError,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from pmp_intel.store.models import Base
from pmp_intel.store.schema import ensure_schema

REPO = Path(__file__).resolve().parents[2]


def _drift(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    assert _drift(engine) == []


def test_upgrade_creates_every_model_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert current_revision(engine) == head_revision()


def test_downgrade_to_base_and_back(fresh_database_url: str) -> None:
    engine = create_db_engine(fresh_database_url)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        assert current_revision(engine) is None
        upgrade(engine)
        assert _drift(engine) == []
    finally:
        engine.dispose()


def test_alembic_command_line_from_the_checkout(fresh_database_url: str) -> None:
    def alembic(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "alembic",
                "-c",
                str(REPO / "alembic.ini"),
                "-x",
                f"url={fresh_database_url}",
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
        )

    up = alembic("upgrade", "head")
    assert up.returncode == 0, up.stderr
    current = alembic("current")
    assert head_revision() in current.stdout
    down = alembic("downgrade", "base")
    assert down.returncode == 0, down.stderr


@pytest.mark.slow
def test_installed_wheel_ships_the_migrations(tmp_path: Path, fresh_database_url: str) -> None:
    """`pmp-intel db upgrade` works from a wheel, far from any checkout."""
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("pmp_intel-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    assert "pmp_intel/_migrations/env.py" in names
    assert any(n.startswith("pmp_intel/_migrations/versions/0001") for n in names)
    assert "pmp_intel/py.typed" in names

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    code = (
        "import sys, pmp_intel; from pmp_intel.cli import main; "
        "print(pmp_intel.__file__); sys.exit(main(sys.argv[1:]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "--database-url", fresh_database_url, "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith(str(tmp_path / "site"))
    assert head_revision() in run.stdout


def test_schema_head_constant_matches_alembic() -> None:
    from pmp_intel.store.schema import SCHEMA_HEAD

    assert head_revision() == SCHEMA_HEAD


def test_ensure_schema_upgrades_an_empty_database_once(fresh_database_url: str) -> None:
    from pmp_intel.store.schema import ensure_schema, stored_revision

    engine = create_db_engine(fresh_database_url)
    try:
        assert stored_revision(engine) is None
        ensure_schema(engine)
        assert stored_revision(engine) == head_revision()
        ensure_schema(engine)  # a no-op now
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


#: The old Maia migrator's pmp_intelligence.db, in brief (maia-legacy.md §3.1-3.2).
_MAIA_TABLES = (
    "CREATE TABLE snapshots (snapshot_id INTEGER PRIMARY KEY, timestamp TEXT, status TEXT)",
    "CREATE TABLE systems (system_id INTEGER PRIMARY KEY, snapshot_id INTEGER, "
    "resource_id TEXT, resource_name TEXT)",
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT)",
    "INSERT INTO snapshots VALUES (1, '2026-01-16 03:00:00', 'success')",
    "INSERT INTO systems VALUES (1, 1, '95000011194313', 'System-95000011194313')",
)


def _foreign(url: str, statements: tuple[str, ...]) -> None:
    """Create another program's tables without any pmp-intel connection setup."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        with sqlite3.connect(parsed.database) as conn:
            for statement in statements:
                conn.execute(statement)
        Path(parsed.database).chmod(0o644)
        return
    raw = create_engine(parsed)
    with raw.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    raw.dispose()


def _fingerprint(engine: Engine) -> object:
    path = sqlite_path(engine.url)
    if path is not None:
        siblings = sorted(p.name for p in path.parent.iterdir())
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return digest, stat.S_IMODE(path.stat().st_mode), siblings
    with engine.connect() as connection:
        return sorted(inspect(connection).get_table_names())


def test_a_database_with_tables_but_no_alembic_version_is_refused(
    fresh_database_url: str,
) -> None:
    """Every migration entry point refuses another program's database before it changes
    anything (on SQLite: byte-identical, same mode, still not in WAL mode)."""
    _foreign(fresh_database_url, _MAIA_TABLES)
    engine = create_db_engine(fresh_database_url)
    try:
        before = _fingerprint(engine)
        for attempt in (
            lambda: upgrade(engine),
            lambda: current_revision(engine),
            lambda: downgrade(engine, "base"),
            lambda: ensure_schema(engine),
        ):
            with pytest.raises(ForeignDatabaseError, match="no alembic_version") as raised:
                attempt()
            assert "schema_version, snapshots, systems" in str(raised.value)
        assert _fingerprint(engine) == before
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:  # pmp-intel's own connection setup: no WAL
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
            assert _fingerprint(engine) == before
    finally:
        engine.dispose()


def test_unrelated_tables_of_a_shared_postgresql_database_are_left_alone(
    fresh_database_url: str, backend: str
) -> None:
    """On PostgreSQL a database may be shared: only pmp-intel's or the old Maia tools' table
    names mark it as another program's. A SQLite file is one program's database."""
    _foreign(fresh_database_url, ("CREATE TABLE invoices (id INTEGER, amount REAL)",))
    engine = create_db_engine(fresh_database_url)
    try:
        if backend == "postgresql":
            upgrade(engine)
            assert current_revision(engine) == head_revision()
        else:
            with pytest.raises(ForeignDatabaseError, match="another program's database"):
                upgrade(engine)
    finally:
        engine.dispose()
