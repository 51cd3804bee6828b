"""Database access: engines, sessions, a unit of work, and migrations.

This is the one import other tools need to open the unified database::

    from pmp_intel.db import create_db_engine, unit_of_work, upgrade

    engine = create_db_engine()          # PMP_INTEL_DATABASE_URL or the SQLite default
    upgrade(engine)                      # the schema comes from Alembic, always
    with unit_of_work(engine) as session:
        ...
"""

from pmp_intel.store.engine import (
    create_db_engine,
    parse_database_url,
    redacted_url,
    session_factory,
    unit_of_work,
)
from pmp_intel.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    is_up_to_date,
    upgrade,
)

__all__ = [
    "create_db_engine",
    "current_revision",
    "downgrade",
    "head_revision",
    "is_up_to_date",
    "parse_database_url",
    "redacted_url",
    "session_factory",
    "unit_of_work",
    "upgrade",
]
