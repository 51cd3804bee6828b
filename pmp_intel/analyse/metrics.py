"""MetricsCalculator: per-snapshot patch, severity, system-health, vulnerability and
time-to-patch figures, computed with set-based SQL and stored in the metric tables.

Definitions (docs/metrics.md):

* pairs are system-patch rows of ``system_patch_states`` at the snapshot, by PMP's
  ``install_status`` (201 installed, 202 missing, 206 failed);
* a patch is *missing* when it is missing or failed on at least one system, *failed* when
  it failed on at least one, *installed* when installed everywhere it applies, so
  ``applicable = installed + missing`` as in PMP's own summary;
* severity 0 / NULL is *unrated*;
* time to patch runs from ``patch_released_time`` to ``installed_time`` (pairs with either
  missing, or installed "before" release, are left out); median and p90 are nearest-rank,
  to the minute;
* a stale agent has had no contact for ``stale_agent_days`` before the snapshot started (or
  none recorded).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    cast,
    delete,
    distinct,
    exists,
    func,
    insert,
    literal,
    select,
)

from pmp_intel.analyse.categories import PatchCategory, PatchClassifier
from pmp_intel.analyse.config import ComplianceConfig
from pmp_intel.analyse.sql import FINISHED, Bind, epoch, snapshot_row, table_of, transaction
from pmp_intel.analyse.state import PATCHES, SnapshotState, pair_source, stage
from pmp_intel.settings import Settings
from pmp_intel.store.history import as_of
from pmp_intel.store.models import (
    HealthStatus,
    InstallStatus,
    KnownExploitedVulnerability,
    LiveStatus,
    PatchMetric,
    PatchVulnerability,
    ScanStatus,
    ServerSummary,
    Severity,
    SeverityMetric,
    Snapshot,
    System,
    SystemHealthMetric,
    SystemPatchState,
    TimeToPatchMetric,
    VulnerabilityMetric,
)
from pmp_intel.store.models.vulnerability import Vulnerability

INSTALLED, MISSING, FAILED = (
    int(InstallStatus.INSTALLED),
    int(InstallStatus.MISSING),
    int(InstallStatus.FAILED),
)
SEVERITY_NAMES = {0: "unrated", 1: "low", 2: "moderate", 3: "important", 4: "critical"}
TOTAL = ("total", "")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class PatchFigures:
    """Applicable / installed / missing / failed pairs and distinct patches in one scope."""

    scope: str
    scope_value: str
    applicable_pairs: int = 0
    installed_pairs: int = 0
    missing_pairs: int = 0
    failed_pairs: int = 0
    applicable_patches: int = 0
    installed_patches: int = 0
    missing_patches: int = 0
    failed_patches: int = 0
    systems: int = 0


@dataclass(frozen=True, slots=True)
class SeverityFigures:
    """Missing and failed pairs, and distinct missing patches, by vendor severity."""

    scope: str
    scope_value: str
    missing_critical: int = 0
    missing_important: int = 0
    missing_moderate: int = 0
    missing_low: int = 0
    missing_unrated: int = 0
    missing_total: int = 0
    failed_critical: int = 0
    failed_important: int = 0
    failed_moderate: int = 0
    failed_low: int = 0
    failed_unrated: int = 0
    failed_total: int = 0
    missing_patches_critical: int = 0
    missing_patches_important: int = 0
    missing_patches_moderate: int = 0
    missing_patches_low: int = 0
    missing_patches_unrated: int = 0
    missing_patches_total: int = 0


@dataclass(frozen=True, slots=True)
class HealthFigures:
    """Health, liveness, scan state and stale agents of the systems in one scope."""

    scope: str
    scope_value: str
    total_systems: int = 0
    healthy: int = 0
    vulnerable: int = 0
    highly_vulnerable: int = 0
    health_unknown: int = 0
    live: int = 0
    down: int = 0
    live_unknown: int = 0
    scan_succeeded: int = 0
    scan_failed: int = 0
    scan_in_progress: int = 0
    not_scanned: int = 0
    stale_agents: int = 0


@dataclass(frozen=True, slots=True)
class VulnerabilityFigures:
    """CVE exposure: the headline (scope 'total') or one CVE (scope 'cve')."""

    scope: str
    scope_value: str
    cves_exposed: int = 0
    systems_exposed: int = 0
    pairs_exposed: int = 0
    known_exploited_cves: int = 0
    max_cvss: float | None = None
    mean_cvss: float | None = None


@dataclass(frozen=True, slots=True)
class TimeToPatchFigures:
    """Hours from release to install; ``severity`` None is all severities together."""

    severity: int | None
    samples: int = 0
    mean_hours: float | None = None
    median_hours: float | None = None
    p90_hours: float | None = None


F = TypeVar("F")


def _find(items: Sequence[F], scope: str, value: str) -> F | None:
    for item in items:
        if getattr(item, "scope", None) == scope and getattr(item, "scope_value", None) == value:
            return item
    return None


@dataclass(frozen=True, slots=True)
class SnapshotMetrics:
    """Every figure of one snapshot, as stored."""

    snapshot_id: int
    source_id: int
    started_at: datetime
    patches: tuple[PatchFigures, ...]
    severity: tuple[SeverityFigures, ...]
    health: tuple[HealthFigures, ...]
    vulnerabilities: tuple[VulnerabilityFigures, ...]
    time_to_patch: tuple[TimeToPatchFigures, ...]

    @property
    def patch_total(self) -> PatchFigures:
        """The headline patch row."""
        return _find(self.patches, *TOTAL) or PatchFigures(*TOTAL)

    @property
    def severity_total(self) -> SeverityFigures:
        """The headline severity row."""
        return _find(self.severity, *TOTAL) or SeverityFigures(*TOTAL)

    @property
    def health_total(self) -> HealthFigures:
        """The headline system-health row."""
        return _find(self.health, *TOTAL) or HealthFigures(*TOTAL)

    @property
    def vulnerability_total(self) -> VulnerabilityFigures:
        """The headline CVE-exposure row."""
        found = _find(self.vulnerabilities, *TOTAL)
        return found or VulnerabilityFigures(*TOTAL)

    def patch(self, scope: str, value: str) -> PatchFigures | None:
        """The patch row of a scope (e.g. ``("category", "os")``), or None."""
        return _find(self.patches, scope, value)

    def severity_of(self, scope: str, value: str) -> SeverityFigures | None:
        """The severity row of a scope, or None."""
        return _find(self.severity, scope, value)

    def health_of(self, scope: str, value: str) -> HealthFigures | None:
        """The health row of a scope (``organisation`` / ``os``), or None."""
        return _find(self.health, scope, value)

    def ttp(self, severity: int | None) -> TimeToPatchFigures | None:
        """Time to patch for one severity (None: all severities)."""
        for item in self.time_to_patch:
            if item.severity == severity:
                return item
        return None

    def headline(self) -> dict[str, float | int | None]:
        """Every headline figure by dotted name (what deltas compare)."""
        out: dict[str, float | int | None] = {}
        for prefix, row in (
            ("patches", self.patch_total),
            ("severity", self.severity_total),
            ("health", self.health_total),
            ("vulnerabilities", self.vulnerability_total),
        ):
            for f in fields(row):
                if f.name not in ("scope", "scope_value"):
                    out[f"{prefix}.{f.name}"] = getattr(row, f.name)
        for item in self.time_to_patch:
            name = "all" if item.severity is None else SEVERITY_NAMES.get(item.severity, "?")
            for figure in ("samples", "mean_hours", "median_hours", "p90_hours"):
                out[f"time_to_patch.{name}.{figure}"] = getattr(item, figure)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data


@dataclass(frozen=True, slots=True)
class Delta:
    """One headline figure against the previous snapshot (None where either is unknown)."""

    name: str
    current: float | int | None
    previous: float | int | None
    change: float | int | None


@dataclass(frozen=True, slots=True)
class MetricDeltas:
    """Headline figures of a snapshot against the previous snapshot with metrics."""

    snapshot_id: int
    previous_snapshot_id: int | None
    deltas: tuple[Delta, ...]

    def __getitem__(self, name: str) -> Delta:
        for delta in self.deltas:
            if delta.name == name:
                return delta
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class SummaryDisagreement:
    """A figure on which the computed metrics and the server's own summary differ."""

    name: str
    computed: int
    server: int


