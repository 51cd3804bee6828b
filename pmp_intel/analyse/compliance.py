"""ComplianceChecker: Essential Eight "Patch applications" and "Patch operating systems" at
ML1–ML3 under a named rule profile, per snapshot, stored in ``compliance_checks``.

Per (system, patch) pair the checker decides the pair scope (patch class × system class),
whether the short window applies (vendor-critical and/or a KEV-listed CVE, per profile; an
installed pair counts only a KEV entry added by its install) and the deadline
``release + window``. Applied within the window: compliant. Applied late,
or missing/failed past the deadline: a violation. Missing within the window: not yet due.
A pair without a release time (or installed without an install time) cannot be judged: no
visibility, never compliant; so is an unrated pair under a control triggered by vendor
criticality. A missing superseded pair is skipped when its successor has a pair on the same
system. "Now" is the snapshot's start, so results are reproducible.

All per-pair work is two grouped SQL passes (per patch and per system) over the staged
snapshot; see :mod:`pmp_intel.analyse.state`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
)

from pmp_intel.analyse.assets import SystemClass
from pmp_intel.analyse.categories import PatchClass, PatchClassifier
from pmp_intel.analyse.config import ComplianceConfig
from pmp_intel.analyse.profiles import (
    DEFAULT_PROFILE,
    SCOPES,
    Control,
    Kind,
    Profile,
    Select,
    Trigger,
    Window,
    get_profile,
)
from pmp_intel.analyse.sql import (
    FINISHED,
    Bind,
    analyze,
    create_temp,
    drop_temp,
    epoch,
    int_column,
    key_column,
    snapshot_row,
    table_of,
    temp_table,
    transaction,
)
from pmp_intel.analyse.state import PATCHES, SYSTEMS, SnapshotState, stage
from pmp_intel.store.history import as_of
from pmp_intel.store.models import (
    ComplianceCheck,
    ControlOutcome,
    InstallStatus,
    ServerSummary,
    SeverityMetric,
    Snapshot,
    Source,
    Strategy,
    SystemPatchState,
)

EFFECTIVE = ControlOutcome.EFFECTIVE
INEFFECTIVE = ControlOutcome.INEFFECTIVE
NO_VISIBILITY = ControlOutcome.NO_VISIBILITY
NOT_APPLICABLE = ControlOutcome.NOT_APPLICABLE
NOT_ASSESSED = ControlOutcome.NOT_ASSESSED
#: Outcomes that let a level be claimed (ASD: effective, alternate control; N/A does not apply).
PASSING = frozenset({EFFECTIVE, NOT_APPLICABLE})
REBOOT_PENDING = 207
#: Stored times round-trip through julianday()/EXTRACT with microsecond noise; an install at
#: exactly the deadline must stay compliant.
_SLACK_S = 0.001
_EPOCH0 = datetime(1970, 1, 1, tzinfo=UTC)
#: A pair's status in its cell code: missing (or failed / reboot pending); missing while the
#: patch's successor has a pair on the same system; applied; applied once an exploit of the
#: patch was known (KEV ``dateAdded`` on or before the install, or an unknown install time).
_MISSING, _COVERED, _APPLIED, _APPLIED_EXPLOITED = 0, 1, 2, 3


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Item:
    """A system or patch behind a failing control."""

    id: int
    name: str
    violations: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ControlResult:
    """One control (at the levels listed) with its ASD outcome and the figures behind it."""

    control_id: str
    title: str
    strategy: str
    levels: tuple[int, ...]
    kind: str
    outcome: ControlOutcome
    reason: str
    systems_in_scope: int = 0
    pairs_in_scope: int = 0
    assessable: int = 0
    compliant: int = 0
    violations: int = 0
    not_yet_due: int = 0
    no_visibility: int = 0
    pct_compliant: float | None = None
    oldest_overdue_time: datetime | None = None
    window_hours: float | None = None
    triggered_window_hours: float | None = None
    worst_systems: tuple[Item, ...] = ()
    worst_patches: tuple[Item, ...] = ()
    #: In threshold mode: whether a "≥ N % compliant" policy would pass it (not ASD's rule).
    threshold_pass: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, control: Control, **fields: Any) -> ControlResult:
        """A result for ``control`` (a profile control), with its identity filled in."""
        return cls(
            control_id=control.control_id,
            title=control.title,
            strategy=control.strategy.value,
            levels=control.levels,
            kind=control.kind.value,
            **fields,
        )


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """Maturity of one strategy."""

    strategy: str
    #: Highest level whose controls (and those below) are all effective or not applicable,
    #: over the controls pmp-intel can assess (ASD's strict rule). 0 = ML0.
    maturity_level: int
    #: Controls that stop the next level.
    blocking: tuple[str, ...]
    #: Controls PMP holds no evidence for (need other evidence before the level is claimed).
    not_assessed: tuple[str, ...]
    #: In threshold mode: the level a percentage policy would give (NOT ASD's rule).
    threshold_maturity_level: int | None = None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One snapshot in a compliance trend."""

    snapshot_id: int
    started_at: datetime
    maturity: dict[str, int]
    pct_compliant: dict[str, float | None]
    violations: dict[str, int]
    missing_critical_patches: int | None
    missing_critical_pairs: int | None


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    """Everything a report shows for one snapshot under one profile."""

    snapshot_id: int
    source_id: int
    source_name: str
    snapshot_started_at: datetime
    profile: str
    profile_title: str
    profile_description: str
    is_maturity_model: bool
    strategies: tuple[StrategyResult, ...]
    controls: tuple[ControlResult, ...]
    threshold_pct: float | None
    assumptions: tuple[str, ...]
    trend: tuple[TrendPoint, ...] = ()

    def strategy(self, name: str | Strategy) -> StrategyResult:
        """The result of one strategy."""
        for result in self.strategies:
            if result.strategy == str(name):
                return result
        raise KeyError(name)

    def control(self, control_id: str, level: int | None = None) -> ControlResult:
        """A control by ISM id (the first one, or the one applying at ``level``)."""
        for result in self.controls:
            if result.control_id == control_id and (level is None or level in result.levels):
                return result
        raise KeyError(control_id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return _jsonable(asdict(self))  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True, slots=True)
