"""Shared fixtures: one migrated database per test session, a rolled-back session per test.

The backend is SQLite unless ``PMP_INTEL_TEST_DATABASE_URL`` names a PostgreSQL server; then
every database test runs there, in a fresh database created for this session and dropped
after it. An unreachable PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.migrate import upgrade

TEST_URL_ENV = "PMP_INTEL_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may read or write the user's real ~/.maia or configuration."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if (name.startswith(("PMP_", "SLACK_")) or name == "POST_EXTRACTION_HOOK") and (
            name not in (TEST_URL_ENV, "PMP_INTEL_FUZZ_EXAMPLES")
        ):
            monkeypatch.delenv(name)


def _server_url() -> URL | None:
    raw = os.environ.get(TEST_URL_ENV)
    return make_url(raw) if raw else None


class PostgresDatabases:
    """Creates and drops throw-away databases on the test PostgreSQL server."""

    def __init__(self, server: URL) -> None:
        self.server = server
        self.admin = create_engine(server, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def check_reachable(self) -> None:
        try:
            with self.admin.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to connect ends the run, never a skip
            pytest.exit(
                f"{TEST_URL_ENV} is set but PostgreSQL is not reachable: "
                f"{str(exc).splitlines()[0]}",
                returncode=1,
            )

    def create(self) -> URL:
        name = f"pmp_intel_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.server.set(database=name)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases | None]:
    """The PostgreSQL database factory, or None when the suite runs on SQLite."""
    server = _server_url()
    if server is None:
        yield None
        return
    databases = PostgresDatabases(server)
    databases.check_reachable()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def backend(postgres_databases: PostgresDatabases | None) -> str:
    """``sqlite`` or ``postgresql``: the backend this run tests."""
    return "sqlite" if postgres_databases is None else "postgresql"


@pytest.fixture
def fresh_database_url(postgres_databases: PostgresDatabases | None, tmp_path: Path) -> str:
    """An empty (never migrated) database of the backend under test."""
    if postgres_databases is None:
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return postgres_databases.create().render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(
    postgres_databases: PostgresDatabases | None, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """URL of the session's migrated database."""
    if postgres_databases is None:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'pmp_intelligence.db'}"
    return postgres_databases.create().render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the session's database, migrated to head."""
    eng = create_db_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()
