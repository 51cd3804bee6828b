"""History tables: one current row per natural key, versions, cascades, time travel."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from factories import (
    ALL_FACTORIES,
    HISTORY_FACTORIES,
    ExtractionGapFactory,
    ExtractionLockFactory,
    HealthPolicyFactory,
    KnownExploitedVulnerabilityFactory,
    SnapshotFactory,
    SourceFactory,
    SystemFactory,
    create_in_snapshot,
    natural_key,
)
from sqlalchemy import ColumnElement, delete, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pmp_intel.store.history import delete_snapshot
from pmp_intel.store.models import (
    Base,
    ExtractionGap,
    ExtractionLock,
    HealthPolicy,
    KnownExploitedVulnerability,
    Snapshot,
    Source,
    System,
)

pytestmark = pytest.mark.usefixtures("factory_session")

KEYED_HISTORY = tuple(f for f in HISTORY_FACTORIES if f._meta.model.__natural_key__)
SINGLETON_HISTORY = tuple(f for f in HISTORY_FACTORIES if not f._meta.model.__natural_key__)


def _name(factory_class: type) -> str:
    return factory_class.__name__


def _unique_violation(model: Any, which: str) -> str:
    """Pattern of the error for ``uq_<table>_current`` / ``uq_<table>_version`` on both
    backends (SQLite names the columns, PostgreSQL the index)."""
    table = model.__tablename__
    columns = ["source_id", *model.__natural_key__]
    if which == "version":
        columns.append("valid_from_snapshot_id")
    listed = ", ".join(f"{table}.{c}" for c in columns)
    return rf'"uq_{table}_{which}"|UNIQUE constraint failed: {re.escape(listed)}\n'


def test_singletons_are_the_per_source_settings() -> None:
    assert {f._meta.model.__tablename__ for f in SINGLETON_HISTORY} == {
        "health_policies",
        "approval_settings",
    }


# --------------------------------------------------------------------- natural keys


@pytest.mark.parametrize("factory_class", HISTORY_FACTORIES, ids=_name)
def test_second_current_row_for_a_natural_key_is_rejected(
    db_session: Session, reject: Callable[..., IntegrityError], factory_class: Any
) -> None:
    first = factory_class()
    source = db_session.get(Source, first.source_id)
    model = type(first)
    reject(
        lambda: factory_class(source=source, **natural_key(first)),
        match=_unique_violation(model, "current"),
    )


@pytest.mark.parametrize("factory_class", HISTORY_FACTORIES, ids=_name)
def test_two_versions_from_the_same_snapshot_are_rejected(
    db_session: Session, reject: Callable[..., IntegrityError], factory_class: Any
) -> None:
    source = SourceFactory()
    s1, s2 = SnapshotFactory(source=source), SnapshotFactory(source=source)
    closed = factory_class(valid_from_snapshot=s1, valid_to_snapshot=s2)
    reject(
        lambda: factory_class(valid_from_snapshot=s1, **natural_key(closed)),
        match=_unique_violation(type(closed), "version"),
    )


@pytest.mark.parametrize("factory_class", HISTORY_FACTORIES, ids=_name)
def test_closed_version_and_new_current_version_are_accepted(
    db_session: Session, factory_class: Any
) -> None:
    source = SourceFactory()
    s1, s2, s3 = (SnapshotFactory(source=source) for _ in range(3))
    oldest = factory_class(valid_from_snapshot=s1, valid_to_snapshot=s2)
    older = factory_class(valid_from_snapshot=s2, valid_to_snapshot=s3, **natural_key(oldest))
    current = factory_class(valid_from_snapshot=s3, **natural_key(oldest))

    model = type(current)
    versions = db_session.scalars(
        select(model).where(model.source_id == source.id).order_by(model.valid_from_snapshot_id)
    ).all()
    assert [v.id for v in versions] == [oldest.id, older.id, current.id]
    assert [v.valid_to_snapshot_id for v in versions] == [s2.id, s3.id, None]


@pytest.mark.parametrize("factory_class", HISTORY_FACTORIES, ids=_name)
def test_same_natural_key_in_two_sources_is_accepted(
    db_session: Session, factory_class: Any
) -> None:
    first = factory_class()
    second = factory_class(**natural_key(first))  # its own source
    assert second.source_id != first.source_id
    model = type(first)
    current = db_session.scalar(
        select(func.count())
        .select_from(model)
        .where(
            model.valid_to_snapshot_id.is_(None),
            model.source_id.in_([first.source_id, second.source_id]),
        )
    )
    assert current == 2


@pytest.mark.parametrize("factory_class", KEYED_HISTORY, ids=_name)
def test_different_natural_keys_in_one_source_are_accepted(
    db_session: Session, factory_class: Any
) -> None:
    source = SourceFactory()
    rows = factory_class.create_batch(3, source=source)
    assert len({tuple(natural_key(r).values()) for r in rows}) == 3
    model = type(rows[0])
    count = db_session.scalar(
        select(func.count()).select_from(model).where(model.source_id == source.id)
    )
    assert count == 3


def test_health_policy_is_one_current_row_per_source(
    reject: Callable[..., IntegrityError],
) -> None:
    source = SourceFactory()
    s1, s2 = SnapshotFactory(source=source), SnapshotFactory(source=source)
    HealthPolicyFactory(valid_from_snapshot=s1, valid_to_snapshot=s2, vulnerable_critical=1)
    HealthPolicyFactory(valid_from_snapshot=s2, vulnerable_critical=2)
    reject(
        lambda: HealthPolicyFactory(source=source, vulnerable_critical=3),
        match=_unique_violation(HealthPolicy, "current"),
    )
    HealthPolicyFactory()  # another source has its own


# ------------------------------------------------------------------------ time travel


def _state_at(model: Any, source_id: int, snapshot_id: int) -> ColumnElement[bool]:
    return (
        (model.source_id == source_id)
        & (model.valid_from_snapshot_id <= snapshot_id)
        & (model.valid_to_snapshot_id.is_(None) | (model.valid_to_snapshot_id > snapshot_id))
    )


def test_state_at_each_snapshot_is_rebuilt(db_session: Session) -> None:
    source = SourceFactory()
    s1, s2, s3 = (SnapshotFactory(source=source) for _ in range(3))
    assert s1.id < s2.id < s3.id
    v1 = SystemFactory(valid_from_snapshot=s1, valid_to_snapshot=s2, os_name="Windows 10")
    rid = v1.resource_id
    v2 = SystemFactory(
        valid_from_snapshot=s2, valid_to_snapshot=s3, resource_id=rid, os_name="Windows 11"
    )
    v3 = SystemFactory(valid_from_snapshot=s3, resource_id=rid, os_name="Windows 11 24H2")
    joined_at_s2 = SystemFactory(valid_from_snapshot=s2)
    retired_at_s3 = SystemFactory(valid_from_snapshot=s1, valid_to_snapshot=s3)
    SystemFactory(resource_id=rid)  # same machine id in another source: never visible here

    def state(snapshot: Snapshot) -> dict[int, str | None]:
        rows = db_session.scalars(select(System).where(_state_at(System, source.id, snapshot.id)))
        return {row.resource_id: row.os_name for row in rows}

    assert state(s1) == {rid: "Windows 10", retired_at_s3.resource_id: retired_at_s3.os_name}
    assert state(s2) == {
        rid: "Windows 11",
        joined_at_s2.resource_id: joined_at_s2.os_name,
        retired_at_s3.resource_id: retired_at_s3.os_name,
    }
    assert state(s3) == {rid: "Windows 11 24H2", joined_at_s2.resource_id: joined_at_s2.os_name}

    ids_at = {
        s.id: db_session.scalars(
            select(System.id).where(_state_at(System, source.id, s.id), System.resource_id == rid)
        ).all()
        for s in (s1, s2, s3)
    }
    assert ids_at == {s1.id: [v1.id], s2.id: [v2.id], s3.id: [v3.id]}
    # "Current" is the state at the latest snapshot.
    current = db_session.scalars(
        select(System.resource_id).where(
            System.source_id == source.id, System.valid_to_snapshot_id.is_(None)
        )
    ).all()
    assert sorted(current) == sorted(state(s3))


# --------------------------------------------------------------------------- cascades

PER_SNAPSHOT = tuple(
    f
    for f in ALL_FACTORIES
    if "snapshot_id" in f._meta.model.__table__.c and f is not ExtractionLockFactory
)


@dataclass
class Estate:
    """One source with two snapshots and a row of every table in each."""

    source_id: int
    first: int
    second: int
    snapshot_ids: list[int]
    closed_gap: int = 0


def build_estate(session: Session, *, versions: bool) -> Estate:
    """A source with snapshots s1 then s2, a row of every per-snapshot table in each, a gap
    of s1 closed in s2 and a lock on s2. History: rows from s1 and (``versions``) a new
    version from s2 of each s1 row, closing it; else (not ``versions``) new entities from s2
    and the s1 rows left current."""
    source = SourceFactory()
    s1, s2 = SnapshotFactory(source=source), SnapshotFactory(source=source)
    estate = Estate(source.id, s1.id, s2.id, [s1.id, s2.id])
    for factory_class in HISTORY_FACTORIES:
        if versions:
            old = factory_class(valid_from_snapshot=s1, valid_to_snapshot=s2)
            factory_class(valid_from_snapshot=s2, **natural_key(old))
        else:
            factory_class(valid_from_snapshot=s1)
            if factory_class in KEYED_HISTORY:
                factory_class(valid_from_snapshot=s2)
    for factory_class in PER_SNAPSHOT:
        create_in_snapshot(factory_class, s1)
        create_in_snapshot(factory_class, s2)
    estate.closed_gap = ExtractionGapFactory(
        snapshot=s1, status="closed", closed_in_snapshot=s2, closed_at=s2.finished_at
    ).id
    ExtractionLockFactory(source=source, snapshot=s2)
    KnownExploitedVulnerabilityFactory()
    session.expire_all()
    return estate


def _owned(model: Any, source_id: int, snapshot_ids: list[int]) -> ColumnElement[bool]:
    columns = model.__table__.c
    if model is Source:
        return columns.id == source_id
    if "source_id" in columns:
        return columns.source_id == source_id
    if "snapshot_id" in columns:
        return columns.snapshot_id.in_(snapshot_ids)
    return true()


PER_SOURCE_MODELS = sorted(
    (mp.class_ for mp in Base.registry.mappers if mp.class_ is not KnownExploitedVulnerability),
    key=lambda cls: cls.__name__,
)


def counts(session: Session, estate: Estate) -> dict[str, int]:
    """Rows of ``estate``'s source in every per-source table."""
    return {
        model.__name__: session.scalar(
            select(func.count())
            .select_from(model)
            .where(_owned(model, estate.source_id, estate.snapshot_ids))
        )
        or 0
        for model in PER_SOURCE_MODELS
    }


