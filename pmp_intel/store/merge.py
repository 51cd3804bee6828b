"""Merge a finished snapshot's staged rows into the history tables (design.md §2).

Everything here is set-based SQL that runs unchanged on SQLite (3.33+, for UPDATE … FROM)
and PostgreSQL; no Python loop touches a row. For each entity, in the caller's transaction:

1. **fold and deduplicate** the staging rows of the snapshot: when several endpoints feed one
   entity (``allsystems`` and ``scandetails`` both describe systems), the primary endpoint's
   row keeps its values and takes the others' only where it has none; repeated natural keys
   (page drift) keep the row written last;
2. **close changed versions**: a current row whose non-volatile columns differ (NULL-safe)
   from the incoming row gets ``valid_to_snapshot_id`` = this snapshot; a row this very
   snapshot created (a gap run merging into it again) is completed in place instead;
3. **insert** a new current version for every incoming natural key that now has none;
4. **refresh volatile columns** (last contact, live status, …) in place on unchanged rows;
5. **close missing entities**, but only where the caller says the endpoint was read in full
   (everywhere, or only within fan-out parents whose pages all committed): an entity on a
   failed page keeps its last state;
6. **close orphans** of a parent entity (the states of a retired system).

Finally the snapshot's staging rows are deleted from every staging table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from pmp_intel.store.models import ENTITIES, ExtractionCheckpoint, ExtractionGap, HistoryMixin

HISTORY_ONLY = frozenset({"id", "source_id", "valid_from_snapshot_id", "valid_to_snapshot_id"})
STAGING_ONLY = frozenset({"id", "snapshot_id", "endpoint", "parent_key", "page", "seq"})


@dataclass(frozen=True)
class CloseScope:
    """Which current rows a merge may close because the snapshot did not see them.

    Use the constructors: :meth:`none` (nothing: the endpoint was not read in full),
    :meth:`everything` (the endpoint was read in full), or :meth:`parents` (only rows whose
    ``column`` is a fan-out parent whose pages of ``endpoint`` all committed).
    """

    kind: Literal["none", "all", "parents"]
    column: str | None = None
    endpoint: str | None = None

    @classmethod
    def none(cls) -> CloseScope:
        """Close nothing."""
        return cls("none")

    @classmethod
    def everything(cls) -> CloseScope:
        """Close every current row the snapshot did not see."""
        return cls("all")

    @classmethod
    def parents(cls, column: str, endpoint: str) -> CloseScope:
        """Close unseen rows only within the parents of a fan-out endpoint that were read
        to the end without an open gap."""
        return cls("parents", column, endpoint)


@dataclass(frozen=True)
class EntityMerge:
    """How to merge one entity: what may be closed, and which endpoint's values win."""

    entity: str
    close: CloseScope = field(default_factory=CloseScope.none)
    #: Endpoints feeding the entity, primary first; others only fill the primary's gaps.
    endpoint_priority: tuple[str, ...] = ()
    #: Endpoints whose rows may fill the primary's gaps but never add an entity of their own.
    fill_only: tuple[str, ...] = ()
    #: ``(parent entity, column)``: close current rows whose ``column`` value has no current
    #: row in the parent entity (e.g. the patch states of a retired system).
    orphan_of: tuple[str, str] | None = None


@dataclass
class EntityMergeResult:
    """What a merge did to one entity's history."""

    entity: str
    incoming: int = 0
    inserted: int = 0
    changed: int = 0
    closed_missing: int = 0
    closed_orphans: int = 0
    volatile_refreshed: int = 0


class _Tables:
    """The history and staging tables of one entity and their shared columns."""

    def __init__(self, entity: str) -> None:
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}; known: {', '.join(sorted(ENTITIES))}")
        history_model, staging_model = ENTITIES[entity]
        self.model: type[HistoryMixin] = history_model
        self.history: Table = history_model.__table__  # type: ignore[attr-defined]
        self.staging: Table = staging_model.__table__  # type: ignore[attr-defined]
        self.natural_key: tuple[str, ...] = history_model.__natural_key__
        volatile = set(history_model.__volatile__)
        self.columns = [c.name for c in self.history.columns if c.name not in HISTORY_ONLY]
        self.compared = [c for c in self.columns if c not in volatile]
        self.volatile = [c for c in self.columns if c in volatile]
        staged = {c.name for c in self.staging.columns} - STAGING_ONLY
        assert staged == set(self.columns), f"{entity}: staging and history columns differ"


