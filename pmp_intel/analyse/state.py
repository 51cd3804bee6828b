"""The state of one source at one snapshot, staged for set-based analysis.

Patches (thousands) are read and classified in Python and written to a temporary table;
systems (up to ~100k) are classified in SQL straight into another. System-patch pairs
(millions) are never read into Python: every pass over them joins these two tables on
integer keys and returns aggregates only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    case,
    func,
    insert,
    literal,
    select,
)

from pmp_intel.analyse.assets import SystemClass, is_internet_facing, is_server
from pmp_intel.analyse.categories import Classification, PatchClassifier, PatchFacts
from pmp_intel.analyse.config import ComplianceConfig
from pmp_intel.analyse.sql import (
    analyze,
    bigint_column,
    create_temp,
    drop_temp,
    epoch,
    float_column,
    int_column,
    key_column,
    scan_as_of,
    table_of,
    temp_table,
    text_column,
    to_epoch,
)
from pmp_intel.store.history import as_of
from pmp_intel.store.models import (
    KnownExploitedVulnerability,
    Patch,
    PatchVulnerability,
    ScanStatus,
    System,
    SystemPatchState,
)

PATCHES = temp_table(
    "pmp_intel_tmp_patches",
    key_column("patch_id"),
    text_column("category"),
    int_column("security"),
    text_column("platform"),
    int_column("severity"),
    text_column("pclass"),
    int_column("critical"),
    int_column("exploited"),
    #: When the earliest KEV entry of a linked CVE was added (epoch seconds, midnight UTC of
    #: ``dateAdded``; 0 when the catalogue gives no date), if the patch is exploited.
    float_column("exploit_epoch"),
    float_column("rel_epoch"),
    int_column("superseded"),
    #: The patch PMP names in ``superseded_by``, if it is a patch id.
    bigint_column("successor"),
    #: Dense index of the patch (0..n-1) and, filled by the checker, the deadline bucket of a
    #: not-yet-applied pair of it (it depends only on the patch's release).
    int_column("pidx"),
    int_column("nb"),
)

SYSTEMS = temp_table(
    "pmp_intel_tmp_systems",
    key_column("resource_id"),
    text_column("name"),
    text_column("org"),
    text_column("os"),
    text_column("sclass"),
    float_column("scan_epoch"),
)


@dataclass
class PatchInfo:
    """One patch at the snapshot: its facts and where it falls."""

    facts: PatchFacts
    classification: Classification
    critical: bool
    #: A linked CVE is in the KEV catalogue, added on or before the snapshot.
    exploited: bool
    #: The earliest such ``dateAdded`` (epoch seconds; 0 when undated), if exploited.
    exploited_since: float | None = None
    #: The patch that supersedes this one (``superseded_by`` as a patch id), if known.
    successor: int | None = None


@dataclass
class SnapshotState:
    """Staged state of a snapshot; use as a context manager to drop the temporary tables."""

    conn: Connection
    snapshot_id: int
    source_id: int
    started_at: datetime
    config: ComplianceConfig
    patches: dict[int, PatchInfo] = field(default_factory=dict)
    #: ``pidx`` → patch id.
    patch_ids: list[int] = field(default_factory=list)
    systems_staged: bool = False

    @property
    def now_epoch(self) -> float:
        """The snapshot's start: "now" for everything judged at this snapshot."""
        value = to_epoch(self.started_at)
        assert value is not None
        return value

    def pairs_where(self) -> Any:
        """``system_patch_states`` rows true at the snapshot, phrased for a full scan."""
        return scan_as_of(
            table_of(SystemPatchState), self.source_id, self.snapshot_id, self.conn.dialect.name
        )

    def __enter__(self) -> SnapshotState:
        return self

    def __exit__(self, *exc: object) -> None:
        for table in (PATCHES, SYSTEMS):
            drop_temp(self.conn, table)


def _exploited_since(
    conn: Connection, source_id: int, snapshot_id: int, day: date
) -> dict[int, float]:
    """Patch id → when its exploit became known: the earliest ``dateAdded`` (midnight UTC,
    epoch seconds) of a linked CVE in the KEV catalogue, for entries added on or before
    ``day``; an entry without a date counts from the beginning (0)."""
    kev = table_of(KnownExploitedVulnerability)
    links = table_of(PatchVulnerability)
    query = (
        select(links.c.patch_id, kev.c.date_added)
        .distinct()
        .join(kev, kev.c.cve_id == func.upper(links.c.cve_id))
        .where(
            as_of(links, source_id, snapshot_id),
            (kev.c.date_added.is_(None)) | (kev.c.date_added <= day),
        )
    )
    since: dict[int, float] = {}
    for patch_id, added in conn.execute(query):
        value = 0.0
        if added is not None:
            value = datetime(added.year, added.month, added.day, tzinfo=UTC).timestamp()
        pid = int(patch_id)
        since[pid] = min(value, since.get(pid, value))
    return since


