"""The Extractor: one PMP server → one new (or resumed) snapshot of the unified database.

A run, in order (design.md §2–§4):

1. migrate the database if needed, find or create the source, take its lock (a second run
   stops with exit 1);
2. pick the snapshot: resume the open one; else, if the newest snapshot is ``partial`` with
   open gaps, retry those pages into it (a *gap run*); else open a new one;
3. retry the snapshot's open gaps first, closing those that now succeed;
4. read each selected endpoint from its checkpoint: every page's rows go to staging with
   the page's checkpoint in one transaction, committed every ``commit_every`` pages; a page
   that fails after the retry budget becomes a gap and the run goes on; one endpoint
   failing never stops the others;
5. stop early on the page or time budget (snapshot stays open, exit 2), or finish:
   ``complete`` (no gaps), ``partial`` (gaps, coverage target met) or ``failed``; a complete
   or partial snapshot is merged into history in one transaction, then metrics and
   compliance run for it;
6. release the lock, send the Slack summary, run ``POST_EXTRACTION_HOOK``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, distinct, func, select
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.api.client import PMPClient
from pmp_intel.api.errors import AuthenticationError, PMPAPIError, RequestFailedError
from pmp_intel.api.events import EventCallback
from pmp_intel.api.paginate import DEFAULT_PAGE_SIZE, Page, PageFailure, PagingStyle
from pmp_intel.endpoints import registry
from pmp_intel.endpoints.base import Endpoint, RecordRows
from pmp_intel.errors import ConfigurationError
from pmp_intel.extract.hook import run_post_extraction_hook
from pmp_intel.extract.lock import SourceLock
from pmp_intel.extract.observer import RunObserver
from pmp_intel.extract.progress import RunProgress
from pmp_intel.extract.result import EndpointSummary, ExtractionResult, RunOutcome
from pmp_intel.extract.slack import SlackNotifier
from pmp_intel.extract.snapshot import (
    Coverage,
    count_open_gaps,
    ensure_source,
    fail_snapshot,
    gap_retry_target,
    open_gaps,
    open_snapshot,
    reset_open_snapshot,
    start_snapshot,
)
from pmp_intel.extract.staging import PageWrite, PageWriter
from pmp_intel.logs import get_logger, log_event
from pmp_intel.settings import Settings
from pmp_intel.store.engine import create_db_engine, redacted_url, session_factory, unit_of_work
from pmp_intel.store.merge import CloseScope, EntityMerge, merge_snapshot
from pmp_intel.store.models import (
    ENTITIES,
    EndpointRun,
    EndpointRunStatus,
    ExtractionCheckpoint,
    ExtractionGap,
    GapStatus,
    ServerSummary,
    Snapshot,
    SnapshotStatus,
    StagedSystem,
)
from pmp_intel.store.schema import ensure_schema
from pmp_intel.store.types import utcnow

if TYPE_CHECKING:
    from rich.console import Console

#: A gap tried in this many runs is abandoned (the page is assumed gone for good).
GAP_MAX_RUNS = 3
#: Entity whose distinct natural keys measure coverage, and the endpoint reporting its total.
COVERAGE_ENDPOINT = "allsystems"
MILESTONES = (25, 50, 75)
#: Seconds between lock heartbeats while pages are committed (the lock is taken over after
#: 30 minutes without one).
HEARTBEAT_EVERY_S = 60.0
#: Records a checkpoint may hold relative to the server's total before it is called corrupt:
#: page drift (rows shifting while paging) legitimately delivers some records twice.
DRIFT_ALLOWANCE = 1.5

ClientFactory = Callable[[Settings, EventCallback], PMPClient]
#: Run on a merged snapshot, in the merge's transaction: ``analysis(sessions, snapshot_id)``
#: (``sessions`` open savepoints of that transaction; see ``Extractor._analyse``).
Analysis = Callable[[sessionmaker[Session], int], object]


def default_analyses(settings: Settings) -> list[Analysis]:
    """Metrics and Essential Eight compliance for each merged snapshot."""
    # imported here: analysis code is only needed once a snapshot has been merged
    from pmp_intel.analyse import ComplianceChecker, ComplianceConfig, MetricsCalculator

    def metrics(sessions: sessionmaker[Session], snapshot_id: int) -> object:
        return MetricsCalculator(sessions, settings).calculate(snapshot_id)

    def compliance(sessions: sessionmaker[Session], snapshot_id: int) -> object:
        config = ComplianceConfig.load(settings.compliance_config)
        return ComplianceChecker(sessions, config=config).evaluate(snapshot_id)

    return [metrics, compliance]


class _BudgetExhausted(Exception):
    """Raised inside the page loop when the run's page or time budget is spent."""


class _RestartEndpoint(Exception):
    """The server's page size changed since the checkpoint: re-read the endpoint."""


@dataclass
class _EndpointState:
    """What this run learned about one endpoint."""

    endpoint: Endpoint
    status: EndpointRunStatus = EndpointRunStatus.RUNNING
    pages: int = 0
    records: int = 0
    gaps: int = 0
    total_reported: int | None = None
    error: str | None = None
    seen_parents: set[str] = field(default_factory=set)
    #: When this run started and finished reading the endpoint, and the seconds it took
    #: (not yet added to its ``endpoint_runs`` row).
    started_at: datetime | None = None
    finished_at: datetime | None = None
    elapsed_s: float = 0.0