def _count(session: Session, model: Any, *where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _delete_snapshot(session: Session, snapshot_id: int, how: str) -> None:
    if how == "core":
        session.execute(delete(Snapshot).where(Snapshot.id == snapshot_id))
    else:
        session.delete(session.get(Snapshot, snapshot_id))
        session.flush()
    session.expire_all()


def _delete_source(session: Session, source_id: int, how: str) -> None:
    if how == "core":
        session.execute(delete(Source).where(Source.id == source_id))
    else:
        session.delete(session.get(Source, source_id))
        session.flush()
    session.expire_all()


@pytest.mark.parametrize("versions", [False, True], ids=["new-entities", "new-versions"])
def test_estate_covers_every_table(db_session: Session, versions: bool) -> None:
    estate = build_estate(db_session, versions=versions)
    empty = [name for name, n in counts(db_session, estate).items() if n == 0]
    assert not empty
    assert _count(db_session, KnownExploitedVulnerability) >= 1
    for factory_class in HISTORY_FACTORIES:
        model = factory_class._meta.model
        closed = _count(db_session, model, model.valid_to_snapshot_id == estate.second)
        assert closed == (1 if versions else 0), model.__name__


@pytest.mark.parametrize("how", ["core", "orm"])
def test_deleting_a_snapshot_removes_what_it_brought(db_session: Session, how: str) -> None:
    estate = build_estate(db_session, versions=False)
    bystander = build_estate(db_session, versions=True)
    before = counts(db_session, estate)
    bystander_before = counts(db_session, bystander)
    in_first = {
        f._meta.model: _count(db_session, f._meta.model, f._meta.model.snapshot_id == estate.first)
        for f in PER_SNAPSHOT
    }
    assert all(in_first.values())

    _delete_snapshot(db_session, estate.second, how)

    assert db_session.get(Snapshot, estate.second) is None
    assert db_session.get(Snapshot, estate.first) is not None
    for factory_class in PER_SNAPSHOT:  # staging, metrics, checkpoints, gaps, runs, …
        model = factory_class._meta.model
        assert _count(db_session, model, model.snapshot_id == estate.second) == 0, model
        assert _count(db_session, model, model.snapshot_id == estate.first) == in_first[model]
    for factory_class in HISTORY_FACTORIES:  # rows valid from s2 go, rows from s1 stay
        model = factory_class._meta.model
        assert _count(db_session, model, model.valid_from_snapshot_id == estate.second) == 0
        assert _count(db_session, model, model.valid_from_snapshot_id == estate.first) == 1
    gap = db_session.get(ExtractionGap, estate.closed_gap)
    assert gap is not None
    assert gap.closed_in_snapshot_id is None
    lock = db_session.get(ExtractionLock, estate.source_id)
    assert lock is not None
    assert lock.snapshot_id is None

    after = counts(db_session, estate)
    assert (after["Source"], after["Snapshot"]) == (1, before["Snapshot"] - 1)
    assert counts(db_session, bystander) == bystander_before


def test_delete_snapshot_reopens_the_versions_it_closed(db_session: Session) -> None:
    for factory_class in HISTORY_FACTORIES:
        model = factory_class._meta.model
        source = SourceFactory()
        s1, s2 = SnapshotFactory(source=source), SnapshotFactory(source=source)
        old = factory_class(valid_from_snapshot=s1, valid_to_snapshot=s2)
        new = factory_class(valid_from_snapshot=s2, **natural_key(old))
        old_id, new_id, s2_id = old.id, new.id, s2.id
        delete_snapshot(db_session, s2_id)
        reopened = db_session.get(model, old_id)
        assert reopened is not None, model
        assert reopened.valid_to_snapshot_id is None, model
        assert db_session.get(model, new_id) is None, model
        assert db_session.get(Snapshot, s2_id) is None


@pytest.mark.parametrize("how", ["core", "orm"])
def test_bare_delete_of_a_snapshot_that_closed_versions_is_refused(
    db_session: Session, how: str
) -> None:
    """Deleting such a snapshot without delete_snapshot() must fail, not corrupt history."""
    source = SourceFactory()
    s1, s2 = SnapshotFactory(source=source), SnapshotFactory(source=source)
    old = SystemFactory(valid_from_snapshot=s1, valid_to_snapshot=s2)
    SystemFactory(valid_from_snapshot=s2, **natural_key(old))
    with pytest.raises(IntegrityError), db_session.begin_nested():
        _delete_snapshot(db_session, s2.id, how)


def test_deleting_a_snapshot_of_another_source_leaves_history_alone(db_session: Session) -> None:
    estate = build_estate(db_session, versions=True)
    other = SnapshotFactory()
    before = counts(db_session, estate)
    _delete_snapshot(db_session, other.id, "core")
    assert counts(db_session, estate) == before


@pytest.mark.parametrize("versions", [False, True], ids=["new-entities", "new-versions"])
@pytest.mark.parametrize("how", ["core", "orm"])
def test_deleting_a_source_removes_everything_of_it_and_nothing_else(
    db_session: Session, how: str, versions: bool
) -> None:
    doomed = build_estate(db_session, versions=versions)
    kept = build_estate(db_session, versions=versions)
    kept_before = counts(db_session, kept)
    kev_before = _count(db_session, KnownExploitedVulnerability)
    assert all(kept_before.values())

    _delete_source(db_session, doomed.source_id, how)

    left = {name: n for name, n in counts(db_session, doomed).items() if n}
    assert left == {}
    assert counts(db_session, kept) == kept_before
    assert _count(db_session, KnownExploitedVulnerability) == kev_before
