"""Crash consistency of the extractor (issue 9): ``pmp-intel extract`` in a subprocess,
killed with SIGKILL at seeded points across every phase and resumed each time, ends with
the database a clean extraction gives.

The subprocess kills itself at an exact point (kill_switch_helpers): the n-th JSON log event
or SQL write of a kind. One *episode* chains seven kills through the life of a snapshot:

1. batch commit — right after the n-th batch committed;
2. paging — at a progress event, while a page's rows are staged, or between a page's rows
   and its checkpoint;
3. partial finish — after the partial snapshot (gaps on ``dcapi_patches`` pages that fail
   for good during the first three runs) committed with its metrics and compliance;
4. gap retry — the faults gone, the next run retries the gaps: killed after the first one
   closed, or between its recovered rows and its checkpoint;
5. merge — inside the gap run's merge transaction;
6. metrics or compliance — inside the same transaction (merge, metrics and compliance
   commit together, so the kill undoes all three and the next gap run redoes them);
7. finish — after the summary, with the lock still held (the next run takes it over).

After every kill: no checkpoint disagrees with its staged data, no duplicate anywhere, at
most one snapshot in progress. After the final clean run: no snapshot in progress, the lock
free, nothing left in staging, and the source's content (every current history row by
natural key and values, the server summary, metric and compliance rows of its latest
snapshot) equals a clean extraction's.

Default run: one episode (7 points) on a 20-system estate. ``PMP_INTEL_FULL_RELIABILITY=1``:
25 points in four episodes with other seeded points and kinds of switch.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from crash_consistency_helpers import (
    checkpoint_problems,
    database_state,
    duplicate_problems,
    extraction_env,
    gaps,
    load_test_module,
    lock_holder,
    snapshot_statuses,
    staged_rows_of_finished,
    state_differences,
    unanalysed_snapshots,
)
from kill_switch_helpers import Switch, at_event, at_sql, run_child
from sqlalchemy import Engine

from pmp_intel.testing import SimulatedPMP, simulated_pmp

sim = load_test_module("sim_extraction", "extract")

FULL = os.environ.get("PMP_INTEL_FULL_RELIABILITY") == "1"
SEED = 20261204
FULL_POINTS = 25
POINTS_PER_EPISODE = 7
ESTATE: dict[str, Any] = {"systems": 20, "seed": 31, "page_cap": 10, "supported_patches": 100}
#: Read late in a run, so its gaps are recorded by the run that finishes the snapshot and
#: a gap is never retried (and abandoned) before the faults are gone.
FAULTED = "dcapi_patches"
#: Runs of an episode that see the faults (points 1-3).
FAULTED_RUNS = 3
#: How each run of an episode starts (``snapshot_started`` mode), the last one being the
#: clean run after the seventh point: which proves every point landed in its phase.
MODES = ("started", "resumed", "resumed", "gap_retry", "gap_retry", "gap_retry", "gap_retry")

pytestmark = [pytest.mark.slow, pytest.mark.reliability]


@dataclass(frozen=True)
class Reference:
    """The shared simulator and what a clean extraction of it gives."""

    pmp: SimulatedPMP
    state: dict[str, list[tuple[Any, ...]]]
    events: list[dict[str, Any]]
    home: Path


@pytest.fixture(scope="module")
def reference(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reference]:
    home = tmp_path_factory.mktemp("crash-home")
    with simulated_pmp(**ESTATE) as pmp:
        settings = sim.settings_for(pmp, database_url)
        clean = run_child(["extract"], extraction_env(settings, HOME=str(home)))
        assert clean.returncode == 0, clean.stderr[-2000:]
        state = database_state(engine, sim.source_id(engine, settings.source_name))
        assert state["patch_metrics"], "the clean run stored no metrics"
        assert state["compliance_checks"], "the clean run stored no compliance checks"
        yield Reference(pmp, state, clean.events(), home)


def _episode(rng: random.Random, ref: Reference) -> list[Switch]:
    """Seven seeded kill points, each one reachable from the state the previous left."""
    before = []  # events of the clean run before the faulted endpoint is read
    for event in ref.events:
        if event.get("endpoint") == FAULTED:
            break
        before.append(event["event_type"])
    commits = [i for i, kind in enumerate(before) if kind == "checkpoint_saved"]
    assert len(commits) >= 2, "the estate is too small to commit batches before the faults"
    n_commit = rng.randint(1, len(commits) // 2)
    pages_left = before[commits[n_commit - 1] :].count("extraction_progress")
    n_page = rng.randint(1, max(1, pages_left // 2))
    return [
        at_event("checkpoint_saved", n_commit, phase="batch commit"),
        rng.choice(
            [
                at_event("extraction_progress", n_page, phase="paging"),
                at_sql("UPDATE extraction_checkpoints", n_page, phase="paging"),
                at_sql("INSERT stg_*", n_page, phase="paging"),
            ]
        ),
        # after the partial snapshot (gaps on the faulted pages) committed with its analysis
        rng.choice(
            [
                at_event("snapshot_finished", 1, phase="partial finish"),
                at_sql("DELETE extraction_locks", phase="partial finish"),
            ]
        ),
        rng.choice(
            [
                at_event("gap_closed", 1, phase="gap retry"),
                # the recovered page's rows are staged, its checkpoint is being moved
                at_sql("UPDATE extraction_checkpoints", 1, phase="gap retry"),
            ]
        ),
        rng.choice(
            [at_event("entity_merged", 1, phase="merge"), at_sql("DELETE stg_*", 1, phase="merge")]
        ),
        # metrics and compliance run in the merge's transaction: a kill there undoes both
        rng.choice(
            [
                at_sql("DELETE patch_metrics", phase="metrics"),
                at_sql("INSERT severity_metrics", phase="metrics"),
                at_sql("INSERT time_to_patch_metrics", phase="metrics"),
                at_event("analysis_finished", 1, phase="compliance", analysis="metrics"),
                at_sql("DELETE compliance_checks", phase="compliance"),
                at_sql("INSERT compliance_checks", phase="compliance"),
            ]
        ),
        rng.choice(
            [
                at_event("snapshot_finished", 1, phase="finish"),
                at_sql("DELETE extraction_locks", phase="finish"),
            ]
        ),
    ]


def _episodes() -> list[Any]:
    if not FULL:
        return [pytest.param(0, POINTS_PER_EPISODE, id="episode0-7points")]
    out = []
    left = FULL_POINTS
    for index in range(-(-FULL_POINTS // POINTS_PER_EPISODE)):
        points = min(POINTS_PER_EPISODE, left)
        out.append(pytest.param(index, points, id=f"episode{index}-{points}points"))
        left -= points
    return out


def _assert_consistent(engine: Engine, source: int, after: str) -> None:
    assert checkpoint_problems(engine, source) == [], after
    assert duplicate_problems(engine, source) == [], after
    open_snapshots = [i for i, s in snapshot_statuses(engine, source) if s == "in_progress"]
    assert len(open_snapshots) <= 1, after


@pytest.mark.parametrize(("episode", "points"), _episodes())
def test_sigkill_at_seeded_points_then_resume_equals_a_clean_run(
    reference: Reference, engine: Engine, database_url: str, episode: int, points: int
) -> None:
    rng = random.Random(SEED + episode)
    plan = _episode(rng, reference)[:points]
    pmp = reference.pmp
    settings = sim.settings_for(pmp, database_url, source_name=f"crash-{uuid.uuid4().hex[:8]}")
    env = extraction_env(settings, HOME=str(reference.home))
    faults = ";".join(f"{FAULTED}:page={page}:500*inf" for page in (2, 5))
    survived = []
    try:
        for run, switch in enumerate(plan, start=1):
            if run == 1:
                pmp.set_faults(faults)
            if run == FAULTED_RUNS + 1:
                pmp.clear_faults()
            child = run_child(["extract", "--trigger", "cron"], env, [switch])
            assert child.returncode == -9, (
                f"run {run} was not killed at {switch.label} (exit {child.returncode}):\n"
                + child.stderr[-1500:]
            )
            assert child.events("snapshot_started")[0]["mode"] == MODES[run - 1], switch.label
            source = sim.source_id(engine, settings.source_name)
            _assert_consistent(engine, source, f"after the kill at {switch.label}")
            if switch.phase == "partial finish":  # landed after a partial snapshot committed
                _merged, status = snapshot_statuses(engine, source)[-1]
                assert status == "partial"
                assert unanalysed_snapshots(engine, source) == []  # committed with its metrics
                assert gaps(engine, source) == [
                    (FAULTED, 2, "open"),
                    (FAULTED, 5, "open"),
                ]
            if switch.phase in ("metrics", "compliance"):  # the gap run's merge was undone
                assert snapshot_statuses(engine, source)[-1][1] == "partial"
                assert unanalysed_snapshots(engine, source) == []
            survived.append(switch.label)
    finally:
        pmp.clear_faults()
    final = run_child(["extract", "--trigger", "cron"], env)
    assert final.returncode == 0, final.stderr[-2000:]
    final_mode = MODES[len(plan)] if len(plan) < len(MODES) else "started"
    assert final.events("snapshot_started")[0]["mode"] == final_mode
    if plan[-1].phase == "finish":
        assert final.events("lock_taken_over"), "the dead run's lock was not taken over"

    source = sim.source_id(engine, settings.source_name)
    assert len(survived) == points
    statuses = snapshot_statuses(engine, source)
    assert "in_progress" not in [s for _, s in statuses]
    assert statuses[-1][1] == "complete"
    assert lock_holder(engine, source) is None
    assert staged_rows_of_finished(engine, source) == {}
    assert duplicate_problems(engine, source) == []
    assert state_differences(database_state(engine, source), reference.state) == {}
    assert sim.content(engine, source) == sim.truth(pmp)


def test_pages_a_killed_gap_run_recovered_are_merged_by_the_next_run(
    reference: Reference, engine: Engine, database_url: str
) -> None:
    """Regression: a gap run that closed the last gap and died before its merge left the
    recovered rows in staging and the snapshot partial for ever (the next run opened a new
    snapshot). The next run now finishes that snapshot's merge."""
    pmp = reference.pmp
    settings = sim.settings_for(pmp, database_url, source_name=f"gaps-{uuid.uuid4().hex[:8]}")
    env = extraction_env(settings, HOME=str(reference.home))
    args = ["extract", "--endpoints", f"allsystems,{FAULTED}"]
    pmp.set_faults(f"{FAULTED}:page=2:500*inf")
    try:
        first = run_child(args, env)
    finally:
        pmp.clear_faults()
    assert first.returncode == 2, first.stderr[-1500:]
    source = sim.source_id(engine, settings.source_name)
    ((snapshot_id, status),) = snapshot_statuses(engine, source)
    assert status == "partial"

    killed = run_child(args, env, [at_event("entity_merged", 1)])
    assert killed.returncode == -9
    assert len(killed.events("gap_closed")) == 1
    assert staged_rows_of_finished(engine, source)  # recovered, committed, not merged yet

    resumed = run_child(args, env)
    assert resumed.returncode == 0, resumed.stderr[-1500:]
    assert resumed.events("snapshot_started")[0]["mode"] == "gap_retry"
    assert snapshot_statuses(engine, source) == [(snapshot_id, "complete")]
    assert staged_rows_of_finished(engine, source) == {}
    state = database_state(engine, source)
    for entity in ("vulnerability", "patch_vulnerability"):  # what dcapi_patches feeds
        assert state[entity] == reference.state[entity], entity


def test_a_run_killed_in_its_analysis_leaves_no_unanalysed_snapshot(
    reference: Reference, engine: Engine, database_url: str
) -> None:
    """Merge, metrics and compliance commit together: a kill inside the metrics leaves the
    snapshot open (nothing merged, nothing presented as finished), and the next run merges
    and analyses it."""
    pmp = reference.pmp
    settings = sim.settings_for(pmp, database_url)
    env = extraction_env(settings, HOME=str(reference.home))
    args = ["extract", "--endpoints", "allsystems,dcapi_systemreport"]
    killed = run_child(args, env, [at_sql("DELETE patch_metrics")])
    assert killed.returncode == -9
    source = sim.source_id(engine, settings.source_name)
    ((open_id, status),) = snapshot_statuses(engine, source)
    assert status == "in_progress"
    assert unanalysed_snapshots(engine, source) == []
    assert pmp.total("allsystems") == ESTATE["systems"]

    again = run_child(args, env)
    assert again.returncode == 0, again.stderr[-1500:]
    assert again.events("snapshot_started")[0]["mode"] == "resumed"
    assert snapshot_statuses(engine, source) == [(open_id, "complete")]
    assert unanalysed_snapshots(engine, source) == []
