"""SQLite query plans the analysis depends on for its speed (SQLite keeps no statistics in
our databases, so a plan is the planner's guess; these pin the guesses that matter)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement

from pmp_intel.analyse.metrics import exposed_systems_per_cve
from pmp_intel.analyse.sql import scan_as_of, table_of
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.history import as_of
from pmp_intel.store.migrate import upgrade
from pmp_intel.store.models import PatchVulnerability, SystemPatchState


def _plan(engine: Engine, statement: ClauseElement) -> str:
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        return "\n".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def test_systems_exposed_per_cve_find_pairs_by_patch_not_by_status(tmp_path: Path) -> None:
    """Per linked patch, its not-installed pairs come from the (source, patch) index; the
    (source, status) index would visit every not-installed pair once per linked patch."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    upgrade(engine)
    pairs_now = scan_as_of(table_of(SystemPatchState), 1, 5, "sqlite")
    links_now = as_of(table_of(PatchVulnerability), 1, 5)
    plan = _plan(
        engine, exposed_systems_per_cve(pairs_now, links_now, ["CVE-2025-1", "CVE-2025-2"])
    )
    engine.dispose()
    assert "ix_system_patch_states_source_id_patch_id" in plan, plan
    assert "install_status" not in plan, plan