class _RuleKey:
    scopes: tuple[str, ...]
    select: Select
    window: float
    triggered_window: float | None
    severities: tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class _Cell:
    """A group of pairs that every rule judges alike: patch, scope, status, bucket."""

    patch_id: int
    scope: str
    status: int
    bucket: int

    @property
    def applied(self) -> bool:
        """Installed (and not awaiting a reboot)."""
        return self.status >= _APPLIED

    @property
    def covered(self) -> bool:
        """Missing, and the patch's successor has a pair on the same system."""
        return self.status == _COVERED


def _decode(state: SnapshotState, code: int) -> _Cell:
    bucket = code % 8 - 1
    status = (code // 8) % 4
    scope = SCOPES[(code // 32) % 8]
    return _Cell(state.patch_ids[code // 256], scope, status, bucket)


@dataclass
class _Tally:
    class_pairs: int = 0
    class_unrated: int = 0
    selected: int = 0
    compliant: int = 0
    violations: int = 0
    not_yet_due: int = 0
    no_visibility: int = 0
    #: Of ``no_visibility``: unrated pairs a criticality-triggered control cannot place.
    unrated: int = 0
    superseded_skipped: int = 0
    oldest_deadline: float | None = None
    oldest_patch: int | None = None
    per_patch: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    systems: int = 0
    worst_systems: tuple[Item, ...] = ()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _from_epoch(value: float | None) -> datetime | None:
    return None if value is None else _EPOCH0 + timedelta(seconds=float(value))


class ComplianceChecker:
    """Evaluates a snapshot under a rule profile and stores the outcomes.

    >>> checker = ComplianceChecker(engine)  # doctest: +SKIP
    >>> report = checker.evaluate(snapshot_id)  # doctest: +SKIP
    >>> report.strategy("patch_operating_systems").maturity_level  # doctest: +SKIP
    """

    def __init__(
        self,
        bind: Bind,
        profile: str = DEFAULT_PROFILE,
        config: ComplianceConfig | None = None,
    ) -> None:
        self.bind = bind
        self.profile: Profile = get_profile(profile)
        self.config = config or ComplianceConfig.load()
        self.classifier = PatchClassifier(self.config)
        self._sysagg: Any = None
        self._scan_scopes: list[str] = []

    # ----------------------------------------------------------------------- windows
    def hours(self, window: Window) -> float:
        """Hours of a symbolic window under this configuration."""
        return {
            Window.HOURS_48: 48.0,
            Window.DAY: 24.0,
            Window.WEEK: 7 * 24.0,
            Window.TWO_WEEKS: self.config.two_weeks_days * 24.0,
            Window.ONE_MONTH: self.config.one_month_days * 24.0,
        }[window]

    def _rule_key(self, control: Control) -> _RuleKey:
        assert control.window is not None
        return _RuleKey(
            control.scopes,
            control.select,
            self.hours(control.window),
            None if control.triggered_window is None else self.hours(control.triggered_window),
            control.severities,
        )

    # ----------------------------------------------------------------------- public
    def evaluate(self, snapshot_id: int) -> ComplianceReport:
        """Evaluate the snapshot, replace its stored rows for this profile, return the report."""
        with transaction(self.bind) as conn:
            snap = snapshot_row(conn, snapshot_id)
            with stage(conn, snap, self.config, self.classifier) as state:
                controls = self._evaluate(state)
            strategies = self._maturity(controls)
            self._store(conn, snapshot_id, controls)
            source_name = conn.execute(
                select(Source.name).where(Source.id == snap["source_id"])
            ).scalar_one()
            trend = self._trend(conn, int(snap["source_id"]), None, _aware(snap["started_at"]))
        return ComplianceReport(
            snapshot_id=snapshot_id,
            source_id=int(snap["source_id"]),
            source_name=str(source_name),
            snapshot_started_at=_aware(snap["started_at"]),
            profile=self.profile.name,
            profile_title=self.profile.title,
            profile_description=self.profile.description,
            is_maturity_model=self.profile.is_maturity_model,
            strategies=strategies,
            controls=controls,
            threshold_pct=self.config.threshold_pct,
            assumptions=self._assumptions(),
            trend=tuple(trend[-60:]),
        )

    def trend(self, source_id: int, start: datetime, end: datetime) -> list[TrendPoint]:
        """Stored results of this profile for the source's snapshots started in
        ``[start, end]``, oldest first."""
        with transaction(self.bind) as conn:
            return self._trend(conn, source_id, start, end)

    # ----------------------------------------------------------------------- evaluation
    def _evaluate(self, state: SnapshotState) -> tuple[ControlResult, ...]:
        controls = self.profile.controls
        timeframe = [c for c in controls if c.kind is Kind.TIMEFRAME]
        rules = list(dict.fromkeys(self._rule_key(c) for c in timeframe))
        thresholds = sorted(
            {r.window for r in rules} | {r.triggered_window for r in rules if r.triggered_window}
        )
        pairs = self._pairs(state, thresholds)
        scan_scopes = sorted({s for c in controls if c.kind is Kind.SCAN for s in c.scopes})
        class_systems = self._system_classes(state)
        tallies, cells = self._tally_per_patch(state, pairs, rules, thresholds)
        sysagg = self._per_system(state, pairs, rules, thresholds, scan_scopes, tallies, cells)
        try:
            results = []
            for control in controls:
                if control.kind is Kind.TIMEFRAME:
                    key = self._rule_key(control)
                    results.append(
                        self._timeframe_result(state, control, key, tallies[key], class_systems)
                    )
                elif control.kind is Kind.SCAN:
                    results.append(self._scan_result(state, control, class_systems))
                elif control.kind is Kind.DISCOVERY:
                    results.append(self._discovery_result(state, control, class_systems))
                elif control.kind is Kind.DATABASE:
                    results.append(self._database_result(state, control, class_systems))
                else:
                    results.append(self._unassessed_result(control))
        finally:
            drop_temp(state.conn, sysagg)
        return tuple(results)

    def _trigger(self) -> Any:
        if self.profile.trigger is Trigger.EXPLOIT:
            return case((PATCHES.c.exploited == 1, 1), else_=0)
        return case(((PATCHES.c.critical == 1) | (PATCHES.c.exploited == 1), 1), else_=0)

    def _is_triggered(self, critical: bool, exploited: bool) -> bool:
        if self.profile.trigger is Trigger.EXPLOIT:
            return exploited
        return critical or exploited

    def _cell_triggered(self, state: SnapshotState, cell: _Cell) -> bool:
        """Whether the short window applies to the cell's pairs. An exploit counts for an
        applied pair only if it was known by the install (KEV ``dateAdded``), for a missing
        pair if it was known by the snapshot."""
        info = state.patches[cell.patch_id]
        exploited = cell.status == _APPLIED_EXPLOITED if cell.applied else info.exploited
        return self._is_triggered(info.critical, exploited)

    def _criticality_unknown(self, rule: _RuleKey, severity: int) -> bool:
        """An unrated pair that a control triggered by vendor criticality cannot place."""
        return (
            rule.select is Select.TRIGGERED
            and rule.severities is None
            and self.profile.trigger is Trigger.CRITICAL_OR_EXPLOIT
            and severity == 0
            and not self.config.unrated_is_critical
        )

    def _pairs(self, state: SnapshotState, thresholds: Sequence[float]) -> Any:
        """Per pair: ``resource_id`` and its cell code (see :func:`_decode`), a subquery.

        The deadline bucket of a not-applied pair depends only on its patch, so it is
        computed per patch in Python (``nb``); only installed pairs need date arithmetic.
        """
        conn = state.conn
        updates = []
        for patch_id in state.patch_ids:
            released = state.patches[patch_id].facts.released
            nb = -1
            if released is not None:
                delay = state.now_epoch - _aware(released).timestamp()
                nb = next(
                    (i for i, t in enumerate(thresholds) if delay <= t * 3600.0), len(thresholds)
                )
            updates.append({"pid": patch_id, "nb": nb})
        if updates:
            conn.execute(
                PATCHES.update()
                .where(PATCHES.c.patch_id == bindparam("pid"))
                .values(nb=bindparam("nb")),
                updates,
            )
        st = table_of(SystemPatchState)
        internet = SYSTEMS.c.sclass == SystemClass.INTERNET_FACING.value
        index = {name: i for i, name in enumerate(SCOPES)}
        scope = case(
            (
                PATCHES.c.pclass == PatchClass.OS.value,
                case(
                    (internet, index["os_internet"]),
                    (SYSTEMS.c.sclass.is_not(None), index["os_internal"]),
                ),
            ),
            (
                PATCHES.c.pclass == PatchClass.ONLINE_SERVICE.value,
                case((internet, index["apps_online"]), else_=index["apps_other"]),
            ),
            (PATCHES.c.pclass == PatchClass.OFFICE.value, index["apps_office"]),
            (PATCHES.c.pclass == PatchClass.OTHER_APP.value, index["apps_other"]),
            (PATCHES.c.pclass == PatchClass.DRIVER.value, index["drivers"]),
            (PATCHES.c.pclass == PatchClass.FIRMWARE.value, index["firmware"]),
        )
        applied = and_(
            st.c.install_status == int(InstallStatus.INSTALLED),
            func.coalesce(st.c.deployment_status, 0) != REBOOT_PENDING,
        )
        installed_at = epoch(st.c.installed_time)
        exploit_at_install = case(
            (PATCHES.c.exploit_epoch.is_(None), 0),
            (st.c.installed_time.is_(None), 1),
            (PATCHES.c.exploit_epoch <= installed_at + _SLACK_S, 1),
            else_=0,
        )
        covered: Any = false()
        if self.config.ignore_superseded_missing:
            successor = st.alias("successor_pair")
            covered = and_(
                PATCHES.c.successor.is_not(None),
                exists().where(
                    as_of(successor, state.source_id, state.snapshot_id),
                    successor.c.resource_id == st.c.resource_id,
                    successor.c.patch_id == PATCHES.c.successor,
                ),
            )
        installed_bucket = case(
            (or_(st.c.installed_time.is_(None), PATCHES.c.rel_epoch.is_(None)), -1),
            *(
                (installed_at <= PATCHES.c.rel_epoch + (t * 3600.0 + _SLACK_S), i)
                for i, t in enumerate(thresholds)
            ),
            else_=len(thresholds),
        )
        # ((pidx * 8 + scope) * 4 + status) * 8 + bucket + 1
        base = (PATCHES.c.pidx * 8 + scope) * 32
        code = case(
            (applied, base + (_APPLIED + exploit_at_install) * 8 + installed_bucket + 1),
            (covered, base + _COVERED * 8 + PATCHES.c.nb + 1),
            else_=base + PATCHES.c.nb + 1,
        )
        joined = st.join(PATCHES, PATCHES.c.patch_id == st.c.patch_id).outerjoin(
            SYSTEMS, SYSTEMS.c.resource_id == st.c.resource_id
        )
        return (
            select(st.c.resource_id.label("resource_id"), code.label("code"))
            .select_from(joined)
            .where(state.pairs_where(), scope.is_not(None))
            .subquery("pairs")
        )

    def _selects(self, rule: _RuleKey, triggered: bool, severity: int) -> bool:
        if rule.severities is not None and severity not in rule.severities:
            return False
        if rule.select is Select.TRIGGERED:
            return triggered
        if rule.select is Select.NOT_TRIGGERED:
            return not triggered
        return True

    def _judge(
        self, state: SnapshotState, rule: _RuleKey, cell: _Cell, thresholds: Sequence[float]
    ) -> str | None:
        """What one cell is under one rule: None (out of scope), ``superseded``, ``unrated``
        (criticality unknown: no visibility), ``no_visibility``, ``compliant``,
        ``not_yet_due`` or ``violation``."""
        if cell.scope not in rule.scopes:
            return None
        severity = int(state.patches[cell.patch_id].facts.severity or 0)
        triggered = self._cell_triggered(state, cell)
        unrated = not triggered and self._criticality_unknown(rule, severity)
        if not unrated and not self._selects(rule, triggered, severity):
            return None
        if cell.covered:
            # the successor's pair is judged instead (an unrated one is simply not counted)
            return None if unrated else "superseded"
        if unrated:
            return "unrated"
        if cell.bucket == -1:
            return "no_visibility"
        window = rule.triggered_window if (rule.triggered_window and triggered) else rule.window
        if cell.bucket <= thresholds.index(window):
            return "compliant" if cell.applied else "not_yet_due"
        return "violation"

    def _tally_per_patch(
        self,
        state: SnapshotState,
        pairs: Any,
        rules: Sequence[_RuleKey],
        thresholds: Sequence[float],
    ) -> tuple[dict[_RuleKey, _Tally], dict[int, _Cell]]:
        rows = state.conn.execute(select(pairs.c.code, func.count()).group_by(pairs.c.code)).all()
        tallies = {rule: _Tally() for rule in rules}
        cells: dict[int, _Cell] = {}
        for code, n in rows:
            cell = _decode(state, int(code))
            cells[int(code)] = cell
            info = state.patches[cell.patch_id]
            severity = int(info.facts.severity or 0)
            released = info.facts.released
            for rule in rules:
                if cell.scope not in rule.scopes:
                    continue
                tally = tallies[rule]
                tally.class_pairs += n
                tally.class_unrated += n if severity == 0 else 0
                verdict = self._judge(state, rule, cell, thresholds)
                if verdict is None:
                    continue
                if verdict == "superseded":
                    tally.superseded_skipped += n
                    continue
                tally.selected += n
                if verdict in ("no_visibility", "unrated"):
                    tally.no_visibility += n
                    tally.unrated += n if verdict == "unrated" else 0
                elif verdict == "compliant":
                    tally.compliant += n
                elif verdict == "not_yet_due":
                    tally.not_yet_due += n
                else:
                    tally.violations += n
                    tally.per_patch[cell.patch_id] += n
                    triggered = self._cell_triggered(state, cell)
                    window = (
                        rule.triggered_window
                        if (rule.triggered_window and triggered)
                        else rule.window
                    )
                    if not cell.applied and released is not None:
                        deadline = _aware(released).timestamp() + window * 3600.0
                        if tally.oldest_deadline is None or deadline < tally.oldest_deadline:
                            tally.oldest_deadline = deadline
                            tally.oldest_patch = cell.patch_id
        return tallies, cells

    def _per_system(
        self,
        state: SnapshotState,
        pairs: Any,
        rules: Sequence[_RuleKey],
        thresholds: Sequence[float],
        scan_scopes: Sequence[str],
        tallies: dict[_RuleKey, _Tally],
        cells: dict[int, _Cell],
    ) -> Any:
        """Per system: pairs in scope and violations per rule, pairs per scan scope (one
        pass, summing per-cell flags); then systems in scope and worst systems per rule."""
        flag_columns = [f"s{i}" for i in range(len(rules))]
        flag_columns += [f"v{i}" for i in range(len(rules))]
        flag_columns += [f"h{j}" for j in range(len(scan_scopes))]
        cell_table = temp_table(
            "pmp_intel_tmp_cells", key_column("code"), *(int_column(c) for c in flag_columns)
        )
        cell_rows = []
        for code, cell in cells.items():
            row: dict[str, int] = {"code": code}
            for i, rule in enumerate(rules):
                verdict = self._judge(state, rule, cell, thresholds)
                row[f"s{i}"] = int(verdict not in (None, "superseded"))
                row[f"v{i}"] = int(verdict == "violation")
            for j, scope in enumerate(scan_scopes):
                row[f"h{j}"] = int(cell.scope == scope)
            cell_rows.append(row)
        create_temp(state.conn, cell_table, cell_rows)
        sysagg = temp_table(
            "pmp_intel_tmp_sysagg",
            key_column("resource_id"),
            *(int_column(c) for c in flag_columns),
        )
        create_temp(state.conn, sysagg)
        if cell_rows:
            state.conn.execute(
                insert(sysagg).from_select(
                    ["resource_id", *flag_columns],
                    select(pairs.c.resource_id, *(func.sum(cell_table.c[c]) for c in flag_columns))
                    .select_from(pairs.join(cell_table, cell_table.c.code == pairs.c.code))
                    .group_by(pairs.c.resource_id),
                )
            )
        drop_temp(state.conn, cell_table)
        analyze(state.conn, sysagg)
        if rules:
            counts = state.conn.execute(
                select(
                    *(
                        func.coalesce(func.sum(case((sysagg.c[f"s{i}"] > 0, 1), else_=0)), 0)
                        for i in range(len(rules))
                    )
                )
            ).one()
            for i, rule in enumerate(rules):
                tallies[rule].systems = int(counts[i])
        for i, rule in enumerate(rules):
            if tallies[rule].violations:
                v = sysagg.c[f"v{i}"]
                rows = state.conn.execute(
                    select(sysagg.c.resource_id, SYSTEMS.c.name, v)
                    .select_from(
                        sysagg.outerjoin(SYSTEMS, SYSTEMS.c.resource_id == sysagg.c.resource_id)
                    )
                    .where(v > 0)
                    .order_by(v.desc(), SYSTEMS.c.name, sysagg.c.resource_id)
                    .limit(self.config.worst_items)
                ).all()
                tallies[rule].worst_systems = tuple(
                    Item(int(r[0]), str(r[1] or r[0]), int(r[2])) for r in rows
                )
        self._scan_scopes = list(scan_scopes)
        self._sysagg = sysagg
        return sysagg

    def _system_classes(self, state: SnapshotState) -> dict[str, int]:
        rows = state.conn.execute(
            select(SYSTEMS.c.sclass, func.count()).group_by(SYSTEMS.c.sclass)
        ).all()
        counts = {str(k): int(n) for k, n in rows}
        counts["total"] = sum(counts.values())
        return counts

    # ----------------------------------------------------------------------- results
    def _empty_class(
        self, scopes: Sequence[str], classes: dict[str, int], online_pairs: int
    ) -> tuple[ControlOutcome, str] | None:
        """Outcome and reason when every scope's asset class has no members (None if some
        has members): not applicable when the class is known to be empty, no visibility
        when pmp-intel cannot know which systems belong to it."""
        internet = classes.get(SystemClass.INTERNET_FACING.value, 0)
        internal = classes.get(SystemClass.SERVER.value, 0) + classes.get(
            SystemClass.WORKSTATION.value, 0
        )
        found: list[tuple[ControlOutcome, str]] = []
        for scope in scopes:
            if scope in ("os_internet", "apps_online") and internet == 0:
                found.append(self._no_internet())
            elif scope == "apps_online" and online_pairs == 0:
                found.append(
                    (NOT_APPLICABLE, "no online-service software on internet-facing systems")
                )
            elif scope == "os_internal" and internal == 0:
                found.append((NOT_APPLICABLE, "no workstations or non-internet-facing servers"))
            else:
                return None
        outcome = NO_VISIBILITY if any(o is NO_VISIBILITY for o, _ in found) else NOT_APPLICABLE
        return outcome, "; ".join(dict.fromkeys(reason for _, reason in found))

    def _no_internet(self) -> tuple[ControlOutcome, str]:
        """Why no system is internet-facing. PMP has no such flag (reference §6), so only a
        deliberate ``none = true`` makes the internet-facing controls not applicable."""
        facing = self.config.internet_facing
        if facing.none:
            return NOT_APPLICABLE, (
                "the compliance config declares no internet-facing systems "
                "([internet_facing] none = true)"
            )
        if not facing.configured:
            return NO_VISIBILITY, (
                "PMP does not record which systems are internet-facing: name them in the "
                "compliance config's [internet_facing] table (organisations, name_patterns, "
                "os_patterns, systems), or set none = true there if there are none"
            )
        return NO_VISIBILITY, (
            "no system matches the [internet_facing] rules of the compliance config: check "
            "them, or set none = true there if there are no internet-facing systems"
        )

    def _timeframe_result(
        self,
        state: SnapshotState,
        control: Control,
        rule: _RuleKey,
        tally: _Tally,
        classes: dict[str, int],
    ) -> ControlResult:
        assessable = tally.compliant + tally.violations + tally.not_yet_due
        online_pairs = 0
        if "apps_online" in control.scopes:
            online_pairs = tally.class_pairs if control.scopes == ("apps_online",) else 1
        empty = self._empty_class(control.scopes, classes, online_pairs)
        unrated = (
            f"; {tally.unrated} pairs are unrated, so whether they are vendor-critical is unknown"
            if tally.unrated
            else ""
        )
        if tally.class_pairs == 0 and empty is not None:
            outcome, reason = empty
        elif tally.class_pairs == 0:
            outcome, reason = NO_VISIBILITY, "PMP reports no patches of this class"
        elif tally.selected + tally.superseded_skipped == 0:
            # under a criticality trigger unrated pairs are already counted pair by pair
            # (``tally.unrated``); only those covered by a successor can be left here
            if (
                rule.select is Select.TRIGGERED
                and tally.class_unrated
                and not self.config.unrated_is_critical
                and self.profile.trigger is not Trigger.CRITICAL_OR_EXPLOIT
            ):
                outcome = NO_VISIBILITY
                reason = (
                    f"no vendor-critical or exploited pairs, but {tally.class_unrated} pairs are "
                    "unrated so their criticality is unknown"
                )
            else:
                outcome, reason = NOT_APPLICABLE, "no pairs meet this control's condition"
        elif assessable == 0 and tally.unrated and tally.unrated == tally.selected:
            outcome = NO_VISIBILITY
            reason = (
                f"no vendor-critical or exploited pairs, but {tally.unrated} pairs are "
                "unrated so their criticality is unknown"
            )
        elif assessable == 0:
            outcome = NO_VISIBILITY
            reason = "no pair has the release time (and install time) needed to judge it" + unrated
        elif tally.violations:
            outcome = INEFFECTIVE
            reason = f"{tally.violations} pairs applied late or overdue"
        elif (
            100.0 * assessable / (assessable + tally.no_visibility) < self.config.min_visibility_pct
        ):
            outcome = NO_VISIBILITY
            reason = (
                f"only {assessable} of {assessable + tally.no_visibility} pairs could be judged "
                f"(< {self.config.min_visibility_pct:g} %)" + unrated
            )
        else:
            outcome, reason = (
                EFFECTIVE,
                "every judged pair applied within its window or not yet due",
            )
        pct = (
            None
            if assessable == 0
            else round(100.0 * (assessable - tally.violations) / assessable, 4)
        )
        worst_patches = tuple(
            Item(pid, _patch_label(state, pid), n)
            for pid, n in sorted(tally.per_patch.items(), key=lambda kv: (-kv[1], kv[0]))[
                : self.config.worst_items
            ]
        )
        return ControlResult.of(
            control,
            outcome=outcome,
            reason=reason,
            systems_in_scope=tally.systems,
            pairs_in_scope=tally.selected,
            assessable=assessable,
            compliant=tally.compliant,
            violations=tally.violations,
            not_yet_due=tally.not_yet_due,
            no_visibility=tally.no_visibility,
            pct_compliant=pct,
            oldest_overdue_time=_from_epoch(tally.oldest_deadline),
            window_hours=rule.window,
            triggered_window_hours=rule.triggered_window,
            worst_systems=tally.worst_systems,
            worst_patches=worst_patches,
            threshold_pass=self._threshold(outcome, pct),
            extra={
                "select": rule.select.value,
                "scopes": list(rule.scopes),
                "severities": None if rule.severities is None else list(rule.severities),
                "superseded_skipped": tally.superseded_skipped,
                "unrated_no_visibility": tally.unrated,
                "oldest_overdue_patch": None
                if tally.oldest_patch is None
                else _patch_label(state, tally.oldest_patch),
            },
        )

    def _threshold(self, outcome: ControlOutcome, pct: float | None) -> bool | None:
        limit = self.config.threshold_pct
        if limit is None:
            return None
        if outcome in PASSING:
            return True
        return outcome is INEFFECTIVE and pct is not None and pct >= limit

    def _scan_result(
        self, state: SnapshotState, control: Control, classes: dict[str, int]
    ) -> ControlResult:
        assert control.window is not None
        hours = self.hours(control.window)
        sysagg = self._sysagg
        (scope,) = control.scopes
        joined = SYSTEMS.outerjoin(sysagg, sysagg.c.resource_id == SYSTEMS.c.resource_id)
        has = sysagg.c[f"h{self._scan_scopes.index(scope)}"]
        internet = SYSTEMS.c.sclass == SystemClass.INTERNET_FACING.value
        member = {
            "os_internet": internet,
            "os_internal": SYSTEMS.c.sclass != SystemClass.INTERNET_FACING.value,
            "apps_online": and_(internet, func.coalesce(has, 0) > 0),
        }.get(scope, func.coalesce(has, 0) > 0)
        late = or_(
            SYSTEMS.c.scan_epoch.is_(None),
            SYSTEMS.c.scan_epoch < state.now_epoch - hours * 3600.0,
        )
        members, with_time, violations, oldest = state.conn.execute(
            select(
                func.count(),
                func.count(SYSTEMS.c.scan_epoch),
                func.coalesce(func.sum(case((late, 1), else_=0)), 0),
                func.min(SYSTEMS.c.scan_epoch),
            )
            .select_from(joined)
            .where(member)
        ).one()
        members, with_time, violations = int(members), int(with_time), int(violations)
        empty = self._empty_class(control.scopes, classes, members)
        worst: tuple[Item, ...] = ()
        if members == 0:
            outcome, reason = empty or (NO_VISIBILITY, "no systems with patches of this class")
        elif with_time == 0:
            outcome, reason = NO_VISIBILITY, "no successful scan time recorded for any system"
        elif violations:
            outcome = INEFFECTIVE
            reason = f"{violations} systems not scanned successfully within {hours:g} hours"
            rows = state.conn.execute(
                select(SYSTEMS.c.resource_id, SYSTEMS.c.name, SYSTEMS.c.scan_epoch)
                .select_from(joined)
                .where(member, late)
                .order_by(func.coalesce(SYSTEMS.c.scan_epoch, 0.0), SYSTEMS.c.name)
                .limit(self.config.worst_items)
            ).all()
            worst = tuple(
                Item(
                    int(r[0]),
                    str(r[1] or r[0]),
                    1,
                    "never scanned successfully"
                    if r[2] is None
                    else f"last good scan {_from_epoch(r[2]):%Y-%m-%d %H:%M} UTC",
                )
                for r in rows
            )
        else:
            outcome, reason = EFFECTIVE, f"every system scanned within {hours:g} hours"
        pct = None if members == 0 else round(100.0 * (members - violations) / members, 4)
        return ControlResult.of(
            control,
            outcome=outcome,
            reason=reason,
            systems_in_scope=members,
            assessable=members,
            compliant=members - violations,
            violations=violations,
            no_visibility=members - with_time if with_time else 0,
            pct_compliant=pct,
            oldest_overdue_time=_from_epoch(oldest) if violations else None,
            window_hours=hours,
            worst_systems=worst,
            threshold_pass=self._threshold(outcome, pct),
            extra={"scopes": list(control.scopes)},
        )

    def _discovery_result(
        self, state: SnapshotState, control: Control, classes: dict[str, int]
    ) -> ControlResult:
        assert control.window is not None
        cadence = timedelta(hours=self.hours(control.window))
        now = state.started_at
        times = sorted(
            {
                _aware(t)
                for t in state.conn.execute(
                    select(Snapshot.started_at).where(
                        Snapshot.source_id == state.source_id,
                        Snapshot.status.in_(FINISHED),
                        Snapshot.started_at <= now,
                    )
                ).scalars()
            }
            | {now}
        )
        window_start = now - timedelta(days=self.config.discovery_lookback_days)
        before = [t for t in times if t < window_start]
        considered = ([before[-1]] if before else []) + [t for t in times if t >= window_start]
        gaps = [b - a for a, b in pairwise(considered)]
        late = [g for g in gaps if g > cadence]
        max_gap = max(gaps, default=timedelta(0))
        if now - times[0] < cadence:
            outcome = NO_VISIBILITY
            reason = (
                f"extraction history starts {times[0]:%Y-%m-%d}: less than "
                f"{cadence.days} days to prove the cadence"
            )
        elif late:
            outcome = INEFFECTIVE
            reason = f"{len(late)} gaps between inventories longer than {cadence.days} days"
        else:
            outcome = EFFECTIVE
            reason = f"an inventory at least every {cadence.days} days over the last "
            reason += f"{self.config.discovery_lookback_days:g} days"
        return ControlResult.of(
            control,
            outcome=outcome,
            reason=reason,
            systems_in_scope=classes.get("total", 0),
            pairs_in_scope=len(considered),
            assessable=len(gaps),
            compliant=len(gaps) - len(late),
            violations=len(late),
            pct_compliant=None
            if not gaps
            else round(100.0 * (len(gaps) - len(late)) / len(gaps), 4),
            window_hours=cadence.total_seconds() / 3600.0,
            threshold_pass=self._threshold(outcome, None),
            extra={
                "snapshots_considered": len(considered),
                "max_gap_days": round(max_gap.total_seconds() / 86400.0, 3),
                "note": "evidence: pmp-intel's own extraction history of the agent inventory",
            },
        )

    def _database_result(
        self, state: SnapshotState, control: Control, classes: dict[str, int]
    ) -> ControlResult:
        row = state.conn.execute(
            select(
                ServerSummary.last_db_update_time,
                ServerSummary.last_db_update_status,
                ServerSummary.auto_db_update_disabled,
            ).where(ServerSummary.snapshot_id == state.snapshot_id)
        ).one_or_none()
        limit = self.config.db_update_max_age_hours
        extra: dict[str, Any] = {"max_age_hours": limit}
        violations = 0
        if row is None or row[0] is None:
            outcome = NO_VISIBILITY
            reason = "the snapshot has no vulnerability-database update time (server summary)"
        else:
            updated = _aware(row[0])
            age = (state.started_at - updated).total_seconds() / 3600.0
            status_ok = row[1] is None or "success" in str(row[1]).lower()
            extra.update(age_hours=round(age, 3), status=row[1], auto_update_disabled=row[2])
            if age <= limit and status_ok:
                outcome = EFFECTIVE
                reason = f"database updated {age:.1f} hours before the snapshot"
            else:
                outcome, violations = INEFFECTIVE, 1
                reason = (
                    f"database last updated {age:.1f} hours before the snapshot"
                    + ("" if status_ok else f" (status {row[1]})")
                    + (", automatic updates disabled" if row[2] else "")
                )
        return ControlResult.of(
            control,
            outcome=outcome,
            reason=reason,
            systems_in_scope=classes.get("total", 0),
            violations=violations,
            window_hours=limit,
            threshold_pass=self._threshold(outcome, None),
            extra=extra,
        )

    def _unassessed_result(self, control: Control) -> ControlResult:
        attested = self.config.attestations.get(control.control_id)
        if attested is not None:
            outcome, reason = attested, "outcome attested in the compliance configuration"
        else:
            outcome = NOT_ASSESSED
            reason = "PMP holds no lifecycle/support data: needs evidence from elsewhere"
        return ControlResult.of(
            control,
            outcome=outcome,
            reason=reason,
            threshold_pass=self._threshold(outcome, None),
        )

    # ----------------------------------------------------------------------- maturity
    def _maturity(self, controls: Sequence[ControlResult]) -> tuple[StrategyResult, ...]:
        out = []
        for strategy in Strategy:
            mine = [c for c in controls if c.strategy == strategy.value]
            if not mine:
                continue
            levels = sorted({lvl for c in mine for lvl in c.levels})
            achieved = _achieved(mine, levels, lambda c: c.outcome in PASSING)
            threshold = None
            if self.config.threshold_pct is not None:
                threshold = _achieved(mine, levels, lambda c: bool(c.threshold_pass))
            nxt = achieved + 1
            blocking = tuple(
                dict.fromkeys(
                    c.control_id
                    for c in mine
                    if nxt in c.levels
                    and c.outcome not in PASSING
                    and c.outcome is not NOT_ASSESSED
                )
            )
            not_assessed = tuple(
                dict.fromkeys(c.control_id for c in mine if c.outcome is NOT_ASSESSED)
            )
            out.append(StrategyResult(strategy.value, achieved, blocking, not_assessed, threshold))
        return tuple(out)

    # ----------------------------------------------------------------------- storage
    def _store(self, conn: Connection, snapshot_id: int, controls: Sequence[ControlResult]) -> None:
        table = table_of(ComplianceCheck)
        conn.execute(
            delete(table).where(
                table.c.snapshot_id == snapshot_id, table.c.profile == self.profile.name
            )
        )
        rows = []
        for c in controls:
            details = {
                "kind": c.kind,
                "reason": c.reason,
                "levels": list(c.levels),
                "assessable": c.assessable,
                "compliant": c.compliant,
                "no_visibility": c.no_visibility,
                "window_hours": c.window_hours,
                "triggered_window_hours": c.triggered_window_hours,
                "worst_systems": [asdict(i) for i in c.worst_systems],
                "worst_patches": [asdict(i) for i in c.worst_patches],
                "threshold_pct": self.config.threshold_pct,
                "threshold_pass": c.threshold_pass,
                **c.extra,
            }
            for level in c.levels:
                rows.append(
                    {
                        "snapshot_id": snapshot_id,
                        "profile": self.profile.name,
                        "strategy": c.strategy,
                        "maturity_level": level,
                        "control_id": c.control_id,
                        "title": c.title[:255],
                        "outcome": c.outcome.value,
                        "systems_in_scope": c.systems_in_scope,
                        "pairs_in_scope": c.pairs_in_scope,
                        "violations": c.violations,
                        "not_yet_due": c.not_yet_due,
                        "pct_compliant": c.pct_compliant,
                        "oldest_overdue_time": c.oldest_overdue_time,
                        "details": _jsonable(details),
                    }
                )
        if rows:
            conn.execute(insert(table), rows)

    def _trend(
        self, conn: Connection, source_id: int, start: datetime | None, end: datetime
    ) -> list[TrendPoint]:
        cc = table_of(ComplianceCheck)
        conditions = [
            Snapshot.source_id == source_id,
            Snapshot.started_at <= end,
            cc.c.profile == self.profile.name,
        ]
        if start is not None:
            conditions.append(Snapshot.started_at >= start)
        rows = conn.execute(
            select(
                Snapshot.id,
                Snapshot.started_at,
                cc.c.strategy,
                cc.c.maturity_level,
                cc.c.control_id,
                cc.c.outcome,
                cc.c.violations,
                cc.c.details,
            )
            .select_from(cc.join(Snapshot, Snapshot.id == cc.c.snapshot_id))
            .where(*conditions)
            .order_by(Snapshot.started_at, Snapshot.id)
        ).all()
        by_snapshot: dict[int, list[Any]] = defaultdict(list)
        started: dict[int, datetime] = {}
        for row in rows:
            by_snapshot[int(row[0])].append(row)
            started[int(row[0])] = _aware(row[1])
        sev = table_of(SeverityMetric)
        missing = {
            int(r[0]): (int(r[1]), int(r[2]))
            for r in conn.execute(
                select(
                    sev.c.snapshot_id,
                    sev.c.missing_patches_critical,
                    sev.c.missing_critical + sev.c.failed_critical,
                ).where(
                    sev.c.snapshot_id.in_(list(by_snapshot) or [-1]),
                    sev.c.scope == "total",
                    sev.c.scope_value == "",
                )
            )
        }
        top = max(self.profile.levels)
        points = []
        for sid, items in by_snapshot.items():
            maturity: dict[str, int] = {}
            pct: dict[str, float | None] = {}
            violations: dict[str, int] = {}
            for strategy in {str(r[2]) for r in items}:
                mine = [r for r in items if r[2] == strategy]
                levels = sorted({int(r[3]) for r in mine})
                ok = {
                    lvl: all(
                        r[5] in (EFFECTIVE.value, NOT_APPLICABLE.value, NOT_ASSESSED.value)
                        for r in mine
                        if int(r[3]) == lvl
                    )
                    for lvl in levels
                }
                achieved = 0
                for lvl in levels:
                    if not ok[lvl]:
                        break
                    achieved = lvl
                maturity[strategy] = achieved
                timed = [
                    r for r in mine if int(r[3]) == top and (r[7] or {}).get("kind") == "timeframe"
                ]
                assessable = sum(int((r[7] or {}).get("assessable") or 0) for r in timed)
                violated = sum(int(r[6]) for r in timed)
                violations[strategy] = violated
                pct[strategy] = (
                    None
                    if assessable == 0
                    else round(100.0 * (assessable - violated) / assessable, 4)
                )
            crit = missing.get(sid)
            points.append(
                TrendPoint(
                    snapshot_id=sid,
                    started_at=started[sid],
                    maturity=maturity,
                    pct_compliant=pct,
                    violations=violations,
                    missing_critical_patches=None if crit is None else crit[0],
                    missing_critical_pairs=None if crit is None else crit[1],
                )
            )
        return points

    def _assumptions(self) -> tuple[str, ...]:
        c = self.config
        facing = c.internet_facing
        lines = [
            f"Windows: 48 hours; two weeks = {c.two_weeks_days:g} days; one month = "
            f"{c.one_month_days:g} days (ASD gives no day counts).",
            "Vendor-critical = severity "
            + "/".join(str(s) for s in c.critical_severities)
            + (
                "; unrated counts as critical."
                if c.unrated_is_critical
                else "; unrated (0) counts as non-critical, and as no visibility in the "
                "48-hour controls triggered by vendor criticality."
            ),
            "Working exploit = a linked CVE in the imported CISA KEV catalogue, added on or "
            "before the install of an installed pair, or the snapshot for a missing one."
            if c.use_kev
            else "Exploit information is not used.",
            "Internet-facing: "
            + (
                ", ".join(
                    f"{name} {values}"
                    for name, values in (
                        ("organisations", facing.organisations),
                        ("names", facing.name_patterns),
                        ("OS", facing.os_patterns),
                        ("systems", facing.systems),
                    )
                    if values
                )
                if facing.configured
                else "none (declared in the configuration)"
                if facing.none
                else "not configured (PMP has no such flag), so the internet-facing controls "
                "have no visibility"
            )
            + ".",
            "Reboot-pending installs are not applied; missing superseded patches are "
            + (
                "skipped when their successor has a pair on the same system (that pair is "
                "judged instead)."
                if c.ignore_superseded_missing
                else "counted."
            ),
            f"A control with no violations needs ≥ {c.min_visibility_pct:g} % of its pairs "
            "judgeable to be effective.",
            "'Now' is the snapshot's start time.",
        ]
        if c.threshold_pct is not None:
            lines.append(
                f"Threshold mode ({c.threshold_pct:g} %) is a percentage policy, NOT ASD's rule."
            )
        return tuple(lines)


def _achieved(controls: Sequence[ControlResult], levels: Sequence[int], passes: Any) -> int:
    achieved = 0
    for level in levels:
        at = [c for c in controls if level in c.levels and c.outcome is not NOT_ASSESSED]
        if not all(passes(c) for c in at):
            break
        achieved = level
    return achieved


def _patch_label(state: SnapshotState, patch_id: int) -> str:
    info = state.patches.get(patch_id)
    if info is None:
        return str(patch_id)
    facts = info.facts
    return (facts.patch_description or facts.patch_name or str(patch_id))[:200]