def _run(session: Session, statement: Any) -> int:
    """Execute a DML statement on the session's connection; returns the rows it touched."""
    # rowcount of INSERT … SELECT is only kept when asked for (SQLAlchemy 2 on psycopg 3)
    options = {"preserve_rowcount": True}
    return session.connection().execute(statement, execution_options=options).rowcount


def _key_match(left: Any, right: Any, key: Sequence[str]) -> ColumnElement[bool]:
    return and_(true(), *(left.c[k] == right.c[k] for k in key))


def _same_values(left: Any, right: Any, columns: Sequence[str]) -> ColumnElement[bool]:
    return and_(true(), *(left.c[c].is_not_distinct_from(right.c[c]) for c in columns))


def merge_entity(
    session: Session, snapshot_id: int, source_id: int, plan: EntityMerge
) -> EntityMergeResult:
    """Merge one entity's staged rows of ``snapshot_id`` into its history table."""
    t = _Tables(plan.entity)
    h, stg = t.history, t.staging
    result = EntityMergeResult(plan.entity)
    staged = stg.c.snapshot_id == snapshot_id
    current = and_(h.c.source_id == source_id, h.c.valid_to_snapshot_id.is_(None))

    # 1. one row per natural key
    other = stg.alias("other")
    theirs = other.c.snapshot_id == snapshot_id
    if len(plan.endpoint_priority) > 1:
        primary = plan.endpoint_priority[0]
        fillable = [c for c in t.columns if c not in t.natural_key]
        for secondary in plan.endpoint_priority[1:]:
            session.execute(
                update(stg)
                .values({c: func.coalesce(stg.c[c], other.c[c]) for c in fillable})
                .where(staged, stg.c.endpoint == primary, theirs, other.c.endpoint == secondary)
                .where(_key_match(stg, other, t.natural_key))
            )
            session.execute(
                delete(stg).where(
                    staged,
                    stg.c.endpoint == secondary,
                    exists()
                    .where(theirs, other.c.endpoint == primary)
                    .where(_key_match(other, stg, t.natural_key)),
                )
            )
    if plan.fill_only:
        session.execute(delete(stg).where(staged, stg.c.endpoint.in_(plan.fill_only)))
    session.execute(
        delete(stg).where(
            staged,
            exists()
            .where(theirs, other.c.id > stg.c.id)
            .where(_key_match(other, stg, t.natural_key)),
        )
    )
    result.incoming = session.scalar(select(func.count()).select_from(stg).where(staged)) or 0

    # 2. close current versions whose values changed
    result.changed = _run(
        session,
        update(h)
        .values(valid_to_snapshot_id=snapshot_id)
        .where(current, h.c.valid_from_snapshot_id < snapshot_id, staged)
        .where(_key_match(h, stg, t.natural_key))
        .where(not_(_same_values(h, stg, t.compared))),
    )
    # 2b. a version born in this very snapshot (a gap run merging into it again) is completed
    # in place: closing it would leave an empty range and a second version with the same
    # (key, valid_from), which the unique constraint refuses
    _run(
        session,
        update(h)
        .values({c: func.coalesce(stg.c[c], h.c[c]) for c in t.columns})
        .where(current, h.c.valid_from_snapshot_id == snapshot_id, staged)
        .where(_key_match(h, stg, t.natural_key))
        .where(not_(_same_values(h, stg, t.columns))),
    )

    # 3. a new current version for every incoming key without one
    present = (
        exists()
        .where(h.c.source_id == source_id, h.c.valid_to_snapshot_id.is_(None))
        .where(_key_match(h, stg, t.natural_key))
    )
    result.inserted = _run(
        session,
        insert(h).from_select(
            ["source_id", "valid_from_snapshot_id", *t.columns],
            select(literal(source_id), literal(snapshot_id), *(stg.c[c] for c in t.columns)).where(
                staged, not_(present)
            ),
        ),
    )

    # 4. volatile observations refreshed in place
    if t.volatile:
        result.volatile_refreshed = _run(
            session,
            update(h)
            .values({c: stg.c[c] for c in t.volatile})
            .where(current, h.c.valid_from_snapshot_id < snapshot_id, staged)
            .where(_key_match(h, stg, t.natural_key))
            .where(not_(_same_values(h, stg, t.volatile))),
        )

    # 5. close what the snapshot read in full but did not see
    scope = _close_scope_clause(h, snapshot_id, plan.close)
    if scope is not None:
        unseen = ~exists().where(staged).where(_key_match(stg, h, t.natural_key))
        result.closed_missing = _run(
            session,
            update(h)
            .values(valid_to_snapshot_id=snapshot_id)
            .where(current, h.c.valid_from_snapshot_id < snapshot_id, unseen, scope),
        )

    # 6. close orphans of a parent entity
    if plan.orphan_of is not None:
        parent_entity, column = plan.orphan_of
        parent = _Tables(parent_entity).history
        has_parent = (
            exists()
            .where(parent.c.source_id == source_id, parent.c.valid_to_snapshot_id.is_(None))
            .where(parent.c[column] == h.c[column])
        )
        result.closed_orphans = _run(
            session, update(h).values(valid_to_snapshot_id=snapshot_id).where(current, ~has_parent)
        )
    return result