class Extractor:
    """Extract a PMP server into the unified database (see the module docstring).

    >>> result = Extractor(Settings()).run()          # doctest: +SKIP
    >>> result.exit_code, result.coverage_pct         # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        engine: Engine | None = None,
        endpoints: Sequence[str] | None = None,
        trigger: str = "manual",
        max_pages: int | None = None,
        max_minutes: float | None = None,
        reset: bool = False,
        client_factory: ClientFactory | None = None,
        analyses: Sequence[Analysis] | None = None,
        notifier: SlackNotifier | None = None,
        console: Console | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        logger: logging.Logger | None = None,
    ) -> None:
        self.settings = settings or Settings()
        if not self.settings.base_url:
            raise ConfigurationError("PMP_BASE_URL is not set: which PMP server to extract?")
        self.engine = engine
        self.endpoint_names = list(endpoints) if endpoints is not None else None
        self.trigger = trigger
        self.max_pages = max_pages
        self.max_minutes = max_minutes
        self.reset = reset
        self.client_factory = client_factory or self._default_client
        self.analyses = list(analyses) if analyses is not None else default_analyses(self.settings)
        webhook = self.settings.slack_webhook_url
        self.notifier = notifier or SlackNotifier(
            webhook.get_secret_value() if webhook is not None else None, clock=monotonic
        )
        self.console = console
        self.monotonic = monotonic
        #: Time stamped on snapshots (a simulator's own clock in demos and tests).
        self.now = now
        self.log = logger or get_logger("extract")
        # per-run state
        self._snapshot_id: int | None = None
        self._source_id: int | None = None
        self._started = 0.0
        self._pages_this_run = 0
        self._milestones_sent: set[int] = set()

    # -- construction helpers ------------------------------------------------------------
    @staticmethod
    def _default_client(settings: Settings, on_event: EventCallback) -> PMPClient:
        return PMPClient.from_settings(settings, on_event=on_event)

    def selected_endpoints(self) -> list[Endpoint]:
        """The endpoints this run reads, in run order (replacements after what they
        replace, fan-outs after their parents)."""
        chosen = registry.select(self.endpoint_names)
        names = [e.name for e in chosen]
        ordered = [e for e in chosen if not (e.replaced_by and e.replaced_by in names)]
        ordered += [e for e in chosen if e.replaced_by and e.replaced_by in names]
        return ordered

    # -- the run -------------------------------------------------------------------------
    def run(self) -> ExtractionResult:
        """Extract once; never raises for PMP or data problems (see ``result.error``).

        Raises :class:`~pmp_intel.extract.lock.LockHeldError` when another extraction of
        the source runs, and configuration / database errors before any snapshot exists.
        """
        self._started = self.monotonic()
        self._pages_this_run = 0
        self._milestones_sent = set()
        engine = self.engine or create_db_engine(settings=self.settings)
        ensure_schema(engine)
        sessions = session_factory(engine)
        endpoints = self.selected_endpoints()
        with unit_of_work(sessions) as session:
            source_id = ensure_source(session, self.settings.source_name, self.settings.base_url).id
        lock = SourceLock(sessions, source_id)
        lock.acquire()
        if lock.taken_over_from:
            log_event(
                self.log,
                logging.WARNING,
                "lock_taken_over",
                "took over the lock of a run that is gone",
                previous_holder=lock.taken_over_from,
            )
        progress = RunProgress([e.name for e in endpoints], self.monotonic, self.console)
        try:
            return self._run_locked(sessions, source_id, endpoints, lock, progress)
        finally:
            progress.close()
            lock.release()
            self.notifier.flush()

    def _run_locked(
        self,
        sessions: sessionmaker[Session],
        source_id: int,
        endpoints: list[Endpoint],
        lock: SourceLock,
        progress: RunProgress,
    ) -> ExtractionResult:
        gap_run = False
        with unit_of_work(sessions) as session:
            if self.reset:
                reset_id = reset_open_snapshot(session, source_id)
                if reset_id is not None:
                    log_event(
                        self.log,
                        logging.WARNING,
                        "snapshot_reset",
                        "abandoned the open snapshot",
                        snapshot_id=reset_id,
                        reason="reset",
                    )
            snapshot = open_snapshot(session, source_id)
            resumed = snapshot is not None
            if snapshot is None:
                snapshot = gap_retry_target(session, source_id, GAP_MAX_RUNS)
                gap_run = snapshot is not None
            if snapshot is None:
                snapshot = start_snapshot(session, source_id, self.trigger, self.now())
            snapshot_id = snapshot.id
        self._snapshot_id = snapshot_id
        self._source_id = source_id
        lock.heartbeat(snapshot_id)
        result = ExtractionResult(
            RunOutcome.FAILED, snapshot_id, source_id, resumed=resumed, gap_retry_only=gap_run
        )
        kind = "gap retry" if gap_run else ("resumed" if resumed else "started")
        log_event(
            self.log,
            logging.INFO,
            "snapshot_started",
            f"snapshot {kind}",
            snapshot_id=snapshot_id,
            mode=kind.replace(" ", "_"),
            source=self.settings.source_name,
            database=redacted_url(sessions.kw["bind"].url),
            endpoints=[e.name for e in endpoints],
        )
        self.notifier.notify(
            f"🔄 PMP extraction {kind}: snapshot {snapshot_id} of "
            f"{self.settings.source_name} ({len(endpoints)} endpoints)"
        )
        observer = RunObserver(self.log, lambda: self._snapshot_id, self._on_attempt_failure)
        states = {e.name: _EndpointState(e) for e in endpoints}
        client = self.client_factory(self.settings, observer)
        writer = PageWriter(
            sessions,
            snapshot_id,
            self.settings.commit_every_pages,
            on_commit=self._heartbeat_every(lock, HEARTBEAT_EVERY_S),
        )
        try:
            with client:
                try:
                    result.gaps_closed = self._retry_gaps(
                        sessions, writer, client, states, snapshot_id, progress
                    )
                    for state in states.values():
                        if gap_run and not self._checkpoint_incomplete(
                            sessions, snapshot_id, state.endpoint.name
                        ):
                            continue
                        self._run_endpoint(
                            sessions, writer, client, observer, state, states, progress, lock
                        )
                except _BudgetExhausted:
                    writer.commit()
                    self._save_endpoint_runs(sessions, states, observer)
                    return self._budget_stop(sessions, result, states)
                writer.commit()
                self._save_endpoint_runs(sessions, states, observer)
                return self._finish(sessions, result, states, gap_run)
        except (AuthenticationError, PMPAPIError) as exc:
            writer.rollback()
            return self._fail(sessions, result, states, observer, str(exc))

    def _heartbeat_every(self, lock: SourceLock, seconds: float) -> Callable[[], None]:
        """A commit hook refreshing the lock's heartbeat at most every ``seconds``: an
        endpoint that pages for longer than the lock's staleness limit keeps its lock."""
        last = self.monotonic()

        def beat() -> None:
            nonlocal last
            moment = self.monotonic()
            if moment - last >= seconds:
                lock.heartbeat()
                last = moment

        return beat

    # -- gaps ----------------------------------------------------------------------------
    def _retry_gaps(
        self,
        sessions: sessionmaker[Session],
        writer: PageWriter,
        client: PMPClient,
        states: dict[str, _EndpointState],
        snapshot_id: int,
        progress: RunProgress,
    ) -> int:
        with sessions() as session:
            gaps = [
                (g.id, g.endpoint, g.parent_key, g.page) for g in open_gaps(session, snapshot_id)
            ]
        closed = 0
        for gap_id, endpoint_name, parent_key, page_number in gaps:
            state = states.get(endpoint_name)
            endpoint = state.endpoint if state else registry.get(endpoint_name)
            self._spend_budget()
            try:
                page = client.get_page(endpoint, page_number, parent=parent_key or None)
            except RequestFailedError as exc:
                # in the writer's own transaction: on SQLite a second writer would block
                failed = writer.session.get(ExtractionGap, gap_id)
                assert failed is not None
                failed.runs += 1
                failed.attempts += exc.attempts or 0
                failed.last_attempt_at = utcnow()
                failed.http_status = exc.http_status
                failed.error_type = exc.error_type.value
                writer.commit()
                log_event(
                    self.log,
                    logging.WARNING,
                    "gap_retry_failed",
                    f"{endpoint_name} page {page_number} still fails",
                    snapshot_id=snapshot_id,
                    endpoint=endpoint_name,
                    page=page_number,
                    parent=parent_key or None,
                    error_type=exc.error_type.value,
                )
                continue
            self._write_page(writer, endpoint, page, state)
            gap = writer.session.get(ExtractionGap, gap_id)
            assert gap is not None
            gap.status = GapStatus.CLOSED.value
            gap.closed_at = utcnow()
            gap.closed_in_snapshot_id = snapshot_id
            gap.runs += 1
            writer.commit()
            closed += 1
            progress.advance(endpoint_name)
            log_event(
                self.log,
                logging.INFO,
                "gap_closed",
                f"{endpoint_name} page {page_number} recovered",
                snapshot_id=snapshot_id,
                endpoint=endpoint_name,
                page=page_number,
                parent=parent_key or None,
                records=len(page.records),
            )
            self._continue_after_gap(writer, client, endpoint, parent_key, state, progress)
        return closed

    def _continue_after_gap(
        self,
        writer: PageWriter,
        client: PMPClient,
        endpoint: Endpoint,
        parent_key: str,
        state: _EndpointState | None,
        progress: RunProgress,
    ) -> None:
        """After a refilled gap, read on when the endpoint (or parent) stopped there."""
        cp = self._checkpoint(writer.session, writer.snapshot_id, endpoint.name, parent_key)
        if cp is None or cp.completed:
            return
        if _read_to_the_end(endpoint, cp):  # the refilled page carried the latest total
            self._mark_completed(writer, endpoint.name, parent_key)
            writer.commit()
            return
        scratch = state or _EndpointState(endpoint)
        self._read_pages(writer, client, scratch, progress, cp.last_page + 1, parent_key or None)
        writer.commit()

    def _record_gap(self, writer: PageWriter, state: _EndpointState, failure: PageFailure) -> None:
        gap = ExtractionGap(
            source_id=self._source_id_of(writer),
            endpoint=failure.endpoint,
            parent_key=failure.parent or "",
            page=failure.number,
            error_type=failure.error_type.value,
            http_status=failure.http_status,
            attempts=failure.attempts,
            error_message=failure.detail or None,
            response_sample=failure.sample or None,
            status=GapStatus.OPEN.value,
        )
        writer.record_gap(
            gap,
            advance=PageWrite(
                failure.endpoint,
                failure.number,
                [],
                parent_key=failure.parent or "",
                page_limit=None,
            ),
        )
        state.gaps += 1
        log_event(
            self.log,
            logging.ERROR,
            "gap_recorded",
            f"{failure.endpoint} page {failure.number} recorded as a gap",
            snapshot_id=self._snapshot_id,
            endpoint=failure.endpoint,
            page=failure.number,
            parent=failure.parent,
            error_type=failure.error_type.value,
            http_status=failure.http_status,
            attempts=failure.attempts,
        )

    def _source_id_of(self, writer: PageWriter) -> int:
        if self._source_id is None:
            snapshot = writer.session.get(Snapshot, writer.snapshot_id)
            assert snapshot is not None
            self._source_id = snapshot.source_id
        return self._source_id

    def _on_attempt_failure(self, event: Any) -> None:
        self.notifier.notify(
            f"{event.endpoint} page {event.page} failed after {event.attempt} attempt(s) "
            f"({event.error_type.value}"
            + (f", HTTP {event.http_status}" if event.http_status else "")
            + ")",
            urgent=True,
        )

    # -- endpoints -----------------------------------------------------------------------
    def _checkpoint(
        self, session: Session, snapshot_id: int, endpoint: str, parent_key: str = ""
    ) -> ExtractionCheckpoint | None:
        return session.scalar(
            select(ExtractionCheckpoint).where(
                ExtractionCheckpoint.snapshot_id == snapshot_id,
                ExtractionCheckpoint.endpoint == endpoint,
                ExtractionCheckpoint.parent_key == parent_key,
            )
        )

    def _checkpoint_incomplete(
        self, sessions: sessionmaker[Session], snapshot_id: int, endpoint: str
    ) -> bool:
        with sessions() as session:
            cp = self._checkpoint(session, snapshot_id, endpoint)
            return cp is not None and not cp.completed

    def _run_endpoint(
        self,
        sessions: sessionmaker[Session],
        writer: PageWriter,
        client: PMPClient,
        observer: RunObserver,
        state: _EndpointState,
        states: dict[str, _EndpointState],
        progress: RunProgress,
        lock: SourceLock,
    ) -> None:
        endpoint = state.endpoint
        replacement = states.get(endpoint.replaced_by or "")
        if replacement is not None and replacement.status in (
            EndpointRunStatus.COMPLETE,
            EndpointRunStatus.PARTIAL,
        ):
            state.status = EndpointRunStatus.SKIPPED
            state.error = f"replaced by {replacement.endpoint.name}"
            progress.finish(endpoint.name)
            return
        state.started_at = state.started_at or utcnow()
        started = self.monotonic()
        try:
            self._read_endpoint(sessions, writer, client, state, progress)
            writer.commit()
        finally:  # a budget stop also counts the time spent
            state.elapsed_s += self.monotonic() - started
        state.finished_at = utcnow()
        lock.heartbeat()
        progress.finish(endpoint.name)
        if state.status in (EndpointRunStatus.PARTIAL, EndpointRunStatus.FAILED):
            self.notifier.notify(
                f"{endpoint.name}: {state.gaps} page(s) could not be read", urgent=True
            )
        self._save_endpoint_runs(sessions, {endpoint.name: state}, observer)

    def _read_endpoint(
        self,
        sessions: sessionmaker[Session],
        writer: PageWriter,
        client: PMPClient,
        state: _EndpointState,
        progress: RunProgress,
    ) -> None:
        endpoint = state.endpoint
        for _attempt in range(2):
            try:
                if endpoint.paging.fan_out:
                    self._read_fan_out(sessions, writer, client, state, progress)
                else:
                    self._read_paged(sessions, writer, client, state, progress)
                return
            except _RestartEndpoint:
                writer.commit()
                writer.discard_endpoint(endpoint.name)
                log_event(
                    self.log,
                    logging.WARNING,
                    "checkpoint_invalid",
                    f"{endpoint.name}: the server's page size changed; re-reading",
                    snapshot_id=self._snapshot_id,
                    endpoint=endpoint.name,
                )

    def _read_paged(
        self,
        sessions: sessionmaker[Session],
        writer: PageWriter,
        client: PMPClient,
        state: _EndpointState,
        progress: RunProgress,
    ) -> None:
        endpoint = state.endpoint
        with sessions() as session:
            cp = self._validated_checkpoint(session, writer, endpoint)
        if cp is not None and cp.completed:
            state.status = EndpointRunStatus.COMPLETE
            state.total_reported = cp.total_reported
            return
        if cp is not None and _read_to_the_end(endpoint, cp):
            # a budget stop came between the last page and marking it complete: asking
            # for the page after the end would stage one beyond it (or loop, "corrupt")
            self._mark_completed(writer, endpoint.name, "")
            state.total_reported = cp.total_reported
            completed = True
        elif (
            cp is not None
            and cp.total_reported is None
            and self._open_gaps_for(writer, endpoint.name, page=cp.last_page)
        ):
            # the read stopped at a page that failed before the server said where the end
            # is: the pages after it may not exist, so only its gap's retry reads on
            completed = False
        else:
            completed = self._read_pages(
                writer,
                client,
                state,
                progress,
                cp.last_page + 1 if cp is not None else 1,
                None,
                resumed_limit=cp.page_limit if cp is not None else None,
            )
        if state.status is EndpointRunStatus.UNSUPPORTED:
            return
        state.status = (
            EndpointRunStatus.COMPLETE
            if completed and not self._open_gaps_for(writer, endpoint.name)
            else EndpointRunStatus.PARTIAL
        )

    def _read_pages(
        self,
        writer: PageWriter,
        client: PMPClient,
        state: _EndpointState,
        progress: RunProgress,
        start_page: int,
        parent: str | None,
        *,
        resumed_limit: int | None = None,
    ) -> bool:
        """Read ``state.endpoint`` from ``start_page`` to its end; True when the end was
        reached (the checkpoint is then marked completed in the same batch)."""
        endpoint = state.endpoint
        outcomes = client.iter_pages(endpoint.for_staging(), start_page=start_page, parent=parent)
        last: Page | PageFailure | None = None
        try:
            for outcome in outcomes:
                last = outcome
                if isinstance(outcome, PageFailure):
                    if outcome.not_supported:
                        state.status = EndpointRunStatus.UNSUPPORTED
                        state.error = outcome.detail or "not supported by this server"
                        return False
                    self._record_gap(writer, state, outcome)
                    progress.advance(endpoint.name)
                    self._spend_budget()
                    continue
                if (
                    start_page > 1
                    and resumed_limit
                    and outcome.limit
                    and outcome.limit != resumed_limit
                    and outcome.number == start_page
                ):
                    raise _RestartEndpoint
                self._write_page(writer, endpoint, outcome, state)
                if outcome.last_page:
                    progress.plan(endpoint.name, outcome.last_page - start_page + 1)
                progress.advance(endpoint.name)
                self._log_progress(endpoint.name, outcome, progress, state)
                self._spend_budget()
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()
        if isinstance(last, Page):
            self._mark_completed(writer, endpoint.name, parent or "")
            return True
        return False

    def _validated_checkpoint(
        self, session: Session, writer: PageWriter, endpoint: Endpoint
    ) -> ExtractionCheckpoint | None:
        """The endpoint's checkpoint, or None after discarding a corrupt one."""
        cp = self._checkpoint(session, writer.snapshot_id, endpoint.name)
        if cp is None:
            return None
        problem = None
        if cp.total_reported is not None and cp.page_limit:
            pages = max(1, -(-cp.total_reported // cp.page_limit))
            if cp.last_page > pages + 1:
                problem = f"page {cp.last_page} beyond the {pages} pages of total"
        allowed = (
            None
            if cp.total_reported is None
            else cp.total_reported * DRIFT_ALLOWANCE + DEFAULT_PAGE_SIZE
        )
        if allowed is not None and cp.records_extracted > allowed:
            problem = (
                f"{cp.records_extracted} records for a total of {cp.total_reported}, "
                "more than page drift can explain"
            )
        if problem is None:
            return cp
        log_event(
            self.log,
            logging.WARNING,
            "checkpoint_corruption",
            f"{endpoint.name}: corrupt checkpoint ({problem}); restarting the endpoint",
            snapshot_id=writer.snapshot_id,
            endpoint=endpoint.name,
            last_page=cp.last_page,
            total_reported=cp.total_reported,
        )
        writer.discard_endpoint(endpoint.name)
        return None

    def _read_fan_out(
        self,
        sessions: sessionmaker[Session],
        writer: PageWriter,
        client: PMPClient,
        state: _EndpointState,
        progress: RunProgress,
    ) -> None:
        endpoint = state.endpoint
        parents, done = self._parents(sessions, writer, endpoint)
        todo = [p for p in parents if p not in done]
        progress.plan(endpoint.name, len(parents))
        progress.advance(endpoint.name, len(parents) - len(todo))
        with sessions() as session:
            partial = session.scalars(
                select(ExtractionCheckpoint.parent_key).where(
                    ExtractionCheckpoint.snapshot_id == writer.snapshot_id,
                    ExtractionCheckpoint.endpoint == endpoint.name,
                    ExtractionCheckpoint.completed.is_(False),
                    ExtractionCheckpoint.parent_key != "",
                )
            ).all()
        for parent_key in set(partial) & set(todo):
            if not self._has_open_gap(sessions, writer.snapshot_id, endpoint.name, parent_key):
                writer.discard_endpoint(endpoint.name, parent_key)
        failed_parents = 0
        current: str | None = None
        current_ok = True
        outcomes = client.iter_fan_out(endpoint, todo)
        try:
            for outcome in outcomes:
                parent = outcome.parent or ""
                if parent != current:
                    if current is not None:
                        failed_parents += self._close_parent(
                            writer, endpoint, current, current_ok, progress
                        )
                    current, current_ok = parent, True
                if isinstance(outcome, PageFailure):
                    if outcome.not_supported:
                        state.status = EndpointRunStatus.UNSUPPORTED
                        state.error = outcome.detail or "not supported by this server"
                        return
                    current_ok = False
                    self._record_gap(writer, state, outcome)
                    self._spend_budget()
                    continue
                self._write_page(writer, endpoint, outcome, state)
                self._spend_budget()
            if current is not None:
                failed_parents += self._close_parent(
                    writer, endpoint, current, current_ok, progress
                )
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()
        self._log_progress(endpoint.name, None, progress, state)
        state.status = (
            EndpointRunStatus.COMPLETE
            if not failed_parents and not self._open_gaps_for(writer, endpoint.name)
            else EndpointRunStatus.PARTIAL
        )

    def _close_parent(
        self,
        writer: PageWriter,
        endpoint: Endpoint,
        parent: str,
        ok: bool,
        progress: RunProgress,
    ) -> int:
        progress.advance(endpoint.name)
        if ok:
            self._mark_completed(writer, endpoint.name, parent)
            return 0
        return 1

    def _parents(
        self, sessions: sessionmaker[Session], writer: PageWriter, endpoint: Endpoint
    ) -> tuple[list[str], set[str]]:
        """Parent keys of a fan-out endpoint (staged by its parent endpoint in this
        snapshot) and those already completed."""
        parent_endpoint = registry.get(endpoint.parent_endpoint or "")
        if parent_endpoint.entity is None or endpoint.parent_field is None:
            raise ConfigurationError(f"{endpoint.name}: its parent endpoint stores no rows")
        table = ENTITIES[parent_endpoint.entity][1].__table__  # type: ignore[attr-defined]
        column = table.c[endpoint.parent_field]
        writer.commit()
        with sessions() as session:
            keys = session.scalars(
                select(column)
                .distinct()
                .where(
                    table.c.snapshot_id == writer.snapshot_id,
                    table.c.endpoint == parent_endpoint.name,
                )
                .order_by(column)
            ).all()
            done = set(
                session.scalars(
                    select(ExtractionCheckpoint.parent_key).where(
                        ExtractionCheckpoint.snapshot_id == writer.snapshot_id,
                        ExtractionCheckpoint.endpoint == endpoint.name,
                        ExtractionCheckpoint.completed.is_(True),
                    )
                ).all()
            )
        return [str(k) for k in keys], done

    def _has_open_gap(
        self, sessions: sessionmaker[Session], snapshot_id: int, endpoint: str, parent: str
    ) -> bool:
        with sessions() as session:
            return bool(
                session.scalar(
                    select(func.count())
                    .select_from(ExtractionGap)
                    .where(
                        ExtractionGap.snapshot_id == snapshot_id,
                        ExtractionGap.endpoint == endpoint,
                        ExtractionGap.parent_key == parent,
                        ExtractionGap.status == GapStatus.OPEN,
                    )
                )
            )

    def _open_gaps_for(self, writer: PageWriter, endpoint: str, page: int | None = None) -> int:
        """Open gaps of ``endpoint`` (at ``page`` only, when given) in this snapshot."""
        query = (
            select(func.count())
            .select_from(ExtractionGap)
            .where(
                ExtractionGap.snapshot_id == writer.snapshot_id,
                ExtractionGap.endpoint == endpoint,
                ExtractionGap.status == GapStatus.OPEN,
            )
        )
        if page is not None:
            query = query.where(ExtractionGap.page == page)
        return writer.session.scalar(query) or 0

    def _mark_completed(self, writer: PageWriter, endpoint: str, parent_key: str) -> None:
        session = writer.session
        cp = self._checkpoint(session, writer.snapshot_id, endpoint, parent_key)
        if cp is None:
            cp = ExtractionCheckpoint(
                snapshot_id=writer.snapshot_id,
                endpoint=endpoint,
                parent_key=parent_key,
                last_page=0,
                records_extracted=0,
            )
            session.add(cp)
        cp.completed = True
        cp.updated_at = utcnow()
        session.flush()

    # -- pages ---------------------------------------------------------------------------
    def _write_page(
        self,
        writer: PageWriter,
        endpoint: Endpoint,
        page: Page,
        state: _EndpointState | None,
    ) -> None:
        rows = (
            row
            for record in page.records
            for row in (
                record.rows
                if type(record) is RecordRows
                else endpoint.rows(record, parent=page.parent)
            )
        )
        for record in page.records:  # single-object endpoints: one record per page
            summary = endpoint.summary_columns(record)
            if summary:  # _upsert_summary merges the partial ``raw`` objects
                self._upsert_summary(writer.session, writer.snapshot_id, summary)
        written_before = writer.pages_committed
        writer.write_page(
            PageWrite(
                endpoint.name,
                page.number,
                rows,
                parent_key=page.parent or "",
                total_reported=page.total,
                page_limit=page.limit,
                records=len(page.records),
            )
        )
        if writer.pages_committed != written_before:
            log_event(
                self.log,
                logging.INFO,
                "checkpoint_saved",
                "batch committed",
                snapshot_id=writer.snapshot_id,
                endpoint=endpoint.name,
                page=page.number,
                pages_committed=writer.pages_committed,
                rows_written=writer.rows_written,
            )
        if state is not None:
            state.pages += 1
            state.records += len(page.records)
            if page.total is not None and not page.parent:
                state.total_reported = page.total
        self._pages_this_run += 1

    def _upsert_summary(self, session: Session, snapshot_id: int, values: dict[str, Any]) -> None:
        summary = session.scalar(
            select(ServerSummary).where(ServerSummary.snapshot_id == snapshot_id)
        )
        if summary is None:
            summary = ServerSummary(snapshot_id=snapshot_id)
            session.add(summary)
        for key, value in values.items():
            if key == "raw":
                summary.raw = {**(summary.raw or {}), **(value or {})}
            elif key == "som_summary":
                summary.som_summary = value
            else:
                setattr(summary, key, value)
        session.flush()

    def _log_progress(
        self, endpoint: str, page: Page | None, progress: RunProgress, state: _EndpointState
    ) -> None:
        eta = progress.eta_seconds()
        log_event(
            self.log,
            logging.INFO,
            "extraction_progress",
            f"{endpoint} page {page.number if page else '-'}",
            snapshot_id=self._snapshot_id,
            endpoint=endpoint,
            page=page.number if page else None,
            last_page=page.last_page if page else None,
            records=len(page.records) if page else state.records,
            progress_pct=round(progress.pct, 1),
            eta_seconds=None if eta is None else round(eta, 1),
            errors_total=state.gaps,
        )
        for milestone in MILESTONES:
            if progress.pct >= milestone and milestone not in self._milestones_sent:
                self._milestones_sent.add(milestone)
                self.notifier.notify(
                    f"PMP extraction {milestone}% done (snapshot {self._snapshot_id})"
                )
        self.notifier.tick()

    def _spend_budget(self) -> None:
        if self.max_pages is not None and self._pages_this_run >= self.max_pages:
            raise _BudgetExhausted
        if (
            self.max_minutes is not None
            and self.monotonic() - self._started >= self.max_minutes * 60
        ):
            raise _BudgetExhausted

    # -- endpoint runs -------------------------------------------------------------------
    def _save_endpoint_runs(
        self,
        sessions: sessionmaker[Session],
        states: dict[str, _EndpointState],
        observer: RunObserver,
    ) -> None:
        with unit_of_work(sessions) as session:
            for name, state in states.items():
                counters = observer.take(name)
                if state.status is EndpointRunStatus.RUNNING and not (
                    state.pages or counters.requests
                ):
                    continue
                run = session.scalar(
                    select(EndpointRun).where(
                        EndpointRun.snapshot_id == self._snapshot_id,
                        EndpointRun.endpoint == name,
                    )
                )
                if run is None:
                    run = EndpointRun(
                        snapshot_id=self._snapshot_id,
                        endpoint=name,
                        started_at=state.started_at or utcnow(),
                        pages=0,
                        records=0,
                        requests=0,
                        retries=0,
                        errors=0,
                        gaps=0,
                        invalid_records=0,
                        duration_ms=0,
                    )
                    session.add(run)
                run.status = state.status.value
                run.pages += state.pages
                run.records += state.records
                run.requests += counters.requests
                run.retries += counters.retries
                run.errors += counters.errors
                run.gaps += state.gaps
                run.invalid_records += counters.invalid_records
                if state.total_reported is not None:
                    run.total_reported = state.total_reported
                run.error_message = state.error
                run.duration_ms += round(state.elapsed_s * 1000)
                if state.status is not EndpointRunStatus.RUNNING:
                    run.finished_at = state.finished_at or utcnow()
                state.pages = state.records = state.gaps = 0
                state.elapsed_s = 0.0

    # -- endings -------------------------------------------------------------------------
    def _coverage(self, session: Session, snapshot_id: int, gap_run: bool) -> Coverage:
        extracted = (
            session.scalar(
                select(func.count(distinct(StagedSystem.resource_id))).where(
                    StagedSystem.snapshot_id == snapshot_id
                )
            )
            or 0
        )
        snapshot = session.get(Snapshot, snapshot_id)
        assert snapshot is not None
        if gap_run:
            extracted += snapshot.systems_extracted or 0
        cp = self._checkpoint(session, snapshot_id, COVERAGE_ENDPOINT)
        reported = cp.total_reported if cp is not None else None
        if reported is None:
            summary = session.scalar(
                select(ServerSummary.total_systems).where(ServerSummary.snapshot_id == snapshot_id)
            )
            reported = summary if summary is not None else snapshot.systems_reported
        return Coverage(extracted, reported)

    def _coverage_failure(self, session: Session, snapshot_id: int, coverage: Coverage) -> str:
        """Why a snapshot missed its coverage target, in one line."""
        target = f"{self.settings.coverage_target * 100:.0f}%"
        if coverage.pct is not None:
            return (
                f"coverage {coverage.pct:.1f}% ({coverage.extracted:,} of {coverage.reported:,} "
                f"systems) is below the target {target}"
            )
        gap = session.scalars(
            select(ExtractionGap)
            .where(
                ExtractionGap.snapshot_id == snapshot_id,
                ExtractionGap.endpoint == COVERAGE_ENDPOINT,
                ExtractionGap.status == GapStatus.OPEN.value,
            )
            .order_by(ExtractionGap.page)
            .limit(1)
        ).first()
        if gap is None:
            return (
                f"no system could be counted: {COVERAGE_ENDPOINT} gave no total "
                f"(coverage target {target})"
            )
        status = f", HTTP {gap.http_status}" if gap.http_status else ""
        return (
            f"no system could be counted: {COVERAGE_ENDPOINT} page {gap.page} failed "
            f"({gap.error_type}{status}, {gap.attempts} attempt(s))"
        )

    def _close_unless_invalid(
        self, session: Session, snapshot_id: int, endpoint: str
    ) -> CloseScope:
        """Close what ``endpoint`` (read to its end) no longer lists, unless some of its
        records were invalid: what those describe is unknown, so, as for a failed page,
        every entity keeps its last state."""
        invalid = session.scalar(
            select(EndpointRun.invalid_records).where(
                EndpointRun.snapshot_id == snapshot_id, EndpointRun.endpoint == endpoint
            )
        )
        if not invalid:
            return CloseScope.everything()
        log_event(
            self.log,
            logging.WARNING,
            "close_skipped",
            f"{endpoint}: {invalid} invalid record(s); entities it no longer lists keep "
            "their last state",
            snapshot_id=snapshot_id,
            endpoint=endpoint,
            invalid_records=int(invalid),
        )
        return CloseScope.none()

    def _merge_plans(
        self,
        session: Session,
        snapshot_id: int,
        states: dict[str, _EndpointState],
        incremental: bool,
    ) -> list[EntityMerge]:
        order = {name: i for i, name in enumerate(registry.names())}
        plans: list[EntityMerge] = []
        for entity, (_history, staging) in ENTITIES.items():
            table = staging.__table__  # type: ignore[attr-defined]
            staged = set(
                session.scalars(
                    select(table.c.endpoint).where(table.c.snapshot_id == snapshot_id).distinct()
                ).all()
            )
            feeding = staged | {
                n
                for n, s in states.items()
                if s.endpoint.entity == entity and s.status is EndpointRunStatus.COMPLETE
            }
            if not feeding:
                continue
            endpoints = sorted(feeding, key=lambda n: order.get(n, len(order)))
            classes = {n: registry.get(n) for n in endpoints if n in registry}
            primaries = [n for n in endpoints if n in classes and classes[n].complements is None]
            priority = tuple(primaries + [n for n in endpoints if n not in primaries])
            fill_only = tuple(
                n for n in endpoints if n in classes and not classes[n].creates_entities
            )
            close = CloseScope.none()
            primary = classes.get(priority[0])
            if not incremental and primary is not None:
                if primary.paging is PagingStyle.PER_SYSTEM:
                    close = CloseScope.parents("resource_id", primary.name)
                elif primary.paging is PagingStyle.PER_PATCH:
                    close = CloseScope.parents("patch_id", primary.name)
                elif states.get(primary.name) is not None and (
                    states[primary.name].status is EndpointRunStatus.COMPLETE
                ):
                    close = self._close_unless_invalid(session, snapshot_id, primary.name)
            orphan = (
                ("system", "resource_id")
                if entity == "system_patch_state" and not incremental
                else None
            )
            plans.append(EntityMerge(entity, close, priority, fill_only, orphan))
        return plans

    def _finish(
        self,
        sessions: sessionmaker[Session],
        result: ExtractionResult,
        states: dict[str, _EndpointState],
        gap_run: bool,
    ) -> ExtractionResult:
        snapshot_id = result.snapshot_id
        assert snapshot_id is not None
        for state in states.values():
            result.endpoints[state.endpoint.name] = EndpointSummary(
                state.endpoint.name, state.status.value, total_reported=state.total_reported
            )
        with unit_of_work(sessions) as session:
            snapshot = session.get(Snapshot, snapshot_id)
            assert snapshot is not None
            coverage = self._coverage(session, snapshot_id, gap_run)
            gaps_open = count_open_gaps(session, snapshot_id)
            unfinished = [
                s.endpoint.name
                for s in states.values()
                if s.status in (EndpointRunStatus.PARTIAL, EndpointRunStatus.FAILED)
            ]
            systems_read = COVERAGE_ENDPOINT in states or gap_run
            target = self.settings.coverage_target
            if not gaps_open and not unfinished:
                status = SnapshotStatus.COMPLETE
            elif not systems_read or coverage.meets(target):
                status = SnapshotStatus.PARTIAL
            else:
                status = SnapshotStatus.FAILED
            records = (
                session.scalar(
                    select(
                        func.coalesce(func.sum(ExtractionCheckpoint.records_extracted), 0)
                    ).where(ExtractionCheckpoint.snapshot_id == snapshot_id)
                )
                or 0
            )
            snapshot.coverage_pct = coverage.pct
            snapshot.systems_reported = coverage.reported
            snapshot.systems_extracted = coverage.extracted
            snapshot.records_extracted = int(records)
            result.coverage_pct = coverage.pct
            result.systems_extracted = coverage.extracted
            result.systems_reported = coverage.reported
            result.gaps_open = gaps_open
            if status is SnapshotStatus.FAILED:
                fail_snapshot(
                    session, snapshot, self._coverage_failure(session, snapshot_id, coverage)
                )
                result.outcome = RunOutcome.FAILED
                result.error = snapshot.error_message
            else:
                plans = self._merge_plans(session, snapshot_id, states, incremental=gap_run)
                merged = merge_snapshot(session, snapshot_id, snapshot.source_id, plans)
                snapshot.status = status.value
                snapshot.finished_at = max(self.now(), snapshot.started_at)
                snapshot.merged_at = snapshot.finished_at
                result.merged = True
                result.outcome = (
                    RunOutcome.COMPLETE if status is SnapshotStatus.COMPLETE else RunOutcome.PARTIAL
                )
                for m in merged:
                    log_event(
                        self.log,
                        logging.INFO,
                        "entity_merged",
                        f"{m.entity} merged",
                        snapshot_id=snapshot_id,
                        entity=m.entity,
                        incoming=m.incoming,
                        inserted=m.inserted,
                        changed=m.changed,
                        closed_missing=m.closed_missing,
                        closed_orphans=m.closed_orphans,
                    )
                session.flush()
                self._analyse(session, snapshot_id)
        return self._report(sessions, result)

    def _analyse(self, session: Session, snapshot_id: int) -> None:
        """Run the analyses in the merge's own transaction, each in a savepoint.

        The merged snapshot, its metrics and its compliance become visible together: a
        reader never sees the new snapshot as the latest without them, and a crash before
        the commit leaves the snapshot open for the next run to merge and analyse again.
        A failing analysis rolls back only its own savepoint and is logged.
        """
        connection = session.connection()
        nested = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        for analysis in self.analyses:
            name = getattr(analysis, "__name__", "analysis")
            savepoint = connection.begin_nested()
            try:
                analysis(nested, snapshot_id)
            except Exception as exc:  # an analysis bug must not undo a merged snapshot
                savepoint.rollback()
                log_event(
                    self.log,
                    logging.ERROR,
                    "analysis_failed",
                    f"{name} failed",
                    snapshot_id=snapshot_id,
                    analysis=name,
                    error=f"{type(exc).__name__}: {exc}",
                )
            else:
                savepoint.commit()
                log_event(
                    self.log,
                    logging.INFO,
                    "analysis_finished",
                    f"{name} computed",
                    snapshot_id=snapshot_id,
                    analysis=name,
                )

    def _budget_stop(
        self,
        sessions: sessionmaker[Session],
        result: ExtractionResult,
        states: dict[str, _EndpointState],
    ) -> ExtractionResult:
        result.outcome = RunOutcome.BUDGET
        for state in states.values():
            result.endpoints[state.endpoint.name] = EndpointSummary(
                state.endpoint.name, state.status.value
            )
        log_event(
            self.log,
            logging.WARNING,
            "budget_exhausted",
            "stopped on the run's budget; the next run continues",
            snapshot_id=result.snapshot_id,
            pages=self._pages_this_run,
            max_pages=self.max_pages,
            max_minutes=self.max_minutes,
        )
        return self._report(sessions, result)

    def _fail(
        self,
        sessions: sessionmaker[Session],
        result: ExtractionResult,
        states: dict[str, _EndpointState],
        observer: RunObserver,
        error: str,
    ) -> ExtractionResult:
        for state in states.values():
            if state.status is EndpointRunStatus.RUNNING and state.pages:
                state.status = EndpointRunStatus.FAILED
        self._save_endpoint_runs(sessions, states, observer)
        with unit_of_work(sessions) as session:
            snapshot = session.get(Snapshot, result.snapshot_id)
            assert snapshot is not None
            fail_snapshot(session, snapshot, error)
        result.outcome = RunOutcome.FAILED
        result.error = error
        log_event(
            self.log, logging.CRITICAL, "extraction_failed", error, snapshot_id=result.snapshot_id
        )
        return self._report(sessions, result)

    def _report(
        self, sessions: sessionmaker[Session], result: ExtractionResult
    ) -> ExtractionResult:
        snapshot_id = result.snapshot_id
        with sessions() as session:
            runs = session.scalars(
                select(EndpointRun).where(EndpointRun.snapshot_id == snapshot_id)
            ).all()
            for run in runs:
                result.endpoints[run.endpoint] = EndpointSummary(
                    run.endpoint,
                    run.status,
                    run.pages,
                    run.records,
                    run.requests,
                    run.retries,
                    run.errors,
                    run.gaps,
                    run.invalid_records,
                    run.total_reported,
                )
            snapshot = session.get(Snapshot, snapshot_id)
            status = snapshot.status if snapshot is not None else "unknown"
            if snapshot is not None:
                snapshot.requests_made += sum(e.requests for e in result.endpoints.values())
            result.gaps_open = count_open_gaps(session, snapshot_id) if snapshot_id else 0
            session.commit()
        result.pages = sum(e.pages for e in result.endpoints.values())
        result.records = sum(e.records for e in result.endpoints.values())
        result.requests = sum(e.requests for e in result.endpoints.values())
        result.gaps_recorded = sum(e.gaps for e in result.endpoints.values())
        result.duration_s = self.monotonic() - self._started
        log_event(
            self.log,
            logging.INFO if result.ok else logging.WARNING,
            "snapshot_finished",
            f"snapshot {snapshot_id}: {result.outcome.value}",
            snapshot_id=snapshot_id,
            status=status,
            outcome=result.outcome.value,
            exit_code=int(result.exit_code),
            coverage_pct=_round(result.coverage_pct),
            systems_extracted=result.systems_extracted,
            systems_reported=result.systems_reported,
            gaps_open=result.gaps_open,
            gaps_closed=result.gaps_closed,
            pages=result.pages,
            records=result.records,
            requests=result.requests,
            duration_s=round(result.duration_s, 2),
            error=result.error,
        )
        emoji = {"complete": "✅", "partial": "⚠️", "budget": "⏸️", "failed": "❌"}
        coverage = (
            f"{result.systems_extracted:,}/{result.systems_reported:,} systems "
            f"({result.coverage_pct:.1f}%)"
            if result.coverage_pct is not None and result.systems_reported
            else "coverage unknown"
        )
        self.notifier.notify(
            f"{emoji[result.outcome.value]} PMP extraction {result.outcome.value}: snapshot "
            f"{snapshot_id}, {coverage}, {result.gaps_open} open gap(s)"
            + (f" — {result.error}" if result.error else "")
        )
        if result.outcome is not RunOutcome.BUDGET and snapshot_id is not None:
            run_post_extraction_hook(
                self.settings.post_extraction_hook,
                snapshot_id=snapshot_id,
                status=status,
                database_url=redacted_url(sessions.kw["bind"].url),
            )
        return result


def _read_to_the_end(endpoint: Endpoint, cp: ExtractionCheckpoint) -> bool:
    """Whether ``cp``'s pages reach the last page its server reported (one page, for a
    single-object endpoint)."""
    if cp.last_page < 1:
        return False
    if endpoint.paging is PagingStyle.SINGLE:
        return True
    if cp.total_reported is None or not cp.page_limit:
        return False
    return cp.last_page >= max(1, -(-cp.total_reported // cp.page_limit))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
