"""Run the Alembic migrations programmatically (``pmp-intel db upgrade``).

The schema always comes from Alembic, never from ``metadata.create_all``. The scripts live
in the checkout's top-level ``alembic/`` folder and are packaged into the wheel as
``pmp_intel/_migrations``, so both an editable checkout and an installed wheel find them.

A database that holds tables but no ``alembic_version`` is another program's (the default
SQLite path is where the old Maia migrator wrote its own ``pmp_intelligence.db``): every
migration refuses it with one line, before changing anything (:func:`refuse_foreign`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import DBAPIError, OperationalError

from pmp_intel.errors import DatabaseError, MigrationsNotFoundError
from pmp_intel.store.engine import redacted_url, sqlite_path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def script_location() -> Path:
    """Folder of the Alembic scripts: inside the installed package, else the checkout."""
    for candidate in (_PACKAGE_DIR / "_migrations", _PACKAGE_DIR.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationsNotFoundError(
        "the Alembic migrations were not found next to the pmp_intel package; reinstall pmp-intel"
    )


def alembic_config(engine: Engine | None = None, **x_args: str) -> Config:
    """An Alembic config pointing at our scripts; with ``engine``, migrations run on it."""
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if engine is not None:
        config.attributes["engine"] = engine
    config.cmd_opts = None
    config.attributes["x_args"] = dict(x_args)
    return config


def describe_failure(exc: BaseException, engine: Engine) -> str:
    """One line naming the database (password hidden) and the driver's first line."""
    original = getattr(exc, "orig", None) or exc
    first_line = (
        str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    )
    return f"cannot use database {redacted_url(engine.url)}: {first_line}"


class ForeignDatabaseError(DatabaseError):
    """The database holds another program's tables (no ``alembic_version``)."""


#: The table names of the old Maia tools' databases (maia-legacy.md §1, §3.1; the store
#: may not import the legacy package, so a test keeps this equal to its shapes).
MAIA_TABLES = frozenset(
    [
        "all_patches",
        "all_systems",
        "api_extraction_runs",
        "approval_settings",
        "compliance_checks",
        "dcapi_extraction_checkpoints",
        "dcapi_extraction_gaps",
        "dcapi_patch_mappings",
        "deployment_configs",
        "deployment_policies",
        "deployment_tasks",
        "extraction_checkpoints",
        "extraction_gaps",
        "extraction_runs",
        "health_policy",
        "installed_patches",
        "missing_patches",
        "patch_metrics",
        "patch_summary",
        "patch_system_mapping",
        "patches",
        "scan_details",
        "schema_version",
        "severity_metrics",
        "snapshots",
        "som_computers",
        "som_summary",
        "supported_patches",
        "system_health_metrics",
        "system_reports",
        "systems",
        "view_configurations",
        "vulnerabilities",
        "vulnerability_db_metrics",
    ]
)
#: The file names of the old Maia tools' legacy databases (``migrate-legacy`` reads them).
MAIA_FILES = (
    "pmp_config.db",
    "pmp_resilient.db",
    "pmp_systemreports.db",
    "pmp_complete_intelligence.db",
    "pmp_patch_systems.db",
)


def _maia_tables(tables: set[str]) -> bool:
    return bool(tables & MAIA_TABLES)


def foreign_database_message(connection: Connection, tables: set[str]) -> str:
    """The one line refusing a database that holds ``tables`` but no ``alembic_version``:
    which database, what it looks like, and what to do."""
    listed = ", ".join(sorted(tables)[:6]) + (", …" if len(tables) > 6 else "")
    path = sqlite_path(connection.engine.url)
    if path is None:
        return (
            f"{redacted_url(connection.engine.url)} is not a pmp-intel database: it holds "
            f"tables ({listed}) but no alembic_version (nothing was changed); point "
            "--database-url or PMP_INTEL_DATABASE_URL at another database, or remove those "
            "tables"
        )
    folder = path.parent
    if path.name in MAIA_FILES:
        what = (
            f"it is one of the old Maia tools' legacy files. Import it into another database "
            f"with `pmp-intel --database-url sqlite:///OTHER.db migrate-legacy --from {folder}`"
        )
    elif _maia_tables(tables):
        what = (
            "it looks like a database of the old Maia tools (e.g. their migrator's "
            "pmp_intelligence.db, whose rows came from the legacy files). Point "
            "--database-url or PMP_INTEL_DATABASE_URL at another file, or move this one away; "
            f"the legacy files themselves are imported with `pmp-intel migrate-legacy --from "
            f"{folder}`"
        )
    else:
        what = (
            "it is another program's database. Point --database-url or "
            "PMP_INTEL_DATABASE_URL at another file, or move this one away"
        )
    return (
        f"{path} is not a pmp-intel database: it holds tables ({listed}) but no "
        f"alembic_version (nothing was changed); {what}"
    )


def refuse_foreign(connection: Connection) -> None:
    """Raise :class:`ForeignDatabaseError` when the database holds tables but no
    ``alembic_version``. On PostgreSQL only a schema that holds pmp-intel's or the old
    Maia tools' table names is refused (a shared database may hold other tables)."""
    tables = set(inspect(connection).get_table_names())
    if not tables or "alembic_version" in tables:
        return
    if connection.dialect.name != "sqlite":
        from pmp_intel.store.models import Base

        if not (tables & set(Base.metadata.tables) or _maia_tables(tables)):
            return
    raise ForeignDatabaseError(foreign_database_message(connection, tables))


def upgrade(engine: Engine, revision: str = "head", **x_args: str) -> dict[str, Any]:
    """Migrate the database behind ``engine`` to ``revision`` (``x_args``: the migrations'
    ``-x`` arguments, e.g. ``legacy_dir``). Returns what the migrations left for the caller
    (``legacy_report``: the legacy import's report, when revision 0002 imported a folder)."""
    config = alembic_config(engine, **x_args)
    try:
        command.upgrade(config, revision)
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseError(describe_failure(exc, engine)) from None
    return config.attributes


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database behind ``engine`` down to ``revision`` (``base`` empties it)."""
    try:
        command.downgrade(alembic_config(engine), revision)
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseError(describe_failure(exc, engine)) from None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has never been migrated.

    Raises :class:`ForeignDatabaseError` for another program's database."""
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            if revision is None:
                refuse_foreign(connection)
            return revision
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseError(describe_failure(exc, engine)) from None


def head_revision() -> str:
    """The newest revision the installed package knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def is_up_to_date(engine: Engine) -> bool:
    """True when the database is at the package's head revision."""
    return current_revision(engine) == head_revision()
