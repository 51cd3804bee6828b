"""The Extractor end to end against the simulator (issue 5's "Done when")."""

from __future__ import annotations

import io
import itertools
import json
from collections import Counter

import pytest
from factories import SnapshotFactory, bind_session
from sim_extraction import content, history_rows, settings_for, snapshot, source_id, truth
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pmp_intel.endpoints import registry
from pmp_intel.extract.extractor import Extractor
from pmp_intel.extract.lock import LockHeldError, SourceLock
from pmp_intel.extract.result import ExitCode, RunOutcome
from pmp_intel.logs import configure_logging
from pmp_intel.settings import LogFormat, Settings
from pmp_intel.store.engine import session_factory
from pmp_intel.store.merge import CloseScope
from pmp_intel.store.models import (
    ApprovalSetting,
    EndpointRun,
    ExtractionGap,
    HealthPolicy,
    ServerSummary,
    Snapshot,
    StagedSystemPatchState,
)
from pmp_intel.testing import simulated_pmp

SYSTEMS = 60


def extract(settings, engine: Engine, **kwargs):  # type: ignore[no-untyped-def]
    return Extractor(settings, engine=engine, analyses=[], **kwargs).run()


@pytest.fixture
def logs() -> io.StringIO:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, stream=stream)
    return stream


