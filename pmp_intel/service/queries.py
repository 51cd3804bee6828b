"""The service's queries: set-based SQLAlchemy Core, one statement per question.

Every inventory query reads the history tables *at* a snapshot (:class:`At`): the rows valid
at that snapshot (:func:`~pmp_intel.store.history.as_of`), or, when the snapshot is the
source's newest merged one, the current rows (``valid_to_snapshot_id IS NULL``, which the
partial ``uq_<table>_current`` indexes serve), which is the same set, found faster.
Per-snapshot figures come from the metric and compliance tables the analysis stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from pmp_intel.store.history import as_of, current
from pmp_intel.store.models import (
    ComplianceCheck,
    DeploymentTask,
    InstallStatus,
    Patch,
    PatchMetric,
    PatchVulnerability,
    SeverityMetric,
    Snapshot,
    SnapshotStatus,
    Source,
    System,
    SystemHealthMetric,
    SystemPatchState,
    VulnerabilityMetric,
)
from pmp_intel.store.models.vulnerability import Vulnerability

INSTALLED = int(InstallStatus.INSTALLED)
MISSING = int(InstallStatus.MISSING)
FAILED = int(InstallStatus.FAILED)
NOT_INSTALLED = (MISSING, FAILED)
#: ``deployment_status`` of an installed patch waiting for a reboot.
REBOOT_PENDING = 207
#: Snapshots whose data is merged into history (the only ones a query can describe).
FINISHED = (SnapshotStatus.COMPLETE.value, SnapshotStatus.PARTIAL.value)
#: Outcomes that let a maturity level stand in the stored trend (as ComplianceChecker.trend).
LEVEL_OK = ("effective", "not_applicable", "not_assessed")
PASSING = ("effective", "not_applicable")
#: Legacy severity of a compliance row by maturity level (ML1 is the baseline).
LEVELSEVERITY_COLUMNS = {1: "CRITICAL", 2: "HIGH", 3: "MEDIUM"}
SEVERITY_ORDER = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}
STRATEGY_LABEL = {
    "patch_applications": "Patch applications",
    "patch_operating_systems": "Patch operating systems",
}
TASK_STATUS = {2: "Active", 5: "Suspended"}


@dataclass(frozen=True, slots=True)
class At:
    """The state of one source at one (merged) snapshot."""

    source_id: int
    snapshot_id: int
    started_at: datetime
    #: The source's newest merged snapshot: its state is the current rows.
    latest: bool

    def where(self, model: Any) -> ColumnElement[bool]:
        """Rows of the history ``model`` (class or alias) valid at this snapshot."""
        if self.latest:
            return current(model, self.source_id)
        return as_of(model, self.source_id, self.snapshot_id)


def iso(moment: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 text (the legacy rows carried text timestamps)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def not_installed(column: Any) -> ColumnElement[bool]:
    """``column IN (202, 206)`` with the numbers written literally, so that both backends
    can use the partial index of current missing / failed pairs
    (``ix_system_patch_states_current_open``)."""
    condition: ColumnElement[bool] = column.in_(
        [literal_column(str(MISSING)), literal_column(str(FAILED))]
    )
    return condition


#: The smallest BIGINT: ``resource_id >= INT64_MIN`` holds for every row.
INT64_MIN = -(2**63)


def open_pairs(st: Any, at: At) -> ColumnElement[bool]:
    """Pairs missing or failed at ``at``.

    For the newest snapshot this reads ``ix_system_patch_states_current_open`` (the current
    missing / failed pairs alone). The always-true ``resource_id >= INT64_MIN`` constrains
    that index's third column, so that SQLite, which has no statistics unless someone runs
    ANALYZE, prefers it to ``ix_system_patch_states_source_id_install_status`` (which would
    walk every historic missing version): measured 5 ms instead of 390 ms on a year of
    history.
    """
    return and_(
        at.where(st),
        not_installed(st.install_status),
        st.resource_id >= literal_column(str(INT64_MIN)),
    )


def _rows(conn: Connection, query: Select[Any] | Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(query)]


def _like(column: Any, pattern: str) -> ColumnElement[bool]:
    """Case-insensitive SQL LIKE on both backends (SQLite's LIKE already is)."""
    return func.lower(column).like(func.lower(literal(pattern)))


def _contains(pattern: str) -> str:
    """``pattern`` as a LIKE pattern: as given when it has wildcards, else a substring."""
    return pattern if ("%" in pattern or "_" in pattern) else f"%{pattern}%"


# --------------------------------------------------------------------------- snapshots


def source_ids(conn: Connection) -> dict[str, int]:
    """Every source in the database: name → id."""
    return {str(n): int(i) for n, i in conn.execute(select(Source.name, Source.id))}


def latest_snapshot(conn: Connection, source_id: int) -> tuple[int, datetime] | None:
    """The newest merged snapshot of the source: (id, started_at), or None."""
    row = conn.execute(
        select(Snapshot.id, Snapshot.started_at)
        .where(Snapshot.source_id == source_id, Snapshot.status.in_(FINISHED))
        .order_by(Snapshot.started_at.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), row[1])


def snapshot_at_time(conn: Connection, source_id: int, moment: datetime) -> int | None:
    """The merged snapshot in force at ``moment``: the newest one started at or before it."""
    found = conn.execute(
        select(Snapshot.id)
        .where(
            Snapshot.source_id == source_id,
            Snapshot.status.in_(FINISHED),
            Snapshot.started_at <= moment,
        )
        .order_by(Snapshot.started_at.desc(), Snapshot.id.desc())
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def snapshot_before(conn: Connection, source_id: int, snapshot_id: int) -> int | None:
    """The merged snapshot of the source just before ``snapshot_id`` (by start time)."""
    started = select(Snapshot.started_at).where(Snapshot.id == snapshot_id).scalar_subquery()
    found = conn.execute(
        select(Snapshot.id)
        .where(
            Snapshot.source_id == source_id,
            Snapshot.status.in_(FINISHED),
            Snapshot.id != snapshot_id,
            or_(
                Snapshot.started_at < started,
                and_(Snapshot.started_at == started, Snapshot.id < snapshot_id),
            ),
        )
        .order_by(Snapshot.started_at.desc(), Snapshot.id.desc())
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def snapshot_info(conn: Connection, snapshot_id: int) -> dict[str, Any] | None:
    """``id``, ``source_id``, ``status``, ``started_at`` of a snapshot, or None."""
    row = conn.execute(
        select(Snapshot.id, Snapshot.source_id, Snapshot.status, Snapshot.started_at).where(
            Snapshot.id == snapshot_id
        )
    ).first()
    return None if row is None else dict(row._mapping)


def record_count(conn: Connection, source_id: int) -> int:
    """Current systems of the source (the freshness report's record count)."""
    return int(
        conn.execute(
            select(func.count()).select_from(System).where(current(System, source_id))
        ).scalar_one()
    )


# --------------------------------------------------------------------------- legacy shapes


def systems_by_organization(conn: Connection, at: At, pattern: str) -> list[dict[str, Any]]:
    """Systems whose name or organisation matches the LIKE ``pattern``, by name."""
    s = System
    rows = _rows(
        conn,
        select(
            s.resource_name.label("name"),
            s.os_name.label("os"),
            func.coalesce(s.resource_health_status, 0).label("health_status"),
            s.branch_office_name.label("organization"),
            s.ip_address,
            s.last_scan_time,
        )
        .where(
            at.where(s), or_(_like(s.resource_name, pattern), _like(s.branch_office_name, pattern))
        )
        .order_by(s.resource_name, s.resource_id),
    )
    for row in rows:
        row["health_status"] = int(row["health_status"])
        row["last_scan_time"] = iso(row["last_scan_time"])
    return rows


def _system_filter(
    at: At, org_pattern: str | None, os_filter: str | None
) -> ColumnElement[bool] | None:
    if org_pattern is None and os_filter is None:
        return None
    sysx = aliased(System)
    conditions: list[ColumnElement[bool]] = [
        at.where(sysx),
        sysx.resource_id == SystemPatchState.resource_id,
    ]
    if org_pattern is not None:
        conditions.append(
            or_(_like(sysx.branch_office_name, org_pattern), _like(sysx.resource_name, org_pattern))
        )
    if os_filter is not None:
        conditions.append(
            or_(
                _like(sysx.os_name, _contains(os_filter)),
                _like(sysx.os_platform_name, os_filter),
            )
        )
    return exists().where(*conditions)


def failed_patches(
    conn: Connection, at: At, org_pattern: str | None, os_filter: str | None
) -> list[dict[str, Any]]:
    """Patches that failed on at least one (matching) system, most failures first."""
    st, p = SystemPatchState, Patch
    failed = func.sum(case((st.install_status == FAILED, 1), else_=0))
    missing = func.sum(case((st.install_status.in_(NOT_INSTALLED), 1), else_=0))
    query = (
        select(
            p.patch_name,
            p.bulletin_id,
            failed.label("failed_count"),
            missing.label("missing_count"),
            p.severity,
        )
        .select_from(st)
        .join(p, and_(p.patch_id == st.patch_id, at.where(p)))
        .where(open_pairs(st, at))
        .group_by(p.patch_id, p.patch_name, p.bulletin_id, p.severity)
        .having(failed > 0)
        .order_by(failed.desc(), missing.desc(), p.patch_name, p.patch_id)
    )
    systems = _system_filter(at, org_pattern, os_filter)
    if systems is not None:
        query = query.where(systems)
    rows = _rows(conn, query)
    for row in rows:
        row["failed_count"] = int(row["failed_count"])
        row["missing_count"] = int(row["missing_count"])
    return rows


def vulnerable_systems(conn: Connection, at: At, severity: int) -> list[dict[str, Any]]:
    """Systems whose health status is at least ``severity`` (3 = highly vulnerable)."""
    s = System
    health = func.coalesce(s.resource_health_status, 0)
    rows = _rows(
        conn,
        select(
            s.resource_name.label("name"),
            s.os_name.label("os"),
            health.label("health_status"),
            s.branch_office_name.label("organization"),
        )
        .where(at.where(s), health >= severity)
        .order_by(health.desc(), s.resource_name, s.resource_id),
    )
    for row in rows:
        row["health_status"] = int(row["health_status"])
    return rows


#: The largest BIGINT: a longer digit string cannot be a patch id.
INT64_MAX = 2**63 - 1


def _patch_match(patch: str | int) -> ColumnElement[bool]:
    """An ``int`` is PMP's patch id. A string matches the patch name or bulletin as a
    substring, like the legacy ``patch_name LIKE '%<patch_id>%'`` (so ``'5022925'`` finds
    ``windows-kb5022925-x64.msu``); a digit string also matches the patch id."""
    if isinstance(patch, int):
        return Patch.patch_id == patch
    text = str(patch).strip()
    pattern = f"%{text}%"
    by_text = or_(_like(Patch.patch_name, pattern), _like(Patch.bulletin_id, pattern))
    if text.isascii() and text.isdigit() and int(text) <= INT64_MAX:
        return or_(Patch.patch_id == int(text), by_text)
    return by_text


def patch_deployment_status(conn: Connection, at: At, patch: str | int) -> list[dict[str, Any]]:
    """Every system a patch (id, or name / bulletin substring) applies to, and its state:
    one row per (system, patch) pair, by system name, then patch id."""
    st, s, p = SystemPatchState, System, Patch
    status_text = case(
        (st.deployment_status == REBOOT_PENDING, "Reboot Pending"),
        (st.install_status == INSTALLED, "Installed"),
        else_="Not Installed",
    )
    return _rows(
        conn,
        select(
            s.resource_name.label("system_name"),
            p.patch_name,
            st.install_status.label("patch_status"),
            case((st.install_status == INSTALLED, 1), else_=0).label("patch_deployed"),
            status_text.label("status_text"),
        )
        .select_from(st)
        .join(p, and_(p.patch_id == st.patch_id, at.where(p)))
        .join(s, and_(s.resource_id == st.resource_id, at.where(s)))
        .where(at.where(st), _patch_match(patch))
        .order_by(s.resource_name, s.resource_id, p.patch_id),
    )


def vulnerability_exposure(conn: Connection, at: At) -> list[dict[str, Any]]:
    """CVEs fixed by a patch that is missing or failed on at least one system."""
    v, pv, st = Vulnerability, PatchVulnerability, SystemPatchState
    missing = (
        select((st.patch_id + 0).label("patch_id"))  # + 0: SQLite reads the open-pairs index
        .where(open_pairs(st, at))
        .distinct()
        .subquery("missing")
    )
    cves = (
        select(pv.cve_id)
        .join(missing, missing.c.patch_id == pv.patch_id)
        .where(at.where(pv))
        .distinct()
        .subquery("cves")
    )
    return _rows(
        conn,
        select(v.cve_id, v.cvss_score, v.cvss_severity)
        .join(cves, cves.c.cve_id == v.cve_id)
        .where(at.where(v))
        .order_by(v.cvss_score.is_(None), v.cvss_score.desc(), v.cve_id),
    )


def compliance_status(conn: Connection, snapshot_id: int, profile: str) -> list[dict[str, Any]]:
    """The stored Essential Eight outcomes of a snapshot in the legacy row shape.

    ``check_name`` = strategy, level, control and title; ``check_category`` =
    ``essential_eight``; ``passed`` = effective or not applicable (None when PMP holds no
    evidence: not assessed); ``severity`` = CRITICAL / HIGH / MEDIUM for ML1 / ML2 / ML3,
    LOW for controls that are not assessed.
    """
    cc = ComplianceCheck
    rows = conn.execute(
        select(cc.strategy, cc.maturity_level, cc.control_id, cc.title, cc.outcome).where(
            cc.snapshot_id == snapshot_id, cc.profile == profile
        )
    ).all()
    out: list[dict[str, Any]] = []
    for strategy, level, control_id, title, outcome in rows:
        assessed = outcome != "not_assessed"
        out.append(
            {
                "check_name": f"{STRATEGY_LABEL.get(strategy, strategy)} ML{level} "
                f"{control_id}: {title}",
                "check_category": "essential_eight",
                "passed": (outcome in PASSING) if assessed else None,
                "severity": LEVELSEVERITY_COLUMNS.get(int(level), "LOW") if assessed else "LOW",
            }
        )
    failed_rank: dict[bool | None, int] = {False: 0, None: 1, True: 2}
    out.sort(
        key=lambda r: (
            SEVERITY_ORDER[str(r["severity"])],
            failed_rank[r["passed"]],
            str(r["check_name"]),
        )
    )
    return out


def deployment_history(conn: Connection, at: At, limit: int) -> list[dict[str, Any]]:
    """APD tasks, most recently run (modified) first."""
    t = DeploymentTask
    rows = _rows(
        conn,
        select(
            t.task_name,
            t.collection_status.label("task_status"),
            t.task_creation_time.label("scheduled_time"),
            t.task_modified_time.label("executed_time"),
        )
        .where(at.where(t))
        .order_by(t.task_modified_time.is_(None), t.task_modified_time.desc(), t.task_id.desc())
        .limit(limit),
    )
    for row in rows:
        code = row["task_status"]
        row["task_status"] = None if code is None else TASK_STATUS.get(int(code), str(code))
        row["scheduled_time"] = iso(row["scheduled_time"])
        row["executed_time"] = iso(row["executed_time"])
    return rows


# --------------------------------------------------------------------------- figures

HEADLINE: tuple[tuple[Any, str], ...] = (
    (PatchMetric.applicable_pairs, "applicable_pairs"),
    (PatchMetric.installed_pairs, "installed_pairs"),
    (PatchMetric.missing_pairs, "missing_pairs"),
    (PatchMetric.failed_pairs, "failed_pairs"),
    (PatchMetric.applicable_patches, "applicable_patches"),
    (PatchMetric.missing_patches, "missing_patches"),
    (PatchMetric.failed_patches, "failed_patches"),
    (SeverityMetric.missing_critical, "missing_critical"),
    (SeverityMetric.missing_important, "missing_important"),
    (SeverityMetric.missing_patches_critical, "missing_patches_critical"),
    (SystemHealthMetric.total_systems, "total_systems"),
    (SystemHealthMetric.healthy, "healthy"),
    (SystemHealthMetric.vulnerable, "vulnerable"),
    (SystemHealthMetric.highly_vulnerable, "highly_vulnerable"),
    (SystemHealthMetric.health_unknown, "health_unknown"),
    (SystemHealthMetric.stale_agents, "stale_agents"),
    (VulnerabilityMetric.cves_exposed, "cves_exposed"),
    (VulnerabilityMetric.systems_exposed, "systems_exposed"),
    (VulnerabilityMetric.known_exploited_cves, "known_exploited_cves"),
    (VulnerabilityMetric.max_cvss, "max_cvss"),
)

SEVERITY_COLUMNS: tuple[str, ...] = (
    "missing_critical",
    "missing_important",
    "missing_moderate",
    "missing_low",
    "missing_unrated",
    "missing_total",
    "failed_critical",
    "failed_important",
    "failed_moderate",
    "failed_low",
    "failed_unrated",
    "failed_total",
    "missing_patches_critical",
    "missing_patches_important",
    "missing_patches_moderate",
    "missing_patches_low",
    "missing_patches_unrated",
    "missing_patches_total",
)


def _total(model: Any) -> ColumnElement[bool]:
    return and_(model.snapshot_id == Snapshot.id, model.scope == "total", model.scope_value == "")


def _snapshots_between(
    source_id: int, start: datetime | None, end: datetime | None, snapshot_id: int | None
) -> list[ColumnElement[bool]]:
    where = [Snapshot.source_id == source_id, Snapshot.status.in_(FINISHED)]
    if snapshot_id is not None:
        where.append(Snapshot.id == snapshot_id)
    if start is not None:
        where.append(Snapshot.started_at >= start)
    if end is not None:
        where.append(Snapshot.started_at <= end)
    return where


def headline_metrics(
    conn: Connection,
    source_id: int,
    *,
    snapshot_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Headline figures per snapshot (one row each, oldest first) from the metric tables.

    Snapshots without stored metrics are left out.
    """
    query = (
        select(
            Snapshot.id.label("snapshot_id"),
            Snapshot.started_at,
            *(column.label(name) for column, name in HEADLINE),
        )
        .select_from(Snapshot)
        .join(PatchMetric, _total(PatchMetric))
        .join(SeverityMetric, _total(SeverityMetric))
        .join(SystemHealthMetric, _total(SystemHealthMetric))
        .outerjoin(VulnerabilityMetric, _total(VulnerabilityMetric))
        .where(*_snapshots_between(source_id, start, end, snapshot_id))
        .order_by(Snapshot.started_at, Snapshot.id)
    )
    return _rows(conn, query)


def severity_trend(
    conn: Connection, source_id: int, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """Missing / failed pairs and distinct missing patches by severity, per snapshot."""
    sm = SeverityMetric
    return _rows(
        conn,
        select(
            Snapshot.id.label("snapshot_id"),
            Snapshot.started_at,
            *(getattr(sm, name) for name in SEVERITY_COLUMNS),
        )
        .select_from(Snapshot)
        .join(sm, _total(sm))
        .where(*_snapshots_between(source_id, start, end, None))
        .order_by(Snapshot.started_at, Snapshot.id),
    )


def compliance_trend(
    conn: Connection,
    source_id: int,
    start: datetime | None,
    end: datetime | None,
    profile: str,
    top_level: int,
) -> list[dict[str, Any]]:
    """Per snapshot and strategy: maturity level, ineffective controls and violations.

    The maturity rule is ComplianceChecker.trend's: the highest level below the first level
    with a control that is neither effective, not applicable nor not assessed. Violations
    and pairs are summed over the top level's controls (each level repeats its controls).
    """
    cc = ComplianceCheck
    first_failing = func.min(case((cc.outcome.not_in(LEVEL_OK), cc.maturity_level)))
    maturity = func.coalesce(first_failing - 1, func.max(cc.maturity_level))
    at_top = cc.maturity_level == top_level
    query = (
        select(
            Snapshot.id.label("snapshot_id"),
            Snapshot.started_at,
            cc.strategy,
            maturity.label("maturity_level"),
            func.sum(case((and_(at_top, cc.outcome == "ineffective"), 1), else_=0)).label(
                "ineffective_controls"
            ),
            func.sum(case((at_top, cc.violations), else_=0)).label("violations"),
            func.sum(case((at_top, cc.not_yet_due), else_=0)).label("not_yet_due"),
        )
        .select_from(Snapshot)
        .join(cc, and_(cc.snapshot_id == Snapshot.id, cc.profile == profile))
        .where(*_snapshots_between(source_id, start, end, None))
        .group_by(Snapshot.id, Snapshot.started_at, cc.strategy)
        .order_by(Snapshot.started_at, Snapshot.id, cc.strategy)
    )
    rows = _rows(conn, query)
    for row in rows:
        for key in ("maturity_level", "ineffective_controls", "violations", "not_yet_due"):
            row[key] = int(row[key])
    return rows


# --------------------------------------------------------------------------- organisations


def organisation_summary(conn: Connection, at: At) -> list[dict[str, Any]]:
    """Per organisation (branch office): systems by health, and not-installed pairs.

    Two grouped passes joined on the organisation: the systems, and the missing / failed
    pairs (only those are read: the current-status index) with their system's organisation.
    """
    s, st, p = System, SystemPatchState, Patch
    health = func.coalesce(s.resource_health_status, 0)

    def count_if(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    org = func.coalesce(s.branch_office_name, "")
    systems = (
        select(
            org.label("organisation"),
            func.count().label("systems"),
            count_if(health == 1).label("healthy"),
            count_if(health == 2).label("vulnerable"),
            count_if(health == 3).label("highly_vulnerable"),
            count_if(health == 0).label("health_unknown"),
        )
        .where(at.where(s))
        .group_by(org)
        .subquery("by_org")
    )
    # grouped by ``resource_id + 0``: grouping by the bare column would make SQLite walk
    # every current pair in resource order instead of the open-pairs index
    owner = (st.resource_id + 0).label("resource_id")
    per_system = (
        select(
            owner,
            count_if(st.install_status == MISSING).label("missing"),
            count_if(st.install_status == FAILED).label("failed"),
            count_if(p.severity == 4).label("critical"),
        )
        .select_from(st)
        .outerjoin(p, and_(p.patch_id == st.patch_id, at.where(p)))
        .where(open_pairs(st, at))
        .group_by(owner)
        .subquery("per_system")
    )
    pairs = (
        select(
            org.label("organisation"),
            func.count().label("systems_missing_patches"),
            func.sum(per_system.c.missing).label("missing_pairs"),
            func.sum(per_system.c.failed).label("failed_pairs"),
            func.sum(per_system.c.critical).label("missing_critical_pairs"),
        )
        .select_from(per_system)
        .join(s, and_(s.resource_id == per_system.c.resource_id, at.where(s)))
        .group_by(org)
        .subquery("pairs")
    )
    query = (
        select(
            systems,
            *(
                func.coalesce(pairs.c[name], 0).label(name)
                for name in (
                    "systems_missing_patches",
                    "missing_pairs",
                    "failed_pairs",
                    "missing_critical_pairs",
                )
            ),
        )
        .select_from(systems)
        .outerjoin(pairs, pairs.c.organisation == systems.c.organisation)
        .order_by(systems.c.organisation)
    )
    rows = _rows(conn, query)
    for row in rows:
        for key, value in row.items():
            if key != "organisation":
                row[key] = int(value or 0)
    return rows


# --------------------------------------------------------------------------- changes


def _valid_at(model: Any, source_id: int, snapshot_id: int) -> ColumnElement[bool]:
    return as_of(model, source_id, snapshot_id)


def _candidate_at(model: Any, source_id: int, snapshot_id: int) -> ColumnElement[bool]:
    """:func:`as_of` with ``source_id`` hidden from the planner (``+ 0``), so that SQLite
    walks the ``valid_from`` / ``valid_to`` range index instead of every row of the source."""
    return and_(
        model.source_id + 0 == source_id,
        model.valid_from_snapshot_id <= snapshot_id,
        or_(model.valid_to_snapshot_id.is_(None), model.valid_to_snapshot_id > snapshot_id),
    )


def snapshot_changes(
    conn: Connection, source_id: int, old: int, new: int, limit: int | None
) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """What changed from snapshot ``old`` to ``new``: counts and (up to ``limit``) rows.

    Same definitions as :func:`pmp_intel.analyse.changes.diff_snapshots`, but only the
    versions that *changed* between the two snapshots are read: a version valid at both
    cannot be a change, so "now" candidates are versions opened after ``old`` and "before"
    candidates versions closed by ``new`` (the ``valid_from`` / ``valid_to`` indexes).
    Works in either direction of time.
    """
    lo, hi = min(old, new), max(old, new)
    s_new, s_old = aliased(System), aliased(System)
    now_sys = and_(_candidate_at(s_new, source_id, new), _opened_between(s_new, old, new, lo, hi))
    gone_sys = and_(_candidate_at(s_old, source_id, old), _closed_between(s_old, old, new, lo, hi))
    added = (
        select(
            s_new.resource_id, s_new.resource_name, s_new.branch_office_name.label("organisation")
        )
        .where(now_sys)
        .where(
            ~exists().where(
                _valid_at(s_old, source_id, old), s_old.resource_id == s_new.resource_id
            )
        )
    )
    retired = (
        select(
            s_old.resource_id, s_old.resource_name, s_old.branch_office_name.label("organisation")
        )
        .where(gone_sys)
        .where(
            ~exists().where(
                _valid_at(s_new, source_id, new), s_new.resource_id == s_old.resource_id
            )
        )
    )
    now, was = aliased(SystemPatchState), aliased(SystemPatchState)
    changed_now = and_(_candidate_at(now, source_id, new), _opened_between(now, old, new, lo, hi))
    # The pairs that changed, and the versions they replaced: a version valid at ``old`` of
    # a pair with a new version valid at ``new`` ended between the two snapshots, so both
    # sets are small ranges of the valid_from / valid_to indexes. They are matched here
    # rather than in SQL, whose planners misjudge the join of two fresh index ranges.
    pairs = (
        select(now.resource_id, now.patch_id, now.install_status)
        .where(changed_now)
        .order_by(now.resource_id, now.patch_id)
    )
    replaced = select(was.resource_id, was.patch_id, was.install_status).where(
        _candidate_at(was, source_id, old), _closed_between(was, old, new, lo, hi)
    )
    before = {(int(r), int(p)): int(s) for r, p, s in conn.execute(replaced)}
    out: dict[str, tuple[int, list[dict[str, Any]]]] = {}
    for kind, query in (("systems_added", added), ("systems_retired", retired)):
        rows = _rows(conn, query.order_by(query.selected_columns.resource_id))
        out[kind] = (len(rows), rows if limit is None else rows[:limit])
    missing: list[dict[str, Any]] = []
    installed: list[dict[str, Any]] = []
    for row in _rows(conn, pairs):
        was_missing = before.get((row["resource_id"], row["patch_id"])) in NOT_INSTALLED
        if row["install_status"] in NOT_INSTALLED and not was_missing:
            missing.append(row)
        elif row["install_status"] == INSTALLED and was_missing:
            installed.append(row)
    for kind, rows in (("newly_missing", missing), ("newly_installed", installed)):
        out[kind] = (len(rows), rows if limit is None else rows[:limit])
    return out


def _opened_between(model: Any, old: int, new: int, lo: int, hi: int) -> ColumnElement[bool]:
    """Versions valid at ``new`` but possibly not at ``old``: opened in (old, new] going
    forward; going back, closed in (new, old]."""
    if new >= old:
        return and_(model.valid_from_snapshot_id > lo, model.valid_from_snapshot_id <= hi)
    return and_(model.valid_to_snapshot_id > lo, model.valid_to_snapshot_id <= hi)


def _closed_between(model: Any, old: int, new: int, lo: int, hi: int) -> ColumnElement[bool]:
    """Versions valid at ``old`` but possibly not at ``new`` (mirror of _opened_between)."""
    if new >= old:
        return and_(model.valid_to_snapshot_id > lo, model.valid_to_snapshot_id <= hi)
    return and_(model.valid_from_snapshot_id > lo, model.valid_from_snapshot_id <= hi)


# --------------------------------------------------------------------------- details


def _system_columns() -> list[Any]:
    s = System
    return [
        s.resource_id,
        s.resource_name,
        s.branch_office_name.label("organisation"),
        s.os_name,
        s.os_platform_name,
        s.ip_address,
        s.resource_health_status,
        s.computer_live_status,
        s.scan_status,
        s.agent_version,
        s.agent_last_contact_time,
        s.last_scan_time,
        s.last_patched_time,
        s.valid_from_snapshot_id,
        s.valid_to_snapshot_id,
    ]


def system_versions(conn: Connection, source_id: int, resource_id: int) -> list[dict[str, Any]]:
    """Every version of a system, oldest first."""
    s = System
    return _rows(
        conn,
        select(*_system_columns())
        .where(s.source_id == source_id, s.resource_id == resource_id)
        .order_by(s.valid_from_snapshot_id),
    )


def system_patches(conn: Connection, at: At, resource_id: int) -> list[dict[str, Any]]:
    """The patch states of one system at a snapshot, not-installed first."""
    st, p = SystemPatchState, Patch
    return _rows(
        conn,
        select(
            st.patch_id,
            p.patch_name,
            p.bulletin_id,
            p.severity,
            st.install_status,
            st.deployment_status,
            st.installed_time,
            p.patch_released_time,
        )
        .select_from(st)
        .outerjoin(p, and_(p.patch_id == st.patch_id, at.where(p)))
        .where(at.where(st), st.resource_id == resource_id)
        .order_by((st.install_status + 0).desc(), p.severity.desc(), st.patch_id),
    )


def patch_versions(conn: Connection, source_id: int, patch_id: int) -> list[dict[str, Any]]:
    """Every version of a patch, oldest first."""
    p = Patch
    return _rows(
        conn,
        select(
            p.patch_id,
            p.patch_name,
            p.bulletin_id,
            p.update_name,
            p.vendor_name,
            p.platform_name,
            p.severity,
            p.approval_status,
            p.patch_released_time,
            p.is_superseded,
            p.valid_from_snapshot_id,
            p.valid_to_snapshot_id,
        )
        .where(p.source_id == source_id, p.patch_id == patch_id)
        .order_by(p.valid_from_snapshot_id),
    )


def systems_missing_patch(conn: Connection, at: At, patch_id: int) -> list[dict[str, Any]]:
    """Systems on which a patch is missing or failed at a snapshot, by name."""
    st, s = SystemPatchState, System
    return _rows(
        conn,
        select(
            st.resource_id,
            s.resource_name,
            s.branch_office_name.label("organisation"),
            s.os_name,
            st.install_status,
        )
        .select_from(st)
        .outerjoin(s, and_(s.resource_id == st.resource_id, at.where(s)))
        .where(open_pairs(st, at), st.patch_id == patch_id)
        .order_by(s.resource_name, st.resource_id),
    )
