"""Make sure a database has the package's schema, importing Alembic only when it must.

Every extraction starts here. Reading ``alembic_version`` is one query; the Alembic machinery
(about 11 MB of a small process's memory) is loaded only when the database is behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from pmp_intel.errors import DatabaseError

#: The newest revision of alembic/versions (a test keeps it equal to Alembic's head).
SCHEMA_HEAD = "0003"
#: PostgreSQL advisory lock key held while one process upgrades ("pmpintel" in ASCII).
_UPGRADE_LOCK_KEY = 0x706D70696E74656C


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in the database, or None (empty database, no version table)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def ensure_schema(engine: Engine) -> None:
    """Upgrade the database to the package's head revision unless it is already there.

    On PostgreSQL, processes that find a new database at the same moment (two extractions
    started together) upgrade it once: the others wait for that upgrade and go on.
    """
    if stored_revision(engine) == SCHEMA_HEAD:
        return
    from pmp_intel.store.migrate import upgrade

    with _upgrade_lock(engine):
        if stored_revision(engine) == SCHEMA_HEAD:
            return
        try:
            upgrade(engine)
        except DatabaseError:
            if stored_revision(engine) != SCHEMA_HEAD:  # else another process just did it
                raise


@contextmanager
def _upgrade_lock(engine: Engine) -> Iterator[None]:
    """PostgreSQL: one upgrading process at a time (a session advisory lock)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    try:
        connection = engine.connect()
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})
        connection.commit()
    except DBAPIError as exc:  # e.g. the URL names something that is not PostgreSQL
        from pmp_intel.store.migrate import describe_failure

        raise DatabaseError(describe_failure(exc, engine)) from None
    with connection:
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _UPGRADE_LOCK_KEY})
            connection.commit()
