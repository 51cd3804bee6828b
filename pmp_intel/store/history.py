"""Predicates of the history model: the state of a source at a snapshot, or now.

>>> select(System).where(as_of(System, source_id=1, snapshot_id=42))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_


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
