"""Helpers for extractor tests against the simulator: settings, ground truth, DB content."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pmp_intel.settings import Settings
from pmp_intel.store.history import as_of, current
from pmp_intel.store.models import Patch, Snapshot, Source, System, SystemPatchState
from pmp_intel.testing import SimulatedPMP

DCAPI_STATUS = {"installed": 201, "missing": 202, "failed": 206}


def settings_for(pmp: SimulatedPMP, database_url: str, **overrides: Any) -> Settings:
    """Settings that point at ``pmp`` with its credentials, on a source of the test's own."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "source_name": f"sim-{uuid.uuid4().hex[:8]}",
        "rate_limit": 1000.0,
        "concurrency": 4,
    }
    return pmp.client_settings(**{**values, **overrides})


def truth(pmp: SimulatedPMP) -> dict[str, set[Any]]:
    """What the server holds now: systems, patches and (system, patch, status) states."""
    states = set()
    for record in pmp.records("dcapi_systemreport"):
        for patch in record["patches"]:
            status = DCAPI_STATUS[str(patch["patch_status"]).lower()]
            states.add((int(record["resource_id"]), int(patch["patch_id"]), status))
    return {
        "systems": {int(r["resource_id"]) for r in pmp.records("allsystems")},
        "patches": {int(r["patch_id"]) for r in pmp.records("allpatches")},
        "states": states,
    }


def source_id(engine: Engine, name: str) -> int:
    with Session(engine) as session:
        found = session.scalar(select(Source.id).where(Source.name == name))
        assert found is not None
        return found


def content(engine: Engine, source: int, snapshot_id: int | None = None) -> dict[str, set[Any]]:
    """The database's view of a source, now or as it was at ``snapshot_id``."""

    def where(model: Any) -> Any:
        return current(model, source) if snapshot_id is None else as_of(model, source, snapshot_id)

    with Session(engine) as session:
        return {
            "systems": set(session.scalars(select(System.resource_id).where(where(System)))),
            "patches": set(session.scalars(select(Patch.patch_id).where(where(Patch)))),
            "states": {
                tuple(row)
                for row in session.execute(
                    select(
                        SystemPatchState.resource_id,
                        SystemPatchState.patch_id,
                        SystemPatchState.install_status,
                    ).where(where(SystemPatchState))
                )
            },
        }


def history_rows(engine: Engine, source: int) -> int:
    """Rows of the three big history tables of ``source``, all versions."""
    with Session(engine) as session:
        return sum(
            session.scalar(select(func.count()).select_from(m).where(m.source_id == source)) or 0
            for m in (System, Patch, SystemPatchState)
        )


def snapshot(engine: Engine, snapshot_id: int) -> Snapshot:
    with Session(engine) as session:
        found = session.get(Snapshot, snapshot_id)
        assert found is not None
        return found