def _successor(superseded_by: str | None) -> int | None:
    """``superseded_by`` as a patch id (PMP sends an id, or a sentinel such as ``NA``)."""
    text = (superseded_by or "").strip()
    return int(text) if text.isdigit() else None


def stage(
    conn: Connection,
    snapshot: dict[str, Any],
    config: ComplianceConfig,
    classifier: PatchClassifier,
    *,
    systems: bool = True,
) -> SnapshotState:
    """Classify the snapshot's patches (and systems) into temporary tables."""
    state = SnapshotState(
        conn=conn,
        snapshot_id=int(snapshot["id"]),
        source_id=int(snapshot["source_id"]),
        started_at=_aware(snapshot["started_at"]),
        config=config,
    )
    patches = table_of(Patch)
    exploited = (
        _exploited_since(conn, state.source_id, state.snapshot_id, state.started_at.date())
        if config.use_kev
        else {}
    )
    critical_levels = set(config.critical_severities)
    rows: list[dict[str, Any]] = []
    query = select(
        patches.c.patch_id,
        patches.c.vendor_name,
        patches.c.patch_name,
        patches.c.patch_description,
        patches.c.update_name,
        patches.c.patch_type,
        patches.c.platform,
        patches.c.platform_name,
        patches.c.severity,
        patches.c.patch_released_time,
        patches.c.is_superseded,
        patches.c.superseded_by,
    ).where(as_of(patches, state.source_id, state.snapshot_id))
    for row in conn.execute(query):
        facts = PatchFacts(
            patch_id=int(row.patch_id),
            vendor_name=row.vendor_name,
            patch_name=row.patch_name,
            patch_description=row.patch_description,
            update_name=row.update_name,
            patch_type=row.patch_type,
            platform=row.platform,
            platform_name=row.platform_name,
            severity=row.severity,
            released=row.patch_released_time,
            superseded=bool(row.is_superseded),
        )
        found = classifier.classify(facts)
        severity = int(row.severity or 0)
        critical = severity in critical_levels or (severity == 0 and config.unrated_is_critical)
        since = exploited.get(facts.patch_id)
        successor = _successor(row.superseded_by) if facts.superseded else None
        info = PatchInfo(facts, found, critical, since is not None, since, successor)
        state.patches[facts.patch_id] = info
        state.patch_ids.append(facts.patch_id)
        rows.append(
            {
                "patch_id": facts.patch_id,
                "category": found.category.value,
                "security": int(found.security),
                "platform": found.platform,
                "severity": severity,
                "pclass": found.patch_class.value,
                "critical": int(critical),
                "exploited": int(info.exploited),
                "exploit_epoch": since,
                "rel_epoch": to_epoch(row.patch_released_time),
                "superseded": int(facts.superseded),
                "successor": successor,
                "pidx": len(rows),
                "nb": None,
            }
        )
    create_temp(conn, PATCHES, rows)
    if systems:
        stage_systems(state)
    analyze(conn, PATCHES, *((SYSTEMS,) if systems else ()))
    return state


def stage_systems(state: SnapshotState) -> None:
    """Systems at the snapshot with organisation, OS, asset class and last good scan."""
    s = table_of(System)
    config = state.config
    sclass = case(
        (
            is_internet_facing(s.c, config.internet_facing),
            literal(SystemClass.INTERNET_FACING.value),
        ),
        (is_server(s.c, config), literal(SystemClass.SERVER.value)),
        else_=literal(SystemClass.WORKSTATION.value),
    )
    last_good_scan = func.coalesce(
        s.c.last_successful_scan_time,
        case((s.c.scan_status == int(ScanStatus.SUCCESS), s.c.last_scan_time)),
    )
    query = select(
        s.c.resource_id,
        func.coalesce(s.c.resource_name, literal("")),
        func.coalesce(s.c.branch_office_name, literal("(none)")),
        func.coalesce(s.c.os_name, s.c.os_platform_name, literal("(unknown)")),
        sclass,
        epoch(last_good_scan),
    ).where(as_of(s, state.source_id, state.snapshot_id))
    create_temp(state.conn, SYSTEMS)
    state.conn.execute(
        insert(SYSTEMS).from_select(
            ["resource_id", "name", "org", "os", "sclass", "scan_epoch"], query
        )
    )
    state.systems_staged = True


def pair_source(state: SnapshotState, *, with_systems: bool) -> tuple[Any, Any, Any]:
    """``(from_clause, states, where)``: states at the snapshot LEFT JOIN the staged tables."""
    st = table_of(SystemPatchState)
    joined: Any = st.outerjoin(PATCHES, PATCHES.c.patch_id == st.c.patch_id)
    if with_systems:
        joined = joined.outerjoin(SYSTEMS, SYSTEMS.c.resource_id == st.c.resource_id)
    return joined, st, state.pairs_where()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


__all__ = ["PATCHES", "SYSTEMS", "PatchInfo", "SnapshotState", "Table", "pair_source", "stage"]
