"""Make sure a database has the package's schema, importing Alembic only when it must.

Every extraction starts here. Reading ``alembic_version`` is one query; the Alembic machinery
(about 11 MB of a small process's memory) is loaded only when the database is behind.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

#: The newest revision of alembic/versions (a test keeps it equal to Alembic's head).
SCHEMA_HEAD = "0002"


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in the database, or None (empty database, no version table)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def ensure_schema(engine: Engine) -> None:
    """Upgrade the database to the package's head revision unless it is already there."""
    if stored_revision(engine) == SCHEMA_HEAD:
        return
    from pmp_intel.store.migrate import upgrade

    upgrade(engine)
