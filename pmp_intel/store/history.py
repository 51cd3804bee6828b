"""Predicates of the history model: the state of a source at a snapshot, or now.

>>> select(System).where(as_of(System, source_id=1, snapshot_id=42))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, or_, update
from sqlalchemy.orm import Session

from pmp_intel.store.models import ENTITIES, Snapshot


def as_of(model: Any, source_id: int, snapshot_id: int) -> ColumnElement[bool]:
    """Rows of ``model`` (a history model or its table/alias) true at ``snapshot_id``."""
    columns = getattr(model, "c", model)
    return and_(
        columns.source_id == source_id,
        columns.valid_from_snapshot_id <= snapshot_id,
        or_(
            columns.valid_to_snapshot_id.is_(None),
            columns.valid_to_snapshot_id > snapshot_id,
        ),
    )


def current(model: Any, source_id: int) -> ColumnElement[bool]:
    """Rows of ``model`` (a history model or its table/alias) that are current."""
    columns = getattr(model, "c", model)
    return and_(columns.source_id == source_id, columns.valid_to_snapshot_id.is_(None))


def delete_snapshot(session: Session, snapshot_id: int) -> None:
    """Delete a snapshot and undo what it did to history.

    In order: the versions it opened go, the versions it closed become current again, then
    the snapshot itself (its staging, metrics, checkpoints, gaps and runs cascade with it).
    """
    session.flush()
    connection = session.connection()
    for history_model, _staging in ENTITIES.values():
        table: Table = history_model.__table__  # type: ignore[attr-defined]
        connection.execute(delete(table).where(table.c.valid_from_snapshot_id == snapshot_id))
        connection.execute(
            update(table)
            .where(table.c.valid_to_snapshot_id == snapshot_id)
            .values(valid_to_snapshot_id=None)
        )
    connection.execute(delete(Snapshot).where(Snapshot.id == snapshot_id))
    session.expire_all()