# --------------------------------------------------------------------------- storage maps

_STORE: tuple[tuple[str, Any, type[Any]], ...] = (
    ("patches", PatchMetric, PatchFigures),
    ("severity", SeverityMetric, SeverityFigures),
    ("health", SystemHealthMetric, HealthFigures),
    ("vulnerabilities", VulnerabilityMetric, VulnerabilityFigures),
    ("time_to_patch", TimeToPatchMetric, TimeToPatchFigures),
)


def _as_rows(snapshot_id: int, items: Iterable[Any]) -> list[dict[str, Any]]:
    return [{"snapshot_id": snapshot_id, **asdict(item)} for item in items]


# --------------------------------------------------------------------------- calculator


def exposed_systems_per_cve(
    pairs_now: ColumnElement[bool], links_now: ColumnElement[bool], cves: Sequence[str]
) -> Select[Any]:
    """Per CVE of ``cves``: the distinct systems with a not-installed patch that fixes it,
    among the pairs and patch-CVE links true now (``pairs_now``, ``links_now``)."""
    st = table_of(SystemPatchState)
    pv = table_of(PatchVulnerability)
    # ``+ 0`` keeps SQLite (which has no statistics here) off the (source, status) index: it
    # would walk every not-installed pair once per linked patch (1.4 s for 185 CVEs on 3,362
    # systems) where the (source, patch) index finds each patch's pairs (14 ms)
    not_installed = (st.c.install_status + 0).in_([MISSING, FAILED])
    return (
        select(pv.c.cve_id, func.count(distinct(st.c.resource_id)))
        .select_from(
            st.join(pv, and_(pv.c.source_id == st.c.source_id, pv.c.patch_id == st.c.patch_id))
        )
        .where(pairs_now, links_now, not_installed, pv.c.cve_id.in_(list(cves)))
        .group_by(pv.c.cve_id)
    )


