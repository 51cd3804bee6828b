"""The bulk load's deferred indexes (PostgreSQL): the schema ends as it began."""

from __future__ import annotations

from builder import LegacyTruth
from legacy_helpers import upgrade_with_legacy
from sqlalchemy import Connection, Engine, text

from pmp_intel.legacy.deferred import deferred_indexes
from pmp_intel.store import migrate
from pmp_intel.store.models import Patch, System, SystemPatchState

BULK = ("system_patch_states", "patches", "systems")


def _schema(connection: Connection) -> dict[str, list[tuple[str, str]]]:
    """Per bulk table, every index and foreign key as the database stores its definition."""
    if connection.dialect.name == "sqlite":
        query = (
            "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = :table UNION ALL SELECT 'fk', \"table\" || ':' || \"from\" || ':' "
            "|| \"to\" || ':' || on_delete FROM pragma_foreign_key_list(:table)"
        )
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :table UNION ALL "
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:table)"
        )
    return {
        table: sorted(
            (str(name), str(definition))
            for name, definition in connection.execute(text(query), {"table": table})
        )
        for table in BULK
    }


def test_the_import_leaves_indexes_and_foreign_keys_as_they_were(
    target: Engine, legacy_a: LegacyTruth
) -> None:
    migrate.upgrade(target, "0001")
    with target.connect() as connection:
        before = _schema(connection)
    upgrade_with_legacy(target, legacy_a.directory)
    with target.connect() as connection:
        assert _schema(connection) == before


def test_indexes_are_dropped_inside_the_block_and_back_after_it(target: Engine) -> None:
    migrate.upgrade(target, "0001")
    tables = [SystemPatchState.__table__, System.__table__, Patch.__table__]
    with target.begin() as connection:
        before = _schema(connection)
        with deferred_indexes(connection, tables):  # type: ignore[arg-type]
            inside = _schema(connection)
        assert _schema(connection) == before
    if target.dialect.name != "postgresql":
        assert inside == before  # SQLite: left as it is
        return
    for table, objects in inside.items():
        kept = {name for name, _ in objects}
        assert kept < {name for name, _ in before[table]}, table
        assert not any(name.startswith(("ix_", "fk_")) for name in kept), table