def _close_scope_clause(
    history: Table, snapshot_id: int, scope: CloseScope
) -> ColumnElement[bool] | None:
    if scope.kind == "none":
        return None
    if scope.kind == "all":
        return true()
    assert scope.column is not None
    assert scope.endpoint is not None
    gap = ExtractionGap.__table__.alias("gap")
    open_gap = (
        exists()
        .where(gap.c.snapshot_id == snapshot_id, gap.c.endpoint == scope.endpoint)
        .where(gap.c.parent_key == ExtractionCheckpoint.parent_key, gap.c.status == "open")
    )
    completed_parents = select(cast(ExtractionCheckpoint.parent_key, BigInteger)).where(
        ExtractionCheckpoint.snapshot_id == snapshot_id,
        ExtractionCheckpoint.endpoint == scope.endpoint,
        ExtractionCheckpoint.completed.is_(True),
        ExtractionCheckpoint.parent_key != "",
        ~open_gap,
    )
    return history.c[scope.column].in_(completed_parents)


def clear_staging(session: Session, snapshot_id: int) -> int:
    """Delete every staged row of ``snapshot_id``; returns how many went."""
    removed = 0
    for _history, staging_model in ENTITIES.values():
        table: Table = staging_model.__table__  # type: ignore[attr-defined]
        statement = delete(table)
        if not _holds_only(session, table, snapshot_id):
            statement = statement.where(table.c.snapshot_id == snapshot_id)
        removed += _run(session, statement)
    return removed


def _holds_only(session: Session, table: Table, snapshot_id: int) -> bool:
    """Whether, on SQLite, ``table`` holds rows of ``snapshot_id`` alone.

    Then a DELETE without WHERE empties it at once (SQLite's truncate optimisation) instead
    of visiting each row and index entry. Only SQLite, whose transactions are serializable
    (one writer at a time; a transaction that read before another writer committed cannot
    write), so no other snapshot's row can appear between this check and the delete; on
    PostgreSQL (read committed) another source's run could commit rows in between.
    """
    if session.get_bind().dialect.name != "sqlite":
        return False
    column = table.c.snapshot_id  # leads the natural-key index: min and max are look-ups
    lowest = session.scalar(select(func.min(column)))
    highest = session.scalar(select(func.max(column)))
    return lowest is None or lowest == highest == snapshot_id


def merge_snapshot(
    session: Session, snapshot_id: int, source_id: int, plans: Sequence[EntityMerge]
) -> list[EntityMergeResult]:
    """Merge the staged rows of ``snapshot_id`` for every planned entity, in plan order
    (parents before children), then clear the snapshot's staging. Runs in the caller's
    transaction: commit it together with the snapshot's new status."""
    session.flush()
    results = [merge_entity(session, snapshot_id, source_id, plan) for plan in plans]
    clear_staging(session, snapshot_id)
    return results


__all__ = [
    "CloseScope",
    "EntityMerge",
    "EntityMergeResult",
    "clear_staging",
    "merge_entity",
    "merge_snapshot",
]
