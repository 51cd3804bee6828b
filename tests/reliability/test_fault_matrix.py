"""The fault matrix (issue 9): every fault kind of the simulator, alone and mixed, at 5 %,
20 % and 50 % of requests; each run ends the way the request log says it must, and loses
or invents nothing.

For every case the expected outcome is worked out from the simulator's request log alone
(fault_oracle_helpers): each page's answers are replayed through the resilience rules, which
says whether the page was recovered, became a gap (error type, HTTP status, attempts) or
ended the run (three consecutive 401 answers). Then:

* recovered: the snapshot is complete (exit 0) and the database equals the server's data;
* gaps: the open gaps name exactly the pages the log says failed; the snapshot is partial
  and merged (exit 2) when coverage meets the target, else failed and not merged (exit 1,
  docs/cli.md); every row it holds is one the server has, and whatever it lacks was on a
  page that was not served;
* fatal: exit 1, no request after the third 401, the snapshot failed, nothing merged;

and a rerun with the faults removed completes (closing the gaps of a partial snapshot in
that same snapshot) with the database equal to the server's data.

No real waiting: backoffs and Retry-After go through a FakeClock, injected latency through
the simulator's sleeper. Only a ``timeout`` fault costs wall time (the client's read
timeout). The default run has each kind alone at one rate plus a mixed case on a small
estate; ``PMP_INTEL_FULL_RELIABILITY=1`` adds the full matrix on a larger one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fault_oracle_helpers import (
    Expectation,
    ExpectedGap,
    PageKey,
    at_risk,
    expect,
    invented,
    lost_beyond_risk,
    requests_after,
)
from sim_truth_helpers import sim_extraction
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pmp_intel.api.client import PMPClient
from pmp_intel.api.clock import FakeClock
from pmp_intel.extract.extractor import Extractor
from pmp_intel.extract.result import ExitCode, ExtractionResult, RunOutcome
from pmp_intel.settings import Settings
from pmp_intel.store.models import ENTITIES, ExtractionGap, Snapshot
from pmp_intel.testing import simulated_pmp
from pmp_intel.testing.faults import FAULT_KINDS

FULL = os.environ.get("PMP_INTEL_FULL_RELIABILITY", "") not in ("", "0")
RATES = (0.05, 0.2, 0.5)
KINDS = tuple(FAULT_KINDS)
#: What each kind may lead to at all (the log decides which, page by page).
POSSIBLE = {
    **{kind: {"recovered", "gaps"} for kind in KINDS},
    "latency": {"recovered"},
    "401": {"recovered", "fatal"},
    "expire": {"recovered", "fatal"},
}
DEFAULT_COVERAGE_TARGET_PCT = 95.0
#: Seconds a ``timeout`` fault costs: the client's read timeout (real time, by nature).
READ_TIMEOUT = 0.5


@dataclass(frozen=True)
class Case:
    """One cell of the matrix."""

    kinds: tuple[str, ...]
    rate: float
    systems: int
    page_size: int
    seed: int = 1

    @property
    def spec(self) -> str:
        return f"rate={self.rate},kinds={'+'.join(self.kinds)},seed={self.seed}"

    @property
    def id(self) -> str:
        name = "mixed" if len(self.kinds) > 1 else self.kinds[0]
        return f"{name}-{round(self.rate * 100)}pct-{self.systems}sys"


def quick_rate(kind: str) -> float:
    """The default run's rate for ``kind``: high enough to exhaust budgets for the kinds
    that only fail a page after three misses, low for the one that costs real seconds."""
    if kind == "timeout":
        return 0.05
    if kind in ("503", "401"):
        return 0.5
    return 0.2


QUICK_CASES = [Case((k,), quick_rate(k), systems=10, page_size=25) for k in KINDS] + [
    Case(KINDS, 0.5, systems=10, page_size=25, seed=2)
]
FULL_CASES = [Case((k,), r, systems=30, page_size=10) for k in KINDS for r in RATES] + [
    Case(KINDS, r, systems=30, page_size=10, seed=2) for r in RATES
]
CASES = QUICK_CASES + (FULL_CASES if FULL else [])


def marked(case: Case) -> Any:
    """``case`` as a pytest parameter named after its kinds and rate."""
    return pytest.param(case, id=case.id)


def run_once(settings: Settings, engine: Engine, clock: FakeClock) -> ExtractionResult:
    """One extraction whose every wait goes through ``clock`` (no real sleeping)."""

    def client(s: Settings, on_event: Callable[..., None]) -> PMPClient:
        return PMPClient.from_settings(s, on_event=on_event, clock=clock)

    extractor = Extractor(
        settings, engine=engine, analyses=[], client_factory=client, monotonic=clock.monotonic
    )
    return extractor.run()


def recorded_gaps(engine: Engine, snapshot_id: int) -> dict[PageKey, ExpectedGap]:
    with Session(engine) as session:
        gaps = session.scalars(
            select(ExtractionGap).where(
                ExtractionGap.snapshot_id == snapshot_id, ExtractionGap.status == "open"
            )
        ).all()
        return {
            (g.endpoint, g.page, g.parent_key): ExpectedGap(g.error_type, g.http_status, g.attempts)
            for g in gaps
        }


def snapshot_row(engine: Engine, snapshot_id: int | None) -> Snapshot:
    assert snapshot_id is not None
    with Session(engine) as session:
        found = session.get(Snapshot, snapshot_id)
        assert found is not None
        return found


EMPTY = {"systems": set(), "patches": set(), "states": set()}


def missing(
    truth: dict[str, set[object]], content: dict[str, set[object]]
) -> dict[str, set[object]]:
    """What the server holds and the database lacks."""
    return {name: truth[name] - content[name] for name in truth}


def check_first_run(
    case: Case,
    result: ExtractionResult,
    expected: Expectation,
    engine: Engine,
    truth: dict[str, set[object]],
    content: dict[str, set[object]],
    after_fatal: list[object],
    risk_lost: dict[str, set[object]],
) -> None:
    """The run ended as the log says it must, and lost or invented nothing."""
    snap = snapshot_row(engine, result.snapshot_id)
    assert expected.outcome in set.union(*(POSSIBLE[k] for k in case.kinds))
    assert invented(truth, content) == EMPTY
    if expected.outcome == "fatal":
        assert (result.outcome, result.exit_code) == (RunOutcome.FAILED, ExitCode.FATAL)
        assert "401" in (result.error or "")
        assert after_fatal == []  # the run stopped at the third 401
        assert (snap.status, snap.merged_at) == ("failed", None)
        assert content == EMPTY
    elif expected.outcome == "recovered":
        assert missing(truth, content) == EMPTY
        assert content == truth
        assert (result.outcome, result.exit_code) == (RunOutcome.COMPLETE, ExitCode.COMPLETE)
        assert snap.status == "complete"
        assert recorded_gaps(engine, snap.id) == {}
    else:
        coverage = result.coverage_pct  # None when no page of allsystems could be read
        if coverage is not None and coverage >= DEFAULT_COVERAGE_TARGET_PCT:
            assert risk_lost == EMPTY
            assert (result.outcome, result.exit_code) == (
                RunOutcome.PARTIAL,
                ExitCode.NOT_COMPLETE,
            )
            assert snap.status == "partial"
            assert snap.merged_at is not None
        else:
            assert (result.outcome, result.exit_code) == (RunOutcome.FAILED, ExitCode.FATAL)
            assert "coverage" in (result.error or "")
            assert (snap.status, snap.merged_at) == ("failed", None)
            assert content == EMPTY
        assert recorded_gaps(engine, snap.id) == expected.gaps
    # every page was tried exactly as often as the rules allow
    assert expected.attempts_seen == expected.attempts_predicted


@pytest.mark.parametrize("case", [marked(c) for c in CASES])
def test_fault_case(
    case: Case, engine: Engine, database_url: str, record_property: Callable[[str, object], None]
) -> None:
    delays: list[float] = []
    with simulated_pmp(
        systems=case.systems,
        seed=case.seed,
        page_cap=case.page_size,
        supported_patches=10,
        faults=case.spec,
        sleeper=delays.append,
        timeout_stall=READ_TIMEOUT + 0.5,
    ) as pmp:
        settings = sim_extraction.settings_for(
            pmp, database_url, page_limit=case.page_size, read_timeout=READ_TIMEOUT
        )
        clock = FakeClock()
        first = run_once(settings, engine, clock)
        log = list(pmp.request_log)
        expected = expect(pmp, log, max_attempts=settings.max_attempts)
        risk = at_risk(pmp, log)
        truth = sim_extraction.truth(pmp)
        source = sim_extraction.source_id(engine, settings.source_name)
        content = sim_extraction.content(engine, source)
        assert sum(expected.injected.values()) > 0, "the case injected no fault"
        for name, value in (  # figures per case: pytest --junitxml=F -o junit_family=xunit1
            ("outcome", expected.outcome),
            ("faults_injected", dict(expected.injected)),
            ("faults_on_recovered_pages", dict(expected.recovered_faults)),
            ("gaps", len(expected.gaps)),
        ):
            record_property(name, value)
        assert len(delays) == expected.injected["latency"]
        check_first_run(
            case,
            first,
            expected,
            engine,
            truth,
            content,
            requests_after(log, expected.fatal_at) if expected.fatal_at else [],
            lost_beyond_risk(truth, content, risk),
        )
        assert malformed_history(engine, source) == {}
        if expected.outcome == "recovered":
            return
        pmp.clear_faults()
        second = run_once(settings, engine, clock)
        assert (second.outcome, second.exit_code) == (RunOutcome.COMPLETE, ExitCode.COMPLETE)
        if first.outcome is RunOutcome.PARTIAL:
            assert second.snapshot_id == first.snapshot_id
            assert second.gaps_closed == len(expected.gaps)
        assert recorded_gaps(engine, second.snapshot_id) == {}  # type: ignore[arg-type]
        healed = sim_extraction.content(engine, source)
        assert invented(truth, healed) == EMPTY
        # a page that slid back right after a gap (or after another such page) cannot be
        # told from a good one: only what it slid past may still be missing
        unseen = at_risk(pmp, log, undetected_drift_only=True)
        assert lost_beyond_risk(truth, healed, unseen) == EMPTY
        if "drift" not in case.kinds:
            assert healed == truth
        assert malformed_history(engine, source) == {}


def test_gap_run_completes_entities_born_in_the_same_snapshot(
    engine: Engine, database_url: str
) -> None:
    """A recovered dcapi_patches page names vulnerabilities that other pages of the same
    snapshot already merged (with other values): the gap run completes them in place
    instead of adding a second version with the same (key, valid_from)."""
    with simulated_pmp(systems=10, seed=2, page_cap=25, supported_patches=10) as pmp:
        settings = sim_extraction.settings_for(pmp, database_url, page_limit=25)
        clock = FakeClock()
        pmp.set_faults("dcapi_patches:page=5:503*3")
        first = run_once(settings, engine, clock)
        assert (first.outcome, first.gaps_open) == (RunOutcome.PARTIAL, 1)
        pmp.clear_faults()
        second = run_once(settings, engine, clock)
        truth = sim_extraction.truth(pmp)
    assert (second.outcome, second.snapshot_id, second.gaps_closed) == (
        RunOutcome.COMPLETE,
        first.snapshot_id,
        1,
    )
    source = sim_extraction.source_id(engine, settings.source_name)
    assert sim_extraction.content(engine, source) == truth
    assert malformed_history(engine, source) == {}


def malformed_history(engine: Engine, source: int) -> dict[str, tuple[int, int]]:
    """Entities whose history has empty validity ranges or a key with two current rows:
    name -> (empty ranges, surplus current rows)."""
    found = {}
    with Session(engine) as session:
        for entity, (model, _staging) in ENTITIES.items():
            table = model.__table__  # type: ignore[attr-defined]
            mine = table.c.source_id == source
            empty = session.scalar(
                select(func.count())
                .select_from(table)
                .where(mine, table.c.valid_to_snapshot_id == table.c.valid_from_snapshot_id)
            )
            key = [table.c[k] for k in model.__natural_key__] or [table.c.source_id]
            current = select(*key).where(mine, table.c.valid_to_snapshot_id.is_(None))
            rows = session.scalar(select(func.count()).select_from(current.subquery()))
            keys = session.scalar(select(func.count()).select_from(current.distinct().subquery()))
            if empty or rows != keys:
                found[entity] = (empty or 0, (rows or 0) - (keys or 0))
    return found
