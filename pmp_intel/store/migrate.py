"""Run the Alembic migrations programmatically (``pmp-intel db upgrade``).

The schema always comes from Alembic, never from ``metadata.create_all``. The scripts live
in the checkout's top-level ``alembic/`` folder and are packaged into the wheel as
``pmp_intel/_migrations``, so both an editable checkout and an installed wheel find them.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from pmp_intel.errors import DatabaseError, MigrationsNotFoundError
from pmp_intel.store.engine import redacted_url

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


def upgrade(engine: Engine, revision: str = "head", **x_args: str) -> None:
    """Migrate the database behind ``engine`` to ``revision``."""
    try:
        command.upgrade(alembic_config(engine, **x_args), revision)
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseError(describe_failure(exc, engine)) from None


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database behind ``engine`` down to ``revision`` (``base`` empties it)."""
    try:
        command.downgrade(alembic_config(engine), revision)
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseError(describe_failure(exc, engine)) from None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
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
