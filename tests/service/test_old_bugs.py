"""The four bugs of the legacy Maia service (maia-legacy.md §4.3) stay fixed.

1. ``get_failed_patches(org_pattern, os_filter)`` ignored both filters;
2. ``refresh()`` returned False after a successful batch (it looked for a ``status`` key the
   batch summary never had);
3. freshness fell back to ``datetime.now()`` when it found no extraction, so a database with
   nothing in it was "fresh" (and ``status='success'`` never matched what the writers wrote);
4. ``query_raw(sql, database=…)`` took no parameters, so the ``:named`` query templates could
   not run through it.

Each test states the legacy behaviour it rules out; docs/service.md lists the fixes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from service_helpers import History, settings_for, simulated_now
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pmp_intel.api.client import PMPClient
from pmp_intel.api.clock import FakeClock
from pmp_intel.service import PMPIntelligenceService
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.migrate import upgrade
from pmp_intel.store.models import Snapshot, Source
from pmp_intel.testing import simulated_pmp

# ----------------------------------------------------------------------------- 1. filters


def _failed(history: History, keep: set[int]) -> Counter[int]:
    """patch_id → systems in ``keep`` on which it failed, from the simulator's truth."""
    latest = history.truths[-1]
    return Counter(p for r, p, s in latest.states if s == 206 and r in keep)


def test_failed_patches_filters_narrow_the_result(
    service: PMPIntelligenceService, history: History
) -> None:
    latest = history.truths[-1]
    everything = service.get_failed_patches()
    by_patch = Counter({r["patch_name"]: r["failed_count"] for r in everything.data})
    assert sum(by_patch.values()) == sum(_failed(history, set(latest.systems)).values())

    # the legacy code returned `everything` for any filter; both together must intersect
    failing = {r for r, _, s in latest.states if s == 206}
    resource = min(failing)
    org = str(latest.systems[resource]["branch_office_name"])
    os_word = str(latest.systems[resource]["os_name"]).split()[0]  # e.g. "Windows"
    both = {
        r
        for r, rec in latest.systems.items()
        if rec["branch_office_name"] == org and os_word.lower() in str(rec["os_name"]).lower()
    }
    combined = service.get_failed_patches(org_pattern=org, os_filter=os_word).data
    assert sum(r["failed_count"] for r in combined) == sum(_failed(history, both).values())
    assert sum(r["failed_count"] for r in combined) > 0

    # org_pattern also matches a system's name (legacy: resource_name OR branch office)
    name = str(latest.systems[resource]["resource_name"])
    one = service.get_failed_patches(org_pattern=name).data
    assert sum(r["failed_count"] for r in one) == sum(_failed(history, {resource}).values())
    assert all(r["failed_count"] == 1 for r in one)

    assert len(failing) > 1, "the simulated estate has failures on several systems"
    assert sum(r["failed_count"] for r in one) < sum(by_patch.values())
    assert service.get_failed_patches(os_filter="no such os").data == []


# ----------------------------------------------------------------------------- 2. refresh()


def _instant_client(settings, on_event):  # type: ignore[no-untyped-def]
    """The real client with an instant clock: retries back off without sleeping."""
    return PMPClient.from_settings(settings, on_event=on_event, clock=FakeClock())


def test_refresh_is_true_for_a_partial_snapshot_and_false_when_unfinished(
    database_url: str, engine: Engine
) -> None:
    with simulated_pmp(systems=12, seed=8, auth="token", page_cap=25) as pmp:
        settings = settings_for(pmp, database_url, page_limit=25)
        now = lambda: simulated_now(pmp)  # noqa: E731
        with PMPIntelligenceService(settings=settings) as service:
            # a page that never heals: a gap, but every system read: partial, merged → True
            pmp.set_faults("allpatches:page=2:503*inf")
            assert service.refresh(now=now, client_factory=_instant_client) is True
            partial = service.get_latest_snapshot()["snapshot_id"]
            assert partial is not None
            with Session(engine) as session:
                assert session.get(Snapshot, partial).status == "partial"  # type: ignore[union-attr]
            # stopped on its budget: the snapshot is not finished → False, nothing merged
            pmp.clear_faults()
            pmp.advance(days=1)
            assert service.refresh(now=now, max_pages=1) is True  # the gap run closes it
            assert service.refresh(now=now, max_pages=1) is False
            assert service.get_latest_snapshot()["snapshot_id"] == partial


