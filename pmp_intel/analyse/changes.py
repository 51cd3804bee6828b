"""What changed between two snapshots of a source: new missing patches, newly installed
ones, systems added and retired. Counted in SQL from the history tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from pmp_intel.store.history import as_of
from pmp_intel.store.models import InstallStatus, System, SystemPatchState

NOT_INSTALLED = (int(InstallStatus.MISSING), int(InstallStatus.FAILED))


@dataclass(frozen=True)
class SnapshotDiff:
    """Counts of what changed from ``old`` to ``new``."""

    source_id: int
    old_snapshot_id: int
    new_snapshot_id: int
    systems_added: int
    systems_retired: int
    newly_missing: int
    newly_installed: int


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def diff_snapshots(session: Session, source_id: int, old: int, new: int) -> SnapshotDiff:
    """Compare the state of ``source_id`` at snapshot ``old`` with the state at ``new``."""
    before, after = aliased(System), aliased(System)
    added = (
        select(after.resource_id)
        .where(as_of(after, source_id, new))
        .where(
            ~exists().where(as_of(before, source_id, old), before.resource_id == after.resource_id)
        )
    )
    retired = (
        select(before.resource_id)
        .where(as_of(before, source_id, old))
        .where(
            ~exists().where(as_of(after, source_id, new), after.resource_id == before.resource_id)
        )
    )
    was, now = aliased(SystemPatchState), aliased(SystemPatchState)
    same_pair = and_(was.resource_id == now.resource_id, was.patch_id == now.patch_id)
    newly_missing = (
        select(now.id)
        .where(as_of(now, source_id, new), now.install_status.in_(NOT_INSTALLED))
        .where(
            ~exists().where(
                as_of(was, source_id, old), same_pair, was.install_status.in_(NOT_INSTALLED)
            )
        )
    )
    newly_installed = (
        select(now.id)
        .where(as_of(now, source_id, new), now.install_status == int(InstallStatus.INSTALLED))
        .where(
            exists().where(
                as_of(was, source_id, old), same_pair, was.install_status.in_(NOT_INSTALLED)
            )
        )
    )
    return SnapshotDiff(
        source_id,
        old,
        new,
        systems_added=_count(session, added),
        systems_retired=_count(session, retired),
        newly_missing=_count(session, newly_missing),
        newly_installed=_count(session, newly_installed),
    )
