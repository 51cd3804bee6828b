"""Concurrency (issue 9): two extractions of one source against one database, and a reader
using the service while an extraction pages and merges.

* Two ``pmp-intel extract`` subprocesses: the first pauses at an exact point while the second
  runs; the second exits 1 with one clear line naming the holder, changes nothing, and the
  first then completes normally. On PostgreSQL the same holds when the second finds the
  database in the middle of its first upgrade.
* A reader (``PMPIntelligenceService``) queries while an in-process extraction is held, by an
  SQL hook, mid-batch, mid-merge and right after the merge committed: before the merge
  commits it sees exactly the previous snapshot (the open one is never "latest"), after it
  the new snapshot's data in full, never a mix.

Coordination is by pause points and events, never by sleeping. The default run holds the
first extraction at one point; ``PMP_INTEL_FULL_RELIABILITY=1`` adds another.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from crash_consistency_helpers import (
    extraction_env,
    load_test_module,
    lock_holder,
    snapshot_statuses,
)
from kill_switch_helpers import DEADLINE_S, PAUSED, ChildRun, at_event, at_sql, run_child
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from pmp_intel.extract.extractor import Extractor
from pmp_intel.extract.result import ExtractionResult
from pmp_intel.service import PMPIntelligenceService
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.models import Snapshot
from pmp_intel.testing import SimulatedPMP, simulated_pmp

sim = load_test_module("sim_extraction", "extract")

FULL = os.environ.get("PMP_INTEL_FULL_RELIABILITY") == "1"
ESTATE: dict[str, Any] = {"systems": 20, "seed": 31, "page_cap": 10, "supported_patches": 100}
HELD_BY_ANOTHER = "another extraction of this source is running"
#: application_name of the second extraction's PostgreSQL connections.
SECOND = "pmp-intel-second-extraction"

pytestmark = [pytest.mark.slow, pytest.mark.reliability]


@pytest.fixture(scope="module")
def pmp() -> Iterator[SimulatedPMP]:
    with simulated_pmp(**ESTATE) as server:
        yield server


def _error_lines(child: ChildRun) -> list[str]:
    """What the child printed for people (not its JSON log, not the pause markers)."""
    return [line.rstrip("\n") for line in child.stderr_lines if not line.startswith(("{", PAUSED))]


# ------------------------------------------------------------------------------ two writers


HOLD_POINTS = [
    pytest.param(at_event("checkpoint_saved", 2, action="pause"), id="after-a-batch-commit"),
    pytest.param(at_event("analysis_finished", 1, action="pause"), id="between-analyses"),
][: None if FULL else 1]


@pytest.mark.parametrize("held_at", HOLD_POINTS)
def test_a_second_extraction_of_the_source_exits_1_and_the_first_completes(
    pmp: SimulatedPMP, engine: Engine, database_url: str, held_at: Any
) -> None:
    settings = sim.settings_for(pmp, database_url)
    env = extraction_env(settings)
    first = ChildRun(["extract"], env, [held_at]).start()
    first.wait_paused()
    source = sim.source_id(engine, settings.source_name)
    before = snapshot_statuses(engine, source)
    holder = f"{socket.gethostname()}:{first.process.pid}"
    assert lock_holder(engine, source) == holder

    second = run_child(["extract"], env)

    assert second.returncode == 1
    (line,) = _error_lines(second)
    assert HELD_BY_ANOTHER in line
    assert holder in line
    assert second.events() == []  # no snapshot started, nothing logged as done
    assert snapshot_statuses(engine, source) == before
    assert lock_holder(engine, source) == holder

    first.resume()
    assert first.wait() == 0, first.stderr[-1500:]
    assert [status for _, status in snapshot_statuses(engine, source)] == ["complete"]
    assert lock_holder(engine, source) is None
    assert sim.content(engine, source) == sim.truth(pmp)


def test_a_second_extraction_finding_the_first_upgrading_a_new_database_exits_1_cleanly(
    pmp: SimulatedPMP, fresh_database_url: str, backend: str
) -> None:
    """Both find a never-migrated database: the second must wait for the first's upgrade,
    not race it (on PostgreSQL it used to fail with 'duplicate key value violates unique
    constraint "pg_type_typname_nsp_index"')."""
    settings = sim.settings_for(pmp, fresh_database_url)
    first = ChildRun(
        ["extract"],
        extraction_env(settings),
        [
            at_sql("INSERT alembic_version", action="pause"),  # inside its upgrade
            at_event("snapshot_started", action="pause"),  # holding the lock
        ],
    ).start()
    assert "alembic_version" in first.wait_paused()
    tagged = f"{fresh_database_url}{'&' if '?' in fresh_database_url else '?'}"
    second_url = tagged + f"application_name={SECOND}" if backend == "postgresql" else ""
    second = ChildRun(
        ["extract"],
        extraction_env(settings, PMP_INTEL_DATABASE_URL=second_url or fresh_database_url),
        # SQLite: pause where its upgrade asks for the write lock the first one holds
        ([at_sql("BEGIN IMMEDIATE", action="pause")] if backend == "sqlite" else [])
        + [at_sql("SELECT sources", action="pause")],
    ).start()
    if backend == "postgresql":
        _wait_until_blocked(fresh_database_url, second)
    else:
        assert "BEGIN IMMEDIATE" in second.wait_paused()
        second.resume()  # it now waits (busy timeout) for the first's upgrade to commit
    first.resume()
    assert "snapshot_started" in first.wait_paused()
    if second.returncode is None:
        assert "sources" in second.wait_paused()
        second.resume()
    assert second.wait() == 1
    (line,) = _error_lines(second)
    assert HELD_BY_ANOTHER in line
    first.resume()
    assert first.wait() == 0, first.stderr[-1500:]


def _wait_until_blocked(url: str, child: ChildRun) -> None:
    """PostgreSQL: until ``child``'s connection waits for a lock (polled, with a deadline:
    a blocked backend sends no event)."""
    observer = create_db_engine(url)
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = :name AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + DEADLINE_S
    try:
        while True:
            with observer.connect() as connection:
                if connection.execute(query, {"name": SECOND}).scalar():
                    return
            assert child.process.poll() is None, "the second extraction ended:\n" + child.stderr
            assert time.monotonic() < deadline, "the second extraction never waited"
    finally:
        observer.dispose()


# ------------------------------------------------------------------------------ a reader


class _Holds:
    """An SQL hook that holds the writer thread before chosen statements until released."""

    def __init__(self, points: dict[str, tuple[str, int]]) -> None:
        self.points = points
        self.counts: dict[str, int] = {}
        self.reached = {name: threading.Event() for name in points}
        self.released = {name: threading.Event() for name in points}

    def hook(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        for name, (prefix, nth) in self.points.items():
            if statement.lstrip().upper().startswith(prefix):
                self.counts[name] = self.counts.get(name, 0) + 1
                if self.counts[name] == nth:
                    self.reached[name].set()
                    assert self.released[name].wait(DEADLINE_S), f"{name} never released"

    def wait(self, name: str) -> None:
        assert self.reached[name].wait(DEADLINE_S), f"the extraction never reached {name}"


def _view(service: PMPIntelligenceService) -> dict[str, Any]:
    """What a reader of the latest snapshot sees, query by query."""
    return {
        "latest": service.get_latest_snapshot()["snapshot_id"],
        "systems": sorted(r["name"] for r in service.get_systems_by_organization("%").data),
        "failed": service.get_failed_patches().data,
        "organisations": service.organisation_summary().data,
        "vulnerable": service.get_vulnerable_systems(2).data,
    }


def _open_snapshot(engine: Engine, source: int) -> int:
    with Session(engine) as session:
        found = session.scalar(
            select(Snapshot.id).where(
                Snapshot.source_id == source, Snapshot.status == "in_progress"
            )
        )
    assert found is not None
    return int(found)


def _extract_in_thread(extractor: Extractor) -> tuple[threading.Thread, list[ExtractionResult]]:
    results: list[ExtractionResult] = []
    thread = threading.Thread(target=lambda: results.append(extractor.run()), daemon=True)
    thread.start()
    return thread, results


def test_a_reader_sees_one_whole_snapshot_while_an_extraction_pages_and_merges(
    engine: Engine, database_url: str
) -> None:
    with simulated_pmp(**ESTATE) as pmp:
        settings = sim.settings_for(pmp, database_url)
        assert Extractor(settings, engine=engine).run().exit_code == 0
        source = sim.source_id(engine, settings.source_name)
        pmp.advance(days=14)  # the next snapshot differs from the first
        service = PMPIntelligenceService(url=database_url, source=settings.source_name)
        before = _view(service)
        holds = _Holds(
            {
                "paging": ("UPDATE EXTRACTION_CHECKPOINTS", 5),  # a batch open
                "merge": ("INSERT INTO SYSTEM_PATCH_STATES", 1),  # systems, patches merged
                # merged and analysing, all in the one transaction not committed yet
                "analysing": ("DELETE FROM PATCH_METRICS", 1),
            }
        )
        writer = create_db_engine(database_url)
        event.listen(writer, "before_cursor_execute", holds.hook)
        thread, results = _extract_in_thread(Extractor(settings, engine=writer))
        seen = {}
        try:
            for point in ("paging", "merge", "analysing"):
                holds.wait(point)
                seen[point] = _view(service)
                if point == "paging":
                    in_progress = _open_snapshot(engine, source)
                    with pytest.raises(ValueError, match="in_progress"):
                        service.get_failed_patches(snapshot=in_progress)
                holds.released[point].set()
        finally:
            for released in holds.released.values():
                released.set()
            thread.join(DEADLINE_S)
            writer.dispose()
        (result,) = results
        assert result.exit_code == 0
        after = _view(service)
        service.close()
    assert after["latest"] == result.snapshot_id != before["latest"]
    assert any(before[k] != after[k] for k in ("failed", "organisations", "vulnerable"))
    assert seen["paging"] == before
    assert seen["merge"] == before
    assert seen["analysing"] == before  # merge + metrics + compliance appear together


def test_the_latest_snapshot_is_never_presented_without_its_metrics(
    pmp: SimulatedPMP, engine: Engine, database_url: str
) -> None:
    settings = sim.settings_for(pmp, database_url)
    holds = _Holds({"merged": ("DELETE FROM PATCH_METRICS", 1)})
    writer = create_db_engine(database_url)
    event.listen(writer, "before_cursor_execute", holds.hook)
    thread, results = _extract_in_thread(Extractor(settings, engine=writer))
    try:
        holds.wait("merged")
        with PMPIntelligenceService(url=database_url, source=settings.source_name) as service:
            latest = service.get_latest_snapshot()["snapshot_id"]
            metrics = service.metrics().data
    finally:
        holds.released["merged"].set()
        thread.join(DEADLINE_S)
        writer.dispose()
    assert results[0].exit_code == 0
    assert latest is None or metrics, f"snapshot {latest} is latest without metrics"