def events(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_clean_run_holds_exactly_the_servers_data(
    engine: Engine, database_url: str, logs: io.StringIO
) -> None:
    with simulated_pmp(systems=SYSTEMS, seed=3) as pmp:
        settings = settings_for(pmp, database_url)
        result = extract(settings, engine)
        expected = truth(pmp)
    assert (result.outcome, result.exit_code) == (RunOutcome.COMPLETE, ExitCode.COMPLETE)
    assert result.coverage_pct == 100.0
    assert result.systems_extracted == SYSTEMS
    src = source_id(engine, settings.source_name)
    assert content(engine, src) == expected
    with Session(engine) as session:
        summary = session.scalars(
            select(ServerSummary).where(ServerSummary.snapshot_id == result.snapshot_id)
        ).one()
        staged = session.scalars(
            select(StagedSystemPatchState).where(
                StagedSystemPatchState.snapshot_id == result.snapshot_id
            )
        ).all()
    assert summary.total_systems == SYSTEMS
    missing = {s for s in expected["states"] if s[2] in (202, 206)}  # failed counts as missing
    assert summary.missing_patches == len({p for _, p, _ in missing})
    assert staged == []  # merged and cleared
    snap = snapshot(engine, result.snapshot_id)  # type: ignore[arg-type]
    assert snap.status == "complete"
    assert snap.merged_at is not None
    kinds = Counter(str(e["event_type"]) for e in events(logs))
    assert kinds["snapshot_started"] == kinds["snapshot_finished"] == 1
    assert kinds["extraction_progress"] >= 10
    assert kinds["page_extraction_failed"] == 0
    assert all("eta_seconds" in e for e in events(logs) if e["event_type"] == "extraction_progress")


def test_endpoint_runs_time_each_endpoint_on_its_own(engine: Engine, database_url: str) -> None:
    ticks = iter(range(0, 10**6, 2))  # every monotonic reading is 2 s after the previous one
    with simulated_pmp(systems=SYSTEMS, seed=3) as pmp:
        settings = settings_for(pmp, database_url)
        result = extract(settings, engine, monotonic=lambda: float(next(ticks)))
    with Session(engine) as session:
        runs = session.scalars(
            select(EndpointRun)
            .where(EndpointRun.snapshot_id == result.snapshot_id, EndpointRun.status == "complete")
            .order_by(EndpointRun.started_at)
        ).all()
    assert len(runs) >= 10
    for run in runs:
        assert run.finished_at is not None
        assert run.started_at <= run.finished_at
        # an endpoint is timed from its own start to its own end, by the injected clock
        assert run.duration_ms > 0
        assert run.duration_ms % 2000 == 0
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at is not None
        assert earlier.finished_at <= later.started_at  # read one after the other


def test_a_long_endpoint_keeps_its_lock_alive(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    beats: list[int | None] = []
    monkeypatch.setattr(
        SourceLock, "heartbeat", lambda self, snapshot_id=None: beats.append(snapshot_id)
    )
    ticks = iter(range(0, 10**7, 45))  # 45 s between clock readings: a slow server
    with simulated_pmp(systems=SYSTEMS, seed=3) as pmp:
        settings = settings_for(pmp, database_url, commit_every_pages=1, page_limit=10)
        result = extract(
            settings, engine, endpoints=["allsystems"], monotonic=lambda: float(next(ticks))
        )
    assert result.pages == 6
    # besides the one at the start and the one after the endpoint: heartbeats while paging
    assert len(beats) >= 2 + 3


def test_history_reproduces_each_snapshot_and_unchanged_estate_barely_grows(
    engine: Engine, database_url: str
) -> None:
    with simulated_pmp(systems=SYSTEMS, seed=4) as pmp:
        settings = settings_for(pmp, database_url)
        first = extract(settings, engine)
        at_first = truth(pmp)
        pmp.advance(days=2)
        second = extract(settings, engine)
        at_second = truth(pmp)
        src = source_id(engine, settings.source_name)
        rows = history_rows(engine, src)
        third = extract(settings, engine)  # nothing changed on the server
    assert at_first != at_second  # the simulator's churn is real
    assert content(engine, src, first.snapshot_id) == at_first
    assert content(engine, src, second.snapshot_id) == at_second
    assert third.outcome is RunOutcome.COMPLETE
    assert history_rows(engine, src) - rows <= rows * 0.01


def test_random_faults_are_recovered_and_requests_are_counted(
    engine: Engine, database_url: str
) -> None:
    faults = (
        "rate=0.1,kinds=503+502+500+504+429+html+reset+timeout+truncated+empty+emptylist,seed=5"
    )
    with simulated_pmp(systems=SYSTEMS, seed=5, faults=faults) as pmp:
        settings = settings_for(pmp, database_url, max_attempts=8, read_timeout=2.0)
        result = extract(settings, engine, monotonic=lambda: 0.0)
        pmp.clear_faults()
        expected = truth(pmp)
        log = list(pmp.request_log)
    assert result.outcome is RunOutcome.COMPLETE, result
    src = source_id(engine, settings.source_name)
    assert content(engine, src) == expected
    injected = [r for r in log if r.fault]
    assert injected, "the fault spec injected nothing"
    with Session(engine) as session:
        runs = {
            r.endpoint: r
            for r in session.scalars(
                select(EndpointRun).where(EndpointRun.snapshot_id == result.snapshot_id)
            )
        }
    served = Counter(r.path for r in log)
    for name, run in runs.items():
        assert run.requests == served[registry.get(name).url_path], name
    assert sum(r.retries for r in runs.values()) >= len(injected) - 2


def test_permanent_page_failures_become_gaps_then_heal(engine: Engine, database_url: str) -> None:
    with simulated_pmp(systems=SYSTEMS, seed=6, page_cap=25) as pmp:
        settings = settings_for(pmp, database_url, page_limit=25)
        pmp.set_faults("allpatches:page=2:503*99;som_computers:page=1:html*99")
        first = extract(settings, engine, monotonic=lambda: 0.0)
        assert (first.outcome, first.exit_code) == (RunOutcome.PARTIAL, ExitCode.NOT_COMPLETE)
        with Session(engine) as session:
            gaps = session.scalars(
                select(ExtractionGap).where(ExtractionGap.snapshot_id == first.snapshot_id)
            ).all()
        assert {(g.endpoint, g.page, g.error_type, g.http_status) for g in gaps} == {
            ("allpatches", 2, "server_error", 503),
            ("som_computers", 1, "html_throttle", 200),
        }
        assert all(g.status == "open" and g.attempts == 3 for g in gaps)
        pmp.clear_faults()
        second = extract(settings, engine)
        expected = truth(pmp)
    assert (second.outcome, second.exit_code) == (RunOutcome.COMPLETE, ExitCode.COMPLETE)
    assert second.gap_retry_only
    assert second.snapshot_id == first.snapshot_id
    assert second.gaps_closed == 2
    src = source_id(engine, settings.source_name)
    assert content(engine, src) == expected
    assert snapshot(engine, first.snapshot_id).status == "complete"  # type: ignore[arg-type]


def test_a_first_page_that_never_heals_stays_one_gap_until_abandoned(
    engine: Engine, database_url: str
) -> None:
    """Page 1 fails for good, so the server never said how many pages there are: later runs
    retry that gap and never guess at pages after it (each guess used to fail and become one
    more gap, so the snapshot was retried for ever)."""
    with simulated_pmp(systems=SYSTEMS, seed=6) as pmp:
        settings = settings_for(pmp, database_url)
        pmp.set_faults("som_computers:page=1:503*inf")
        results = [extract(settings, engine, monotonic=lambda: 0.0) for _ in range(5)]
        asked = sorted(
            {int(r.params.get("page", 1)) for r in pmp.request_log if "som/computers" in r.path}
        )
    first = results[0]
    assert asked == [1]
    with Session(engine) as session:
        gaps = session.scalars(
            select(ExtractionGap).where(ExtractionGap.snapshot_id == first.snapshot_id)
        ).all()
    assert [(g.endpoint, g.page, g.status) for g in gaps] == [("som_computers", 1, "abandoned")]
    # tried in GAP_MAX_RUNS runs, then abandoned: the next run starts a new snapshot
    assert [r.gap_retry_only for r in results] == [False, True, True, False, True]
    assert {r.snapshot_id for r in results} == {first.snapshot_id, results[3].snapshot_id}
    assert all(r.exit_code is ExitCode.NOT_COMPLETE for r in results)


def test_an_endpoint_with_invalid_records_closes_nothing(db_session: Session) -> None:
    """What an invalid record describes is unknown: as for a failed page, the entities an
    endpoint no longer lists keep their last state instead of being closed."""
    bind_session(db_session)
    try:
        snap = SnapshotFactory(in_progress=True)
        db_session.add_all(
            [
                EndpointRun(snapshot_id=snap.id, endpoint="allpatches", invalid_records=0),
                EndpointRun(snapshot_id=snap.id, endpoint="dcapi_systemreport", invalid_records=2),
            ]
        )
        db_session.flush()
        extractor = Extractor(
            Settings(database_url="sqlite://", base_url="https://pmp.example"), analyses=[]
        )
        closes = {
            name: extractor._close_unless_invalid(db_session, snap.id, name)
            for name in ("allpatches", "dcapi_systemreport")
        }
    finally:
        bind_session(None)
    assert closes == {
        "allpatches": CloseScope.everything(),
        "dcapi_systemreport": CloseScope.none(),
    }


def test_token_expiry_mid_run_costs_no_page(
    engine: Engine, database_url: str, logs: io.StringIO
) -> None:
    with simulated_pmp(systems=SYSTEMS, seed=8, token_ttl=0.05) as pmp:
        settings = settings_for(pmp, database_url)
        result = extract(settings, engine)
    assert result.outcome is RunOutcome.COMPLETE
    assert result.gaps_recorded == 0
    refreshed = [e for e in events(logs) if e["event_type"] == "token_refreshed"]
    assert len(refreshed) >= 2


def test_bad_credentials_fail_after_three_401s_and_merge_nothing(
    engine: Engine, database_url: str
) -> None:
    with simulated_pmp(systems=SYSTEMS, seed=9, auth="token") as pmp:
        settings = settings_for(pmp, database_url, token="not-the-token")
        result = extract(settings, engine)
        unauthorized = [r for r in pmp.request_log if r.status == 401]
    assert (result.outcome, result.exit_code) == (RunOutcome.FAILED, ExitCode.FATAL)
    assert "401" in (result.error or "")
    assert len(unauthorized) == 3
    snap = snapshot(engine, result.snapshot_id)  # type: ignore[arg-type]
    assert snap.status == "failed"
    assert snap.merged_at is None
    src = source_id(engine, settings.source_name)
    assert content(engine, src) == {"systems": set(), "patches": set(), "states": set()}


def test_budget_stop_then_resume(engine: Engine, database_url: str) -> None:
    with simulated_pmp(systems=SYSTEMS, seed=10, page_cap=25) as pmp:
        settings = settings_for(pmp, database_url, page_limit=25, commit_every_pages=2)
        first = extract(settings, engine, max_pages=5)
        assert (first.outcome, first.exit_code) == (RunOutcome.BUDGET, ExitCode.NOT_COMPLETE)
        assert snapshot(engine, first.snapshot_id).status == "in_progress"  # type: ignore[arg-type]
        second = extract(settings, engine, max_pages=5)
        assert second.resumed
        assert second.snapshot_id == first.snapshot_id
        final = None
        for _ in range(40):
            final = extract(settings, engine, max_pages=5)
            if final.outcome is not RunOutcome.BUDGET:
                break
        expected = truth(pmp)
    assert final is not None
    assert final.outcome is RunOutcome.COMPLETE
    assert final.snapshot_id == first.snapshot_id
    src = source_id(engine, settings.source_name)
    assert content(engine, src) == expected


def test_budget_stop_after_a_one_page_endpoint_resumes_without_rereading_it(
    engine: Engine, database_url: str
) -> None:
    """A budget stop right after an endpoint's last page (its rows staged, the endpoint not
    yet marked complete): the next run marks it complete, instead of staging the single
    page of healthpolicy / approvalsettings a second time, or asking for the page after
    the last of viewconfig (which used to loop: page 2, page 3 "corrupt", restart…)."""
    names = ["healthpolicy", "approvalsettings", "viewconfig", "dbupdatestatus"]
    with simulated_pmp(systems=12, seed=13) as pmp:
        settings = settings_for(pmp, database_url)
        runs = [extract(settings, engine, endpoints=names, max_pages=1)]
        while runs[-1].outcome is RunOutcome.BUDGET and len(runs) < 10:
            runs.append(extract(settings, engine, endpoints=names, max_pages=1))
    assert [r.outcome for r in runs[:-1]] == [RunOutcome.BUDGET] * (len(runs) - 1)
    assert runs[-1].outcome is RunOutcome.COMPLETE
    assert len({r.snapshot_id for r in runs}) == 1
    src = source_id(engine, settings.source_name)
    with session_factory(engine)() as session:
        policies = session.scalar(
            select(func.count()).select_from(HealthPolicy).where(HealthPolicy.source_id == src)
        )
        settings_rows = session.scalar(
            select(func.count())
            .select_from(ApprovalSetting)
            .where(ApprovalSetting.source_id == src)
        )
    assert (policies, settings_rows) == (1, 1)


def test_reset_abandons_the_open_snapshot(engine: Engine, database_url: str) -> None:
    with simulated_pmp(systems=SYSTEMS, seed=11, page_cap=25) as pmp:
        settings = settings_for(pmp, database_url, page_limit=25)
        first = extract(settings, engine, max_pages=2)
        second = extract(settings, engine, reset=True)
    assert second.snapshot_id != first.snapshot_id
    assert second.outcome is RunOutcome.COMPLETE
    old = snapshot(engine, first.snapshot_id)  # type: ignore[arg-type]
    assert (old.status, old.error_message) == ("failed", "reset")


def test_second_extraction_of_a_source_is_refused(engine: Engine, database_url: str) -> None:
    with simulated_pmp(systems=10, seed=12) as pmp:
        settings = settings_for(pmp, database_url)
        extract(settings, engine)
        src = source_id(engine, settings.source_name)
        holder = SourceLock(session_factory(engine), src, holder="elsewhere:1")
        holder.acquire()
        try:
            with pytest.raises(LockHeldError, match="elsewhere:1"):
                extract(settings, engine)
        finally:
            holder.release()


def test_no_secret_reaches_logs_or_the_database(
    engine: Engine, database_url: str, logs: io.StringIO
) -> None:
    with simulated_pmp(
        systems=SYSTEMS, seed=13, token_ttl=0.05, faults="allsystems:page=1:401*1"
    ) as pmp:
        settings = settings_for(pmp, database_url)
        result = extract(settings, engine)
        issued = [r for r in pmp.request_log if r.path.endswith("/oauth/v2/token")]
    assert result.outcome is RunOutcome.COMPLETE
    assert issued
    secrets = settings.secret_values()
    text = logs.getvalue()
    with Session(engine) as session:
        stored = " ".join(
            json.dumps([str(v) for v in row])
            for row in session.execute(select(ExtractionGap.__table__)).all()
        ) + " ".join(
            str(s.details) + str(s.error_message) for s in session.scalars(select(Snapshot))
        )
    for secret in secrets:
        assert secret not in text
        assert secret not in stored