# ----------------------------------------------------------------------------- 3. freshness


def test_nothing_found_is_stale_never_fresh(fresh_database_url: str, tmp_path: Path) -> None:
    # an empty SQLite file (no schema at all): the legacy code reported it fresh
    empty = tmp_path / "pmp_intelligence.db"
    empty.touch()
    with PMPIntelligenceService(empty) as service:
        assert service.is_stale() is True
        (info,) = service.get_data_freshness_report().values()
        assert (info.last_refresh, info.is_stale, info.record_count) == (None, True, 0)
        assert info.warning
        result = service.get_vulnerable_systems()
        assert (result.data, result.is_stale, result.extraction_timestamp) == ([], True, None)
        assert result.staleness_warning

    # a schema whose only snapshots never finished: still nothing to be fresh about
    engine = create_db_engine(fresh_database_url)
    upgrade(engine)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        source = Source(name="prod")
        session.add(source)
        session.flush()
        for status in ("in_progress", "failed"):
            session.add(Snapshot(source_id=source.id, status=status, started_at=now))
    engine.dispose()
    with PMPIntelligenceService(url=fresh_database_url) as service:
        assert service.is_stale() is True
        (info,) = service.get_data_freshness_report().values()
        assert info.last_refresh is None
        assert service.get_latest_snapshot() == {"snapshot_id": None, "timestamp": None}
        assert service.get_systems_by_organization("%").is_stale


def test_freshness_is_the_real_snapshot_time(
    service: PMPIntelligenceService, history: History
) -> None:
    # the history's snapshots are stamped with the simulator's clock, not with "now"
    (info,) = service.get_data_freshness_report().values()
    assert info.last_refresh == history.started[-1]
    expected_age = (datetime.now(UTC) - history.started[-1]).days
    assert info.days_old == expected_age
    assert info.is_stale is (expected_age > 7)
    first = service.get_systems_by_organization("%", snapshot=history.snapshot_ids[0])
    assert first.extraction_timestamp == history.started[0]


# ----------------------------------------------------------------------------- 4. query_raw


def test_query_raw_takes_parameters_in_the_legacy_call_shapes(
    service: PMPIntelligenceService, history: History
) -> None:
    source = history.source
    # a legacy template (`critical_patches_missing` style) with :named parameters
    named = service.query_raw(
        "SELECT COUNT(*) AS n FROM patches p JOIN sources s ON s.id = p.source_id "
        "WHERE s.name = :source AND p.severity >= :severity AND p.valid_to_snapshot_id IS NULL",
        {"source": source, "severity": 4},
    )
    positional = service.query_raw(
        "SELECT COUNT(*) AS n FROM patches p JOIN sources s ON s.id = p.source_id "
        "WHERE s.name = ? AND p.severity >= ? AND p.valid_to_snapshot_id IS NULL",
        (source, 4),
        "auto",  # the legacy third argument, `database`
    )
    assert named.data == positional.data
    assert named.data[0]["n"] > 0
    # values are bound, never pasted into the SQL
    hostile = service.query_raw("SELECT name FROM sources WHERE name = ?", ("x' OR '1'='1",))
    assert hostile.data == []
    # the legacy call without parameters still works, and `all_systems`-like text is not
    # routed anywhere else: there is one database
    legacy = service.query_raw(
        "SELECT 'all_systems' AS t, COUNT(*) AS n FROM systems", database="pmp_intelligence.db"
    )
    assert legacy.source_database == service.database_name
    assert legacy.data[0]["t"] == "all_systems"
    assert legacy.data[0]["n"] >= len(history.truths[-1].systems)
    # the legacy signature's second positional argument was the database, not parameters
    assert service.query_raw("SELECT 1 AS one", "auto").data == [{"one": 1}]
    with pytest.raises(ValueError, match=r"unknown database 'pmp_other\.db'"):
        service.query_raw("SELECT 1", database="pmp_other.db")
    with pytest.raises(ValueError, match="placeholders"):
        service.query_raw("SELECT ? AS a")  # a placeholder without its value: said, not run
    # a colon inside a string literal is text, not a parameter
    literal = service.query_raw("SELECT ':a' AS text, :a AS a", {"a": 1})
    assert literal.data == [{"text": ":a", "a": 1}]