class MetricsCalculator:
    """Computes, stores and reads per-snapshot metrics.

    >>> calc = MetricsCalculator(engine)  # doctest: +SKIP
    >>> calc.calculate(snapshot_id).patch_total.missing_pairs  # doctest: +SKIP
    """

    _SCOPES: ClassVar[tuple[str, ...]] = ("category", "platform", "security")

    def __init__(
        self,
        bind: Bind,
        settings: Settings | None = None,
        *,
        config: ComplianceConfig | None = None,
    ) -> None:
        self.bind = bind
        settings = settings or _default_settings()
        self.stale_agent_days = settings.stale_agent_days
        # the patch categories follow the same compliance configuration as the checker
        self.config = config or ComplianceConfig.load(settings.compliance_config)
        self.classifier = PatchClassifier(self.config)
        self._not_installed_per_patch: dict[int, int] = {}

    # ----------------------------------------------------------------------- public
    def calculate(self, snapshot_id: int) -> SnapshotMetrics:
        """Compute the snapshot's metrics, replace its stored rows, and return them."""
        with transaction(self.bind) as conn:
            snap = snapshot_row(conn, snapshot_id)
            with stage(conn, snap, self.config, self.classifier) as state:
                result = self._compute(state)
            for attr, model, _ in _STORE:
                table = table_of(model)
                conn.execute(delete(table).where(table.c.snapshot_id == snapshot_id))
                rows = _as_rows(snapshot_id, getattr(result, attr))
                if rows:
                    conn.execute(insert(table), rows)
        return result

    def get(self, snapshot_id: int) -> SnapshotMetrics | None:
        """The stored metrics of a snapshot, or None if it has none."""
        with transaction(self.bind) as conn:
            snap = snapshot_row(conn, snapshot_id)
            return self._read(conn, snap)

    def between(self, source_id: int, start: datetime, end: datetime) -> list[SnapshotMetrics]:
        """Stored metrics of the source's snapshots that started in ``[start, end]``, oldest
        first."""
        with transaction(self.bind) as conn:
            snaps = conn.execute(
                select(Snapshot.id, Snapshot.source_id, Snapshot.status, Snapshot.started_at)
                .where(
                    Snapshot.source_id == source_id,
                    Snapshot.started_at >= start,
                    Snapshot.started_at <= end,
                )
                .order_by(Snapshot.started_at, Snapshot.id)
            ).all()
            found = [self._read(conn, dict(s._mapping)) for s in snaps]
        return [m for m in found if m is not None]

    def deltas(self, snapshot_id: int) -> MetricDeltas:
        """Headline figures against the previous snapshot of the same source with metrics."""
        with transaction(self.bind) as conn:
            snap = snapshot_row(conn, snapshot_id)
            current = self._read(conn, snap)
            if current is None:
                from pmp_intel.analyse.errors import MetricsNotComputedError

                raise MetricsNotComputedError(
                    f"snapshot {snapshot_id} has no metrics: run calculate() first"
                )
            previous_id = previous_snapshot_with_metrics(conn, snap)
            previous = (
                None if previous_id is None else self._read(conn, snapshot_row(conn, previous_id))
            )
        now = current.headline()
        before = previous.headline() if previous else {}
        out = []
        for name, value in now.items():
            old = before.get(name)
            change = None if value is None or old is None else value - old
            if isinstance(change, float):
                change = round(change, 6)
            out.append(Delta(name, value, old, change))
        return MetricDeltas(snapshot_id, previous_id, tuple(out))

    # ----------------------------------------------------------------------- compute
    def _compute(self, state: SnapshotState) -> SnapshotMetrics:
        patches, severity = self._patch_and_severity(state)
        return SnapshotMetrics(
            snapshot_id=state.snapshot_id,
            source_id=state.source_id,
            started_at=state.started_at,
            patches=patches,
            severity=severity,
            health=self._health(state),
            vulnerabilities=self._vulnerabilities(state),
            time_to_patch=self._time_to_patch(state),
        )

    def _scope_values(self, state: SnapshotState, patch_id: int) -> list[tuple[str, str]]:
        info = state.patches.get(patch_id)
        if info is None:
            return [
                TOTAL,
                ("category", PatchCategory.UNKNOWN.value),
                ("platform", "unknown"),
                ("security", "unknown"),
            ]
        c = info.classification
        return [
            TOTAL,
            ("category", c.category.value),
            ("platform", c.platform),
            ("security", "security" if c.security else "non_security"),
        ]

    def _patch_and_severity(
        self, state: SnapshotState
    ) -> tuple[tuple[PatchFigures, ...], tuple[SeverityFigures, ...]]:
        st = table_of(SystemPatchState)
        counts = state.conn.execute(
            select(st.c.patch_id, st.c.install_status, func.count())
            .where(state.pairs_where())
            .group_by(st.c.patch_id, st.c.install_status)
        ).all()
        pairs: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        sev: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        per_patch: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for patch_id, status, n in counts:
            per_patch[int(patch_id)][int(status)] += int(n)
        self._not_installed_per_patch = {
            pid: by.get(MISSING, 0) + by.get(FAILED, 0) for pid, by in per_patch.items()
        }
        for patch_id, by_status in per_patch.items():
            info = state.patches.get(patch_id)
            level = SEVERITY_NAMES.get(int(info.facts.severity or 0) if info else 0, "unrated")
            scopes = self._scope_values(state, patch_id)
            missing = by_status.get(MISSING, 0)
            failed = by_status.get(FAILED, 0)
            installed = by_status.get(INSTALLED, 0)
            for key in scopes:
                p = pairs[key]
                p["installed_pairs"] += installed
                p["missing_pairs"] += missing
                p["failed_pairs"] += failed
                p["applicable_pairs"] += installed + missing + failed
                p["applicable_patches"] += 1
                p["missing_patches"] += int(missing + failed > 0)
                p["failed_patches"] += int(failed > 0)
                p["installed_patches"] += int(missing + failed == 0)
                s = sev[key]
                s[f"missing_{level}"] += missing
                s["missing_total"] += missing
                s[f"failed_{level}"] += failed
                s["failed_total"] += failed
                if missing + failed:
                    s[f"missing_patches_{level}"] += 1
                    s["missing_patches_total"] += 1
        systems = self._systems_per_scope(state, list(pairs))
        if TOTAL not in pairs:
            pairs[TOTAL] = defaultdict(int)
            sev[TOTAL] = defaultdict(int)
        patch_rows = tuple(
            PatchFigures(k[0], k[1], systems=systems.get(k, 0), **dict(v))
            for k, v in sorted(pairs.items())
        )
        severity_rows = tuple(
            SeverityFigures(k[0], k[1], **dict(v)) for k, v in sorted(sev.items())
        )
        return patch_rows, severity_rows

    def _systems_per_scope(
        self, state: SnapshotState, scopes: list[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """Distinct systems with at least one pair in each scope, in one pass."""
        joined, st, where = pair_source(state, with_systems=False)
        column = {
            "category": func.coalesce(PATCHES.c.category, literal(PatchCategory.UNKNOWN.value)),
            "platform": func.coalesce(PATCHES.c.platform, literal("unknown")),
            "security": case(
                (PATCHES.c.security.is_(None), literal("unknown")),
                (PATCHES.c.security == 1, literal("security")),
                else_=literal("non_security"),
            ),
        }
        keyed = [k for k in scopes if k != TOTAL]
        flags = [
            func.max(case((column[scope] == value, 1), else_=0)).label(f"f{i}")
            for i, (scope, value) in enumerate(keyed)
        ]
        inner = (
            select(st.c.resource_id, *flags)
            .select_from(joined)
            .where(where)
            .group_by(st.c.resource_id)
            .subquery()
        )
        outer = select(
            func.count(), *(func.coalesce(func.sum(inner.c[f"f{i}"]), 0) for i in range(len(keyed)))
        )
        row = state.conn.execute(outer).one()
        result = {TOTAL: int(row[0])}
        for i, key in enumerate(keyed):
            result[key] = int(row[i + 1])
        return result

    def _health(self, state: SnapshotState) -> tuple[HealthFigures, ...]:
        s = table_of(System)
        cutoff = state.started_at - timedelta(days=self.stale_agent_days)

        def count_if(condition: Any) -> Any:
            return func.sum(case((condition, 1), else_=0))

        health = s.c.resource_health_status
        scan = s.c.scan_status
        live = s.c.computer_live_status
        org = func.coalesce(s.c.branch_office_name, literal("(none)"))
        os_name = func.coalesce(s.c.os_name, s.c.os_platform_name, literal("(unknown)"))
        query = (
            select(
                org,
                os_name,
                func.count(),
                count_if(health == int(HealthStatus.HEALTHY)),
                count_if(health == int(HealthStatus.VULNERABLE)),
                count_if(health == int(HealthStatus.HIGHLY_VULNERABLE)),
                count_if(live == int(LiveStatus.LIVE)),
                count_if(live == int(LiveStatus.DOWN)),
                count_if(scan == int(ScanStatus.SUCCESS)),
                count_if(scan == int(ScanStatus.FAILED)),
                count_if(scan == int(ScanStatus.IN_PROGRESS)),
                count_if(
                    s.c.agent_last_contact_time.is_(None) | (s.c.agent_last_contact_time < cutoff)
                ),
            )
            .where(as_of(s, state.source_id, state.snapshot_id))
            .group_by(org, os_name)
        )
        sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 10)
        for row in state.conn.execute(query):
            values = [int(v or 0) for v in row[2:]]
            for key in (TOTAL, ("organisation", str(row[0])), ("os", str(row[1]))):
                acc = sums[key]
                for i, v in enumerate(values):
                    acc[i] += v
        sums.setdefault(TOTAL, [0] * 10)
        out = []
        for (scope, value), figures in sorted(sums.items()):
            total, healthy, vuln, high, live_n, down, ok, failed, running, stale = figures
            out.append(
                HealthFigures(
                    scope,
                    value[:255],
                    total_systems=total,
                    healthy=healthy,
                    vulnerable=vuln,
                    highly_vulnerable=high,
                    health_unknown=total - healthy - vuln - high,
                    live=live_n,
                    down=down,
                    live_unknown=total - live_n - down,
                    scan_succeeded=ok,
                    scan_failed=failed,
                    scan_in_progress=running,
                    not_scanned=total - ok - failed - running,
                    stale_agents=stale,
                )
            )
        return tuple(out)

    def _vulnerabilities(self, state: SnapshotState) -> tuple[VulnerabilityFigures, ...]:
        st = table_of(SystemPatchState)
        pv = table_of(PatchVulnerability)
        vuln = table_of(Vulnerability)
        kev = table_of(KnownExploitedVulnerability)
        conn = state.conn
        not_installed = st.c.install_status.in_([MISSING, FAILED])
        st_now = state.pairs_where()
        pv_now = as_of(pv, state.source_id, state.snapshot_id)
        links: dict[str, set[int]] = defaultdict(set)
        for cve, patch_id in conn.execute(select(pv.c.cve_id, pv.c.patch_id).where(pv_now)):
            links[str(cve)].add(int(patch_id))
        # A CVE fixed by one patch: its exposed pairs are that patch's not-installed pairs, one
        # per system. Only CVEs fixed by several patches need a distinct count over systems.
        exposed = dict(self._not_installed_per_patch)
        shared = sorted(c for c, ids in links.items() if len(ids) > 1)
        distinct_systems: dict[str, int] = {}
        for start in range(0, len(shared), 500):
            chunk = shared[start : start + 500]
            distinct_systems.update(
                (str(cve), int(n))
                for cve, n in conn.execute(exposed_systems_per_cve(st_now, pv_now, chunk))
            )
        per_cve = []
        for cve, ids in links.items():
            pairs_n = sum(exposed.get(pid, 0) for pid in ids)
            if pairs_n:
                per_cve.append((cve, distinct_systems.get(cve, pairs_n), pairs_n))
        linked = select(pv.c.patch_id).where(pv_now)
        pairs_total, systems_total = conn.execute(
            select(func.count(), func.count(distinct(st.c.resource_id))).where(
                st_now, not_installed, st.c.patch_id.in_(linked.scalar_subquery())
            )
        ).one()
        scores = {
            str(cve): None if score is None else min(max(float(score), 0.0), 10.0)
            for cve, score in conn.execute(
                select(vuln.c.cve_id, vuln.c.cvss_score).where(
                    as_of(vuln, state.source_id, state.snapshot_id)
                )
            )
        }
        exploited = (
            set(
                conn.execute(
                    select(kev.c.cve_id).where(
                        kev.c.date_added.is_(None) | (kev.c.date_added <= state.started_at.date())
                    )
                ).scalars()
            )
            if self.config.use_kev
            else set()
        )
        rows = []
        known = []
        kev_count = 0
        for cve, systems, pairs in sorted(per_cve):
            score = scores.get(str(cve))
            is_kev = str(cve).upper() in exploited
            kev_count += int(is_kev)
            if score is not None:
                known.append(score)
            rows.append(
                VulnerabilityFigures(
                    "cve",
                    str(cve),
                    cves_exposed=1,
                    systems_exposed=int(systems),
                    pairs_exposed=int(pairs),
                    known_exploited_cves=int(is_kev),
                    max_cvss=score,
                    mean_cvss=score,
                )
            )
        headline = VulnerabilityFigures(
            *TOTAL,
            cves_exposed=len(rows),
            systems_exposed=int(systems_total),
            pairs_exposed=int(pairs_total),
            known_exploited_cves=kev_count,
            max_cvss=max(known) if known else None,
            mean_cvss=round(sum(known) / len(known), 4) if known else None,
        )
        return (headline, *rows)

    def _time_to_patch(self, state: SnapshotState) -> tuple[TimeToPatchFigures, ...]:
        joined, st, where = pair_source(state, with_systems=False)
        seconds = epoch(st.c.installed_time) - PATCHES.c.rel_epoch
        delays = (
            select(
                func.coalesce(PATCHES.c.severity, 0).label("sev"),
                seconds.label("secs"),
            )
            .select_from(joined)
            .where(
                where,
                st.c.install_status == INSTALLED,
                st.c.installed_time.is_not(None),
                PATCHES.c.rel_epoch.is_not(None),
            )
            .subquery()
        )
        # Whole seconds first (julianday arithmetic is a few microseconds off), then integer
        # division: the same floor on both backends (a float cast rounds on PostgreSQL).
        minute = cast(func.round(delays.c.secs), BigInteger) / 60
        hist = (
            select(
                delays.c.sev.label("sev"),
                minute.label("m"),
                func.count().label("n"),
                func.sum(delays.c.secs).label("s"),
            )
            .where(delays.c.secs >= 0)
            .group_by(delays.c.sev, minute)
            .cte("hist")
        )
        both = (
            select(hist.c.sev, hist.c.m, hist.c.n, hist.c.s)
            .union_all(
                select(
                    literal(-1).label("sev"),
                    hist.c.m,
                    func.sum(hist.c.n).label("n"),
                    func.sum(hist.c.s).label("s"),
                ).group_by(hist.c.m)
            )
            .subquery()
        )
        cum = select(
            both.c.sev,
            both.c.m,
            both.c.n,
            both.c.s,
            func.sum(both.c.n)
            .over(partition_by=both.c.sev, order_by=both.c.m, rows=(None, 0))
            .label("cum"),
            func.sum(both.c.n).over(partition_by=both.c.sev).label("tot"),
        ).subquery()
        query = select(
            cum.c.sev,
            func.sum(cum.c.n),
            func.sum(cum.c.s),
            func.min(case((cum.c.cum >= cum.c.tot * 0.5, cum.c.m))),
            func.min(case((cum.c.cum >= cum.c.tot * 0.9, cum.c.m))),
        ).group_by(cum.c.sev)
        found = {
            int(sev): (int(n), float(s), int(med), int(p90))
            for sev, n, s, med, p90 in state.conn.execute(query)
        }
        out = []
        for level in (None, *(int(s) for s in Severity)):
            key = -1 if level is None else level
            if key not in found:
                out.append(TimeToPatchFigures(level))
                continue
            n, total_seconds, med, p90 = found[key]
            out.append(
                TimeToPatchFigures(
                    level,
                    samples=n,
                    mean_hours=round(total_seconds / n / 3600.0, 4),
                    median_hours=round(med / 60.0, 4),
                    p90_hours=round(p90 / 60.0, 4),
                )
            )
        return tuple(out)

    # ----------------------------------------------------------------------- read
    def _read(self, conn: Connection, snap: dict[str, Any]) -> SnapshotMetrics | None:
        snapshot_id = int(snap["id"])
        parts: dict[str, tuple[Any, ...]] = {}
        for attr, model, figure in _STORE:
            table = table_of(model)
            names = [f.name for f in fields(figure)]
            order = (
                [table.c.severity]
                if "severity" in table.c
                else [table.c.scope, table.c.scope_value]
            )
            rows = conn.execute(
                select(*(table.c[n] for n in names))
                .where(table.c.snapshot_id == snapshot_id)
                .order_by(*order)
            ).all()
            parts[attr] = tuple(figure(**dict(zip(names, r, strict=True))) for r in rows)
        if not parts["patches"]:
            return None
        ttp = sorted(parts["time_to_patch"], key=lambda t: -1 if t.severity is None else t.severity)
        started = snap["started_at"]
        return SnapshotMetrics(
            snapshot_id=snapshot_id,
            source_id=int(snap["source_id"]),
            started_at=started if started.tzinfo else started.replace(tzinfo=UTC),
            patches=parts["patches"],
            severity=parts["severity"],
            health=parts["health"],
            vulnerabilities=parts["vulnerabilities"],
            time_to_patch=tuple(ttp),
        )


def previous_snapshot_with_metrics(conn: Connection, snap: dict[str, Any]) -> int | None:
    """The latest earlier snapshot of the same source that has stored metrics."""
    pm = table_of(PatchMetric)
    earlier = (Snapshot.started_at < snap["started_at"]) | (
        (Snapshot.started_at == snap["started_at"]) & (Snapshot.id < snap["id"])
    )
    found = conn.execute(
        select(Snapshot.id)
        .where(
            Snapshot.source_id == snap["source_id"],
            Snapshot.id != snap["id"],
            earlier,
            exists().where(pm.c.snapshot_id == Snapshot.id),
        )
        .order_by(Snapshot.started_at.desc(), Snapshot.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if found is None else int(found)


def compare_with_summary(
    metrics: SnapshotMetrics, summary: ServerSummary | dict[str, Any]
) -> list[SummaryDisagreement]:
    """Figures where the computed metrics differ from the server's own summary (fields the
    summary left NULL are not compared)."""
    get = summary.get if isinstance(summary, dict) else (lambda k: getattr(summary, k, None))
    p, s, h = metrics.patch_total, metrics.severity_total, metrics.health_total
    pairs = {
        "applicable_patches": p.applicable_patches,
        "installed_patches": p.installed_patches,
        "missing_patches": p.missing_patches,
        "missing_critical": s.missing_patches_critical,
        "missing_important": s.missing_patches_important,
        "missing_moderate": s.missing_patches_moderate,
        "missing_low": s.missing_patches_low,
        "missing_unrated": s.missing_patches_unrated,
        "missing_total": s.missing_patches_total,
        "total_systems": h.total_systems,
        "healthy_systems": h.healthy,
        "moderately_vulnerable_systems": h.vulnerable,
        "highly_vulnerable_systems": h.highly_vulnerable,
        "health_unknown_systems": h.health_unknown,
        "scanned_systems": h.total_systems - h.not_scanned,
        "unscanned_systems": h.not_scanned,
        "scan_success_count": h.scan_succeeded,
        "scan_failure_count": h.scan_failed,
    }
    out = []
    for name, computed in pairs.items():
        server = get(name)
        if server is not None and int(server) != computed:
            out.append(SummaryDisagreement(name, computed, int(server)))
    return out


def _default_settings() -> Settings:
    return Settings()


__all__ = [
    "FINISHED",
    "Delta",
    "HealthFigures",
    "MetricDeltas",
    "MetricsCalculator",
    "PatchFigures",
    "SeverityFigures",
    "SnapshotMetrics",
    "SummaryDisagreement",
    "TimeToPatchFigures",
    "VulnerabilityFigures",
    "compare_with_summary",
    "previous_snapshot_with_metrics",
]
