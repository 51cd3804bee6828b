"""Alembic environment for pmp-intel (used by `alembic` and by `pmp-intel db upgrade`)."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Engine

from pmp_intel.store.engine import WRITER_OPTIONS, create_db_engine
from pmp_intel.store.migrate import refuse_foreign
from pmp_intel.store.models import Base
from pmp_intel.store.types import UTCDateTime

config = context.config
if config.config_file_name is not None and config.attributes.get("engine") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def x_arguments() -> dict[str, str]:
    """``-x key=value`` arguments, plus those passed programmatically."""
    args: dict[str, str] = dict(config.attributes.get("x_args", {}))
    args.update(context.get_x_argument(as_dictionary=True))
    return args


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    url = x_arguments().get("url") or config.get_main_option("sqlalchemy.url") or None
    return create_db_engine(url)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our column types as plain SQLAlchemy types so revisions never import them."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    url = x_arguments().get("url") or config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=render_item,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = _engine()
    try:
        with engine.connect() as connection:
            # another program's tables (e.g. the old Maia migrator's pmp_intelligence.db at
            # the default path): refused before anything is changed
            refuse_foreign(connection)
            connection.rollback()
            # BEGIN IMMEDIATE on SQLite: the upgrade reads the version table, then writes; a
            # second process upgrading at the same moment waits instead of failing at once
            connection.execution_options(**WRITER_OPTIONS)
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                render_item=render_item,
                compare_type=True,
                # SQLite's DDL is transactional too (the engine issues BEGIN itself): one
                # transaction for the whole upgrade, so a killed upgrade leaves nothing behind
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if config.attributes.get("engine") is None:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
