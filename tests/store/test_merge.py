"""The merge of staged rows into history: versions, closing rules, volatile columns, folding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from pmp_intel.store.engine import create_db_engine, session_factory, unit_of_work
from pmp_intel.store.merge import CloseScope, EntityMerge, clear_staging, merge_snapshot
from pmp_intel.store.migrate import upgrade
from pmp_intel.store.models import (
    ENTITIES,
    ExtractionCheckpoint,
    HealthPolicy,
    Patch,
    Snapshot,
    Source,
    StagedSystem,
    System,
    SystemPatchState,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Estate:
    """Stages rows for consecutive snapshots of one source and merges them."""

    def __init__(self, session: Session, name: str = "prod") -> None:
        self.session = session
        self.source = Source(name=name)
        session.add(self.source)
        session.flush()
        self.snapshot_id = 0

    def snapshot(self) -> int:
        snap = Snapshot(source_id=self.source.id, status="complete")
        self.session.add(snap)
        self.session.flush()
        self.snapshot_id = snap.id
        return snap.id

    def stage(
        self,
        entity: str,
        rows: list[dict[str, Any]],
        endpoint: str = "e",
        parent: str = "",
        page: int = 1,
    ) -> None:
        table = ENTITIES[entity][1].__table__  # type: ignore[attr-defined]
        self.session.execute(
            insert(table),
            [
                {
                    "snapshot_id": self.snapshot_id,
                    "endpoint": endpoint,
                    "parent_key": parent,
                    "page": page,
                    "seq": i,
                    **row,
                }
                for i, row in enumerate(rows)
            ],
        )

    def complete_parent(self, endpoint: str, parent: str) -> None:
        self.session.add(
            ExtractionCheckpoint(
                snapshot_id=self.snapshot_id,
                endpoint=endpoint,
                parent_key=parent,
                last_page=1,
                completed=True,
            )
        )
        self.session.flush()

    def merge(self, *plans: EntityMerge) -> dict[str, Any]:
        results = merge_snapshot(self.session, self.snapshot_id, self.source.id, plans)
        return {r.entity: r for r in results}

    def state_at(self, model: Any, snapshot_id: int) -> list[Any]:
        return list(
            self.session.scalars(
                select(model)
                .where(
                    model.source_id == self.source.id,
                    model.valid_from_snapshot_id <= snapshot_id,
                    (model.valid_to_snapshot_id.is_(None))
                    | (model.valid_to_snapshot_id > snapshot_id),
                )
                .order_by(model.id)
            )
        )

    def versions(self, model: Any) -> int:
        return (
            self.session.scalar(
                select(func.count()).select_from(model).where(model.source_id == self.source.id)
            )
            or 0
        )


def system(resource_id: int, **values: Any) -> dict[str, Any]:
    return {
        "resource_id": resource_id,
        "resource_name": f"PC-{resource_id}",
        "branch_office_name": "Acme",
        "resource_health_status": 1,
        **values,
    }


def state(resource_id: int, patch_id: int, status: int = 202, **values: Any) -> dict[str, Any]:
    return {"resource_id": resource_id, "patch_id": patch_id, "install_status": status, **values}


ALL_SYSTEMS = EntityMerge("system", CloseScope.everything())


@pytest.fixture
def estate(db_session: Session) -> Estate:
    return Estate(db_session)


def test_unchanged_reextraction_adds_nothing(estate: Estate) -> None:
    estate.snapshot()
    estate.stage("system", [system(1), system(2), system(3)])
    first = estate.merge(ALL_SYSTEMS)["system"]
    assert (first.incoming, first.inserted, first.changed) == (3, 3, 0)

    estate.snapshot()
    estate.stage("system", [system(1), system(2), system(3)])
    second = estate.merge(ALL_SYSTEMS)["system"]
    assert (second.inserted, second.changed, second.closed_missing) == (0, 0, 0)
    assert estate.versions(System) == 3


def test_change_opens_a_version_and_history_rebuilds_each_snapshot(estate: Estate) -> None:
    s1 = estate.snapshot()
    estate.stage("system", [system(1), system(2)])
    estate.merge(ALL_SYSTEMS)
    s2 = estate.snapshot()
    estate.stage("system", [system(1, resource_health_status=3), system(2)])
    result = estate.merge(ALL_SYSTEMS)["system"]
    assert (result.changed, result.inserted) == (1, 1)
    assert [s.resource_health_status for s in estate.state_at(System, s1)] == [1, 1]
    at_s2 = {s.resource_id: s.resource_health_status for s in estate.state_at(System, s2)}
    assert at_s2 == {1: 3, 2: 1}


def test_null_safe_comparison(estate: Estate) -> None:
    estate.snapshot()
    estate.stage("system", [system(1, os_name=None), system(2, os_name=None)])
    estate.merge(ALL_SYSTEMS)
    estate.snapshot()
    estate.stage("system", [system(1, os_name=None), system(2, os_name="Windows 11")])
    result = estate.merge(ALL_SYSTEMS)["system"]
    assert result.changed == 1


def test_extra_json_change_is_a_change(estate: Estate) -> None:
    estate.snapshot()
    estate.stage("system", [system(1, extra={"a": 1}), system(2, extra={"a": 1})])
    estate.merge(ALL_SYSTEMS)
    estate.snapshot()
    estate.stage("system", [system(1, extra={"a": 1}), system(2, extra={"a": 2})])
    assert estate.merge(ALL_SYSTEMS)["system"].changed == 1


def test_missing_entities_close_only_when_read_in_full(estate: Estate) -> None:
    estate.snapshot()
    estate.stage("system", [system(1), system(2)])
    estate.merge(ALL_SYSTEMS)

    s2 = estate.snapshot()
    estate.stage("system", [system(1)])
    kept = estate.merge(EntityMerge("system", CloseScope.none()))["system"]
    assert kept.closed_missing == 0
    assert {s.resource_id for s in estate.state_at(System, s2)} == {1, 2}

    s3 = estate.snapshot()
    estate.stage("system", [system(1)])
    closed = estate.merge(ALL_SYSTEMS)["system"]
    assert closed.closed_missing == 1
    assert {s.resource_id for s in estate.state_at(System, s3)} == {1}
    assert {s.resource_id for s in estate.state_at(System, s2)} == {1, 2}


def test_fan_out_closes_only_within_completed_parents(estate: Estate) -> None:
    plan = EntityMerge("system_patch_state", CloseScope.parents("resource_id", "systemreport"))
    estate.snapshot()
    estate.stage("system_patch_state", [state(1, 10), state(1, 11), state(2, 10), state(2, 11)])
    estate.merge(plan)

    s2 = estate.snapshot()
    # system 1's report completed without patch 11; system 2's report failed mid-way
    estate.stage("system_patch_state", [state(1, 10)], parent="1")
    estate.stage("system_patch_state", [state(2, 10)], parent="2")
    estate.complete_parent("systemreport", "1")
    result = estate.merge(plan)["system_patch_state"]
    assert result.closed_missing == 1
    pairs = {(s.resource_id, s.patch_id) for s in estate.state_at(SystemPatchState, s2)}
    assert pairs == {(1, 10), (2, 10), (2, 11)}


def test_volatile_columns_refresh_in_place(estate: Estate) -> None:
    estate.snapshot()
    estate.stage("system", [system(1, agent_last_contact_time=EPOCH, computer_live_status=1)])
    estate.merge(ALL_SYSTEMS)
    estate.snapshot()
    later = datetime(2026, 1, 2, tzinfo=UTC)
    estate.stage("system", [system(1, agent_last_contact_time=later, computer_live_status=2)])
    result = estate.merge(ALL_SYSTEMS)["system"]
    assert (result.changed, result.inserted, result.volatile_refreshed) == (0, 0, 1)
    (row,) = estate.state_at(System, estate.snapshot_id)
    estate.session.refresh(row)
    assert row.agent_last_contact_time == later
    assert row.computer_live_status == 2
    assert estate.versions(System) == 1


def test_secondary_endpoint_fills_gaps_of_the_primary(estate: Estate) -> None:
    estate.snapshot()
    estate.stage("system", [system(1, os_language=None, scan_status=228)], endpoint="allsystems")
    estate.stage(
        "system",
        [
            system(1, os_language="English", scan_status=226, resource_name="other-name"),
            system(9, os_language="French", scan_status=None),
        ],
        endpoint="scandetails",
    )
    plan = EntityMerge("system", CloseScope.everything(), ("allsystems", "scandetails"))
    result = estate.merge(plan)["system"]
    assert result.incoming == 2
    rows = {s.resource_id: s for s in estate.state_at(System, estate.snapshot_id)}
    assert rows[1].os_language == "English"  # filled from the secondary
    assert rows[1].scan_status == 228  # the primary's value wins
    assert rows[1].resource_name == "PC-1"
    assert rows[9].os_language == "French"  # known only to the secondary


def test_repeated_key_keeps_the_row_written_last(estate: Estate) -> None:
    estate.snapshot()
    estate.stage("system", [system(1, resource_name="old")], page=3)
    estate.stage("system", [system(1, resource_name="new")], page=4)
    assert estate.merge(ALL_SYSTEMS)["system"].incoming == 1
    (row,) = estate.state_at(System, estate.snapshot_id)
    assert row.resource_name == "new"


def test_states_of_a_retired_system_are_closed(estate: Estate) -> None:
    states = EntityMerge(
        "system_patch_state", CloseScope.none(), orphan_of=("system", "resource_id")
    )
    estate.snapshot()
    estate.stage("system", [system(1), system(2)])
    estate.stage("system_patch_state", [state(1, 10), state(2, 10)])
    estate.merge(ALL_SYSTEMS, states)
    estate.snapshot()
    estate.stage("system", [system(1)])
    estate.stage("system_patch_state", [state(1, 10)])
    result = estate.merge(ALL_SYSTEMS, states)["system_patch_state"]
    assert result.closed_orphans == 1
    assert {s.resource_id for s in estate.state_at(SystemPatchState, estate.snapshot_id)} == {1}


def test_singleton_entity(estate: Estate) -> None:
    plan = EntityMerge("health_policy", CloseScope.everything())
    estate.snapshot()
    estate.stage("health_policy", [{"vulnerable_important": 1, "highly_vulnerable_critical": 1}])
    estate.merge(plan)
    estate.snapshot()
    estate.stage("health_policy", [{"vulnerable_important": 2, "highly_vulnerable_critical": 1}])
    assert estate.merge(plan)["health_policy"].changed == 1
    (current,) = estate.state_at(HealthPolicy, estate.snapshot_id)
    assert current.vulnerable_important == 2


def test_sources_do_not_mix(db_session: Session) -> None:
    a, b = Estate(db_session, "a"), Estate(db_session, "b")
    for est in (a, b):
        est.snapshot()
        est.stage("system", [system(1)])
        est.merge(ALL_SYSTEMS)
    a.snapshot()
    a.stage("system", [system(2)])
    a.merge(ALL_SYSTEMS)
    assert {s.resource_id for s in b.state_at(System, a.snapshot_id)} == {1}


def test_staging_is_cleared(estate: Estate) -> None:
    estate.snapshot()
    estate.stage("system", [system(1)])
    estate.stage("system_patch_state", [state(1, 10)])
    estate.merge(ALL_SYSTEMS)
    remaining = estate.session.scalar(
        select(func.count())
        .select_from(StagedSystem)
        .where(StagedSystem.snapshot_id == estate.snapshot_id)
    )
    assert remaining == 0


def test_unknown_entity_is_refused(estate: Estate) -> None:
    estate.snapshot()
    with pytest.raises(ValueError, match="unknown entity"):
        estate.merge(EntityMerge("planets"))


def test_as_of_predicate_matches_the_history_model(estate: Estate) -> None:
    from pmp_intel.store.history import as_of, current

    s1 = estate.snapshot()
    estate.stage("system", [system(1), system(2)])
    estate.merge(ALL_SYSTEMS)
    s2 = estate.snapshot()
    estate.stage("system", [system(1, resource_name="renamed")])
    estate.merge(ALL_SYSTEMS)
    session, src = estate.session, estate.source.id

    def names(clause: Any) -> set[str | None]:
        return set(session.scalars(select(System.resource_name).where(clause)))

    assert names(as_of(System, src, s1)) == {"PC-1", "PC-2"}
    assert names(as_of(System, src, s2)) == {"renamed"}
    assert names(current(System.__table__, src)) == {"renamed"}


def test_fill_only_endpoint_never_adds_entities(estate: Estate) -> None:
    estate.snapshot()
    estate.stage("patch", [{"patch_id": 1, "severity": None}], endpoint="allpatches")
    estate.stage(
        "patch",
        [{"patch_id": 1, "severity": 4}, {"patch_id": 2, "severity": 3}],
        endpoint="supportedpatches",
    )
    plan = EntityMerge(
        "patch",
        CloseScope.everything(),
        ("allpatches", "supportedpatches"),
        fill_only=("supportedpatches",),
    )
    assert estate.merge(plan)["patch"].incoming == 1
    (patch,) = estate.state_at(Patch, estate.snapshot_id)
    assert (patch.patch_id, patch.severity) == (1, 4)


def test_clearing_staging_keeps_other_snapshots_rows(fresh_database_url: str) -> None:
    """Two sources' runs staged side by side: clearing one leaves the other's rows; clearing
    the last one empties the table, on SQLite with a DELETE without WHERE (its truncate
    optimisation)."""
    engine = create_db_engine(fresh_database_url)
    upgrade(engine)
    deletes: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("DELETE FROM stg_systems"):
            deletes.append(" ".join(statement.split()))

    def staged() -> list[tuple[int, int]]:
        with session_factory(engine)() as session:
            return [
                (snapshot_id, count)
                for snapshot_id, count in session.execute(
                    select(StagedSystem.snapshot_id, func.count())
                    .group_by(StagedSystem.snapshot_id)
                    .order_by(StagedSystem.snapshot_id)
                )
            ]

    try:
        with unit_of_work(engine) as session:
            prod, lab = Estate(session, "prod"), Estate(session, "lab")
            first, second = prod.snapshot(), lab.snapshot()
            prod.stage("system", [{"resource_id": i} for i in range(5)])
            lab.stage("system", [{"resource_id": i} for i in range(3)])
        with unit_of_work(engine) as session:
            assert clear_staging(session, first) == 5
        assert staged() == [(second, 3)]
        assert deletes[-1].endswith("WHERE stg_systems.snapshot_id = ?") or (
            engine.dialect.name != "sqlite"
        )
        with unit_of_work(engine) as session:
            assert clear_staging(session, second) == 3
            assert clear_staging(session, second) == 0
        assert staged() == []
        if engine.dialect.name == "sqlite":
            assert deletes[-2:] == ["DELETE FROM stg_systems", "DELETE FROM stg_systems"]
    finally:
        engine.dispose()
