"""Import the legacy Maia SQLite files into the unified database.

The import runs on one SQLAlchemy ``Connection`` inside the caller's transaction (Alembic's,
for revision 0002, or the CLI's own), so a failure anywhere leaves the target untouched.
The legacy files are attached read-only to a scratch SQLite database
(:mod:`pmp_intel.legacy.workspace`), where the bulk of the work is set-based SQL; the
target may be SQLite or PostgreSQL.

What becomes of what (docs/legacy-migration.md has the full table):

* every legacy extraction run (``api_extraction_runs``, ``extraction_runs``, snapshot-family
  ``snapshots``, and runs that rows refer to but whose run row is gone) becomes a snapshot
  with trigger ``legacy-import`` at its original time, in one legacy source;
* the server's figures of each run (``patch_summary``, the snapshot family's metric tables,
  ``som_summary``) become that snapshot's ``server_summaries`` row; the old compliance rules,
  checkpoints and gaps are attached to their snapshot too (small tables: read in Python);
* the detail state is merged across all files and becomes the current state as of the
  newest imported snapshot, written straight into the history tables of the legacy source
  (which has no other history: the import refuses a source with snapshots):

  - systems and patches (:mod:`~pmp_intel.legacy.observations`): mapped in SQL, newest
    observation wins per field;
  - per-system patch states (:mod:`~pmp_intel.legacy.states`): the newest observation of
    each (system, patch) wins whole;
  - policies, settings, deployment tasks, SoM computers, CVEs and their links (small):
    merged in Python, the same way.

A value that cannot be converted is kept in the row's ``extra`` (``legacy_invalid``,
``legacy_unparsed``), and a row imported despite an unreadable ``raw_data`` is counted in
the report's notes.
"""

from __future__ import annotations

import hashlib
import re
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.types import Integer, SmallInteger, String

from pmp_intel.__about__ import __version__
from pmp_intel.legacy import mapping as mp
from pmp_intel.legacy import sql_values as sv
from pmp_intel.legacy import values as v
from pmp_intel.legacy.bulk_tables import PATCH_READINGS, SYSTEM_READINGS
from pmp_intel.legacy.deferred import deferred_indexes
from pmp_intel.legacy.errors import LegacyConflictError, LegacyImportError
from pmp_intel.legacy.files import (
    LOCK_TIMEOUT_S,
    Discovery,
    LegacyFile,
    LegacyTable,
    discover,
    expected_empty,
)
from pmp_intel.legacy.merger import OLDEST, FieldMerger
from pmp_intel.legacy.observations import RAW_UNREADABLE, Observations, Source
from pmp_intel.legacy.pipeline import BulkPipeline, BulkTable
from pmp_intel.legacy.report import ImportReport, TableAccount
from pmp_intel.legacy.states import STATE_SHAPES
from pmp_intel.legacy.transfer import Transfer
from pmp_intel.legacy.workspace import Workspace
from pmp_intel.store.bulk import bulk_insert
from pmp_intel.store.models import (
    ENTITIES,
    ComplianceCheck,
    ExtractionCheckpoint,
    ExtractionGap,
    Patch,
    ServerSummary,
    Snapshot,
    System,
    SystemPatchState,
)
from pmp_intel.store.models import (
    Source as SourceRow,
)

#: Default name of the source the legacy estate is imported into.
DEFAULT_SOURCE = "legacy"
#: ``compliance_checks.profile`` of the old tool's (non-ASD) rules.
LEGACY_PROFILE = "legacy-maia"
#: ``Source.edition`` of a source created by the import.
LEGACY_EDITION = "legacy"
#: Endpoint name on carried-over checkpoints / gaps.
RESILIENT_ENDPOINT = "scandetails"
DCAPI_ENDPOINT = "dcapi_systemreport"

CHUNK = 5000
CVE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)

RUN_STATUS = {
    "completed": "complete",
    "complete": "complete",
    "success": "complete",
    "completed_with_errors": "partial",
    "partial": "partial",
    "failed": "failed",
}


@dataclass
class ImportOptions:
    """How to import."""

    #: The source (PMP server) the legacy estate goes into; created when absent.
    source_name: str = DEFAULT_SOURCE
    #: IANA zone of the local-time text timestamps (family A and pmp_systemreports.db);
    #: None means this machine's local zone.
    timezone: str | None = None
    #: Read and account for everything, write nothing.
    dry_run: bool = False
    #: Seconds to wait for another process's lock on a legacy file.
    lock_timeout: float = LOCK_TIMEOUT_S
    batch_size: int = CHUNK


@dataclass
class _Run:
    """A legacy extraction run, to become a snapshot."""

    key: tuple[str, str, int | str]
    table: str
    started_at: datetime | None
    finished_at: datetime | None = None
    status: str = "complete"
    error: str | None = None
    records: int | None = None
    systems_reported: int | None = None
    systems_extracted: int | None = None
    coverage: float | None = None
    api_version: str | None = None
    synthesised: bool = False
    snapshot_id: int | None = None


@dataclass
class _Summary:
    """A server_summaries row being assembled from several legacy tables."""

    fields: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def resolve_zone(name: str | None) -> tzinfo | None:
    """The zone of local legacy timestamps; None for the machine's local zone."""
    if name is None or name in ("", "local"):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise LegacyImportError(
            f"unknown time zone {name!r} (expected e.g. Australia/Sydney)"
        ) from None


def zone_label(name: str | None) -> str:
    """How the zone is shown in the report."""
    if name in (None, "", "local"):
        local = datetime.now().astimezone().tzinfo
        return f"local ({local})"
    return str(name)


def _stamp(moment: datetime | None) -> float:
    return OLDEST if moment is None else moment.timestamp()


class _Reader:
    """Reads of the small legacy tables (in Python) through the scratch database."""

    def __init__(self, ws: Workspace, legacy: LegacyFile) -> None:
        self.ws = ws
        self.legacy = legacy

    def rows(self, table: LegacyTable, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Rows of ``table`` as dicts of ``columns`` (those it lacks read as None: a shape
        only requires some of them), in rowid order, plus ``_rowid``."""
        present = [c for c in columns if c in table.columns]
        select_list = ", ".join(["rowid", *(sv.identifier(c) for c in present)])
        names = ["_rowid", *present]
        absent = dict.fromkeys(c for c in columns if c not in table.columns)
        for row in self.ws.rows(
            f"SELECT {select_list} FROM {self.ws.table(self.legacy, table.name)} ORDER BY rowid",
            legacy=self.legacy,
            table=table.name,
        ):
            record = dict(zip(names, row, strict=True))
            if absent:
                record.update(absent)
            yield record


def _limits(table: Table) -> dict[str, tuple[str, int]]:
    """Column → ('str', max length) or ('int', max magnitude) for bounded columns."""
    out: dict[str, tuple[str, int]] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, String) and kind.length:
            out[column.name] = ("str", kind.length)
        elif isinstance(kind, SmallInteger):
            out[column.name] = ("int", 32_767)
        elif isinstance(kind, Integer) and type(kind) is Integer:
            out[column.name] = ("int", 2_147_483_647)
    return out


class LegacyImporter:
    """One import of one legacy folder into one target connection (None: dry run)."""

    def __init__(
        self, connection: Connection | None, discovery: Discovery, options: ImportOptions
    ) -> None:
        self.connection = None if options.dry_run else connection
        self.probe = connection
        self.discovery = discovery
        self.options = options
        self.zone = resolve_zone(options.timezone)
        self.report = ImportReport(
            directory=str(discovery.directory),
            source_name=options.source_name,
            timezone=zone_label(options.timezone),
            dry_run=options.dry_run,
        )
        self.report.ignored_files = list(discovery.ignored)
        self.runs: dict[tuple[str, str, int | str], _Run] = {}
        self.summaries: dict[tuple[str, str, int | str], _Summary] = {}
        self.checks: list[tuple[tuple[str, str, int | str], dict[str, Any]]] = []
        self.checkpoints: list[tuple[tuple[str, str, int | str], dict[str, Any]]] = []
        self.gaps: list[tuple[tuple[str, str, int | str], dict[str, Any]]] = []
        self.soms = FieldMerger([c for c, _, _ in mp.SOM_MAP])
        self.policies = FieldMerger([c for c, _, _ in mp.POLICY_MAP])
        self.views = FieldMerger([c for c, _, _ in mp.VIEW_MAP])
        self.tasks = FieldMerger([c for c, _, _ in mp.TASK_MAP])
        self.vulnerabilities = FieldMerger([c for c, _, _ in mp.VULNERABILITY_MAP])
        self.health = FieldMerger([c for c, _, _ in mp.HEALTH_POLICY_MAP])
        self.approval = FieldMerger([c for c, _, _ in mp.APPROVAL_MAP])
        self.entity_accounts: dict[int, TableAccount] = {}
        self.cves: dict[tuple[int, str], float] = {}
        self.newest_observation = OLDEST
        self.source_id: int | None = None
        self.created_source = False
        self._fake_ids = 0
        #: Bulk tables, in reading order: (kind, legacy file, table, report entry).
        self._bulk: list[tuple[str, LegacyFile, LegacyTable, TableAccount]] = []
        self.offices: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ time helpers

    def _local(self, value: Any) -> datetime | None:
        return _local_cached(v.to_text(value), self.zone)

    def _time(self, family: str, value: Any) -> datetime | None:
        """A legacy text timestamp: local for families A and R, UTC for B and C."""
        if family in ("A", "R"):
            return self._local(value)
        return _utc_cached(v.to_text(value))

    def _seen(self, moment: datetime | None) -> float:
        stamp = _stamp(moment)
        if stamp > self.newest_observation:
            self.newest_observation = stamp
        return stamp

    def _seen_ms(self, millis: int | None) -> None:
        if millis is not None and millis / 1000 > self.newest_observation:
            self.newest_observation = millis / 1000

    # ------------------------------------------------------------------ entry point

    def run(self) -> ImportReport:
        """Read, account, write; returns the report."""
        started = time.perf_counter()
        for legacy in self.discovery.files:
            self.report.files.append(
                {
                    "file": legacy.name,
                    "path": str(legacy.path),
                    "bytes": legacy.size,
                    "sha256": legacy.sha256,
                    "families": legacy.families,
                    "rows": legacy.rows,
                    "status": (
                        "empty (a database the old plans list as never written)"
                        if expected_empty(legacy)
                        else "empty"
                        if legacy.empty
                        else "read"
                    ),
                }
            )
            for table in legacy.tables.values():
                if table.unexpected:
                    self.report.warnings.append(
                        f"{legacy.name}: table {table.name} has unexpected columns "
                        f"({', '.join(sorted(table.columns))}) and no rows; nothing to import"
                    )
        if all(f.empty for f in self.discovery.files):
            self.report.outcome = "nothing"
            self._account_all_empty()
            self.report.seconds = time.perf_counter() - started
            return self.report
        if self.probe is not None:
            previous = self._check_target()
            if previous is not None:
                self.report.outcome = "already-imported"
                self.report.snapshot_ids = previous
                self.report.seconds = time.perf_counter() - started
                return self.report
        ws = Workspace(self.discovery.files, self.zone, self.options.lock_timeout)
        try:
            for legacy in self.discovery.files:
                self._read_file(_Reader(ws, legacy), legacy)
        finally:
            ws.close()
        bulk = BulkPipeline(
            self.discovery.files,
            self.zone,
            self.options.lock_timeout,
            self._bulk_tables(),
            self._runs_by_file(),
        )
        try:
            if not self.runs:  # the detail snapshot takes the newest observation's time
                self._seen_ms(bulk.newest_ms())
            self._create_snapshots()
            self._write_per_snapshot()
            bulk_tables = [_table(SystemPatchState), _table(System), _table(Patch)]
            with deferred_indexes(self.connection, bulk_tables):
                self._write_bulk(bulk)
            self._write_small_entities()
        finally:
            bulk.close()
        for index, count in self._winner_counts().items():
            self.entity_accounts[index].imported += count
        for entry in self.entity_accounts.values():
            entry.merged = entry.read - entry.imported - entry.skipped_total
        for entry in self.report.tables:
            if not entry.balanced:  # pragma: no cover - a bug in the accounting, not input
                raise LegacyImportError(
                    f"internal accounting error for {entry.file} {entry.table}: "
                    f"read {entry.read} != {entry.imported} + {entry.merged} + "
                    f"{entry.skipped_total}"
                )
        self.report.seconds = time.perf_counter() - started
        self._record_provenance()
        return self.report

    def _account_all_empty(self) -> None:
        for legacy in self.discovery.files:
            for table in legacy.tables.values():
                self.report.account(legacy.name, table.name, table.shape_key, 0)

    # ------------------------------------------------------------------ target checks

    def _check_target(self) -> list[int] | None:
        """Refuse conflicting imports; return the snapshot ids of an identical earlier
        import (nothing to do), else None."""
        assert self.probe is not None
        conn = self.probe
        snap = SNAPSHOTS
        src = SOURCES
        checksums = self.discovery.checksums
        earlier = conn.execute(
            select(snap.c.id, snap.c.source_id, snap.c.details, src.c.name)
            .join(src, src.c.id == snap.c.source_id)
            .where(snap.c.trigger == "legacy-import")
            .order_by(snap.c.id)
        ).all()
        for snapshot_id, _source_id, details, source_name in earlier:
            record = (details or {}).get("legacy_import")
            if not record:
                continue
            if record.get("checksums") == checksums:
                if source_name != self.options.source_name:
                    raise LegacyConflictError(
                        f"these legacy files were already imported into source {source_name!r} "
                        f"(snapshot {snapshot_id}); importing them again into "
                        f"{self.options.source_name!r} would duplicate the estate"
                    )
                return [row[0] for row in earlier if row[1] == _source_id]
        row = conn.execute(select(src.c.id).where(src.c.name == self.options.source_name)).first()
        if row is None:
            return None
        source_id = int(row[0])
        counts: dict[str, int] = dict(
            conn.execute(
                select(snap.c.trigger, func.count())
                .where(snap.c.source_id == source_id)
                .group_by(snap.c.trigger)
            ).all()
        )
        if counts.get("legacy-import"):
            raise LegacyConflictError(
                f"source {self.options.source_name!r} already holds a legacy import of other "
                "files; remove it first (pmp-intel db downgrade 0001) or import into another "
                "source (--source NAME)"
            )
        others = sum(counts.values())
        if others:
            raise LegacyConflictError(
                f"source {self.options.source_name!r} already has {others} extracted "
                "snapshot(s); legacy runs are older, and snapshot ids must grow with time "
                "within a source: import into a source of its own (--source NAME)"
            )
        # a source without snapshots has no history rows either (they reference snapshots),
        # so the detail state can go straight into the history tables
        self.source_id = source_id
        return None

    # ------------------------------------------------------------------ reading

    def _account(self, legacy: LegacyFile, table: LegacyTable) -> TableAccount:
        return self.report.account(legacy.name, table.name, table.shape_key, table.rows)

    def _entity_account(self, entry: TableAccount) -> int:
        index = len(self.entity_accounts)
        self.entity_accounts[index] = entry
        return index

    def _read_file(self, reader: _Reader, legacy: LegacyFile) -> None:
        handlers: dict[str, Callable[[_Reader, LegacyTable, TableAccount], None]] = {
            "A.api_extraction_runs": self._a_runs,
            "R.extraction_runs": self._r_runs,
            "B.snapshots": self._b_snapshots,
            "A.patch_summary": self._a_summary,
            "A.som_summary": self._a_som_summary,
            "B.patch_metrics": self._b_metric,
            "B.severity_metrics": self._b_metric,
            "B.system_health_metrics": self._b_metric,
            "B.vulnerability_db_metrics": self._b_metric,
            "B.compliance_checks": self._b_compliance,
            "B.extraction_checkpoints": self._checkpoints,
            "C.dcapi_extraction_checkpoints": self._checkpoints,
            "B.extraction_gaps": self._gaps,
            "C.dcapi_extraction_gaps": self._gaps,
            "A.som_computers": self._a_som,
            "A.deployment_policies": self._a_policies,
            "U.deployment_policies": self._a_policies,
            "U.deployment_tasks": self._u_tasks,
            "U.vulnerabilities": self._u_vulnerabilities,
            "B.deployment_policies": self._b_policies,
            "A.view_configurations": self._a_views,
            "A.view_configurations.v4": self._a_views,
            "A.health_policy": self._settings,
            "B.health_policy": self._settings,
            "A.approval_settings": self._settings,
            "B.approval_settings": self._settings,
            "B.deployment_configs": self._b_tasks,
            "B.schema_version": self._bookkeeping,
        }
        # runs first, so per-run rows find their snapshot; the bulk tables are mapped later
        ordered = sorted(
            legacy.tables.values(),
            key=lambda t: 0 if t.shape and t.shape.key.endswith(("runs", "snapshots")) else 1,
        )
        for table in ordered:
            entry = self._account(legacy, table)
            if table.unexpected:
                continue  # no rows; warned about in run()
            if table.shape is None:
                entry.skip("unrecognised table (kept in the archive copy)", table.rows)
                self.report.warnings.append(
                    f"{legacy.name}: table {table.name} is not a Maia table; not imported"
                )
                continue
            if table.rows == 0:
                continue
            key = table.shape.key
            if key in STATE_SHAPES:
                self._bulk.append(("state", legacy, table, entry))
            elif key in PATCH_READINGS:
                self._bulk.append(("patch", legacy, table, entry))
            elif key in SYSTEM_READINGS:
                self._bulk.append(("system", legacy, table, entry))
            else:
                handlers[key](reader, table, entry)

    # ------------------------------------------------------------------ bulk tables (SQL)

    def _bulk_tables(self) -> list[BulkTable]:
        """The bulk tables in reading order (which breaks ties between observations)."""
        tables = []
        for seq, (kind, legacy, table, entry) in enumerate(self._bulk):
            account = None if kind == "state" else self._entity_account(entry)
            tables.append(BulkTable(kind, Source(legacy, table, entry, seq, account)))
        return tables

    def _runs_by_file(self) -> list[tuple[str, int, int]]:
        """(file, run id, start in epoch ms) of the snapshot-family runs: the time of a
        ``systems`` row without one of its own."""
        return [
            (run.key[0], run.key[2], round(run.started_at.timestamp() * 1000))
            for run in self.runs.values()
            if run.key[1] == "B" and isinstance(run.key[2], int) and run.started_at
        ]

    # ---- runs

    def _run_key(self, table: LegacyTable, run_id: Any) -> tuple[str, str, int | str]:
        assert table.shape is not None
        family = "B" if table.shape.family in ("B", "C", "U") else table.shape.family
        number = v.to_int(run_id)
        return (table.file, family, number if number is not None else str(run_id))

    def _a_runs(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        self._text_runs(reader, table, entry, "A")

    def _r_runs(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        self._text_runs(reader, table, entry, "R")

    def _text_runs(
        self, reader: _Reader, table: LegacyTable, entry: TableAccount, family: str
    ) -> None:
        columns = [
            "extraction_id",
            "started_at",
            "completed_at",
            "status",
            "errors",
            "total_records",
            "endpoints_extracted",
            "systems_found",
            "systems_processed",
            "total_patches",
        ]
        for row in reader.rows(table, columns):
            key = self._run_key(table, row["extraction_id"])
            started = self._time(family, row["started_at"])
            if key in self.runs and not self.runs[key].synthesised:
                entry.merged += 1
                continue
            status_text = (v.to_text(row["status"]) or "").lower()
            status = RUN_STATUS.get(status_text, "failed")
            error = v.to_text(row.get("errors"))
            if status_text == "running":
                error = "legacy run never finished (status 'running')" + (
                    f": {error}" if error else ""
                )
            self.runs[key] = _Run(
                key=key,
                table=table.name,
                started_at=started,
                finished_at=self._time(family, row["completed_at"]),
                status=status,
                error=error,
                records=v.to_int(row.get("total_records") or row.get("total_patches")),
                systems_reported=v.to_int(row.get("systems_found")),
                systems_extracted=v.to_int(row.get("systems_processed")),
                api_version="1.4",
            )
            self._seen(started)
            entry.imported += 1

    def _b_snapshots(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        columns = "snapshot_id timestamp api_version extraction_duration_ms status error_message"
        for row in reader.rows(table, columns.split()):
            key = self._run_key(table, row["snapshot_id"])
            if key in self.runs and not self.runs[key].synthesised:
                entry.merged += 1
                continue
            started = self._time("B", row["timestamp"])
            duration = v.to_int(row.get("extraction_duration_ms"))
            finished = (
                datetime.fromtimestamp(started.timestamp() + duration / 1000, tz=UTC)
                if started is not None and duration is not None and duration >= 0
                else None
            )
            self.runs[key] = _Run(
                key=key,
                table=table.name,
                started_at=started,
                finished_at=finished,
                status=RUN_STATUS.get((v.to_text(row.get("status")) or "").lower(), "failed"),
                error=v.to_text(row.get("error_message")),
                api_version=v.to_text(row.get("api_version"), 8),
            )
            self._seen(started)
            entry.imported += 1

    def _run_for(
        self, table: LegacyTable, run_id: Any, moment: datetime | None
    ) -> tuple[str, str, int | str]:
        """The run a per-run row belongs to; a run that only rows mention is synthesised at
        the earliest time those rows carry."""
        key = self._run_key(table, run_id)
        run = self.runs.get(key)
        if run is None:
            run = self.runs[key] = _Run(key=key, table=table.name, started_at=moment)
            run.synthesised = True
        elif (
            run.synthesised
            and moment is not None
            and (run.started_at is None or moment < run.started_at)
        ):
            run.started_at = moment
        self._seen(moment)
        return key

    # ---- per-run figures

    def _a_summary(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        latest: dict[tuple[str, str, int | str], tuple[int, dict[str, Any]]] = {}
        for row in reader.rows(table, ["extraction_id", "summary_data", "extracted_at"]):
            document = v.unwrap(v.parse_json(row["summary_data"]), "summary")
            if document is None:
                entry.skip("summary_data is not a JSON object")
                continue
            moment = self._time("A", row.get("extracted_at"))
            run_id = row.get("extraction_id")
            if v.to_int(run_id) is None:
                run_id = f"summary-{row['_rowid']}"
            key = self._run_for(table, run_id, moment)
            if key in latest:
                entry.merged += 1
            latest[key] = (row["_rowid"], document)
        for key, (_, document) in latest.items():
            entry.imported += 1
            summary = self.summaries.setdefault(key, _Summary())
            summary.fields.update(_summary_fields(document))
            summary.raw["summary"] = document

    def _a_som_summary(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        for row in reader.rows(table, ["extraction_id", "summary_data", "extracted_at"]):
            document = v.parse_json(row["summary_data"])
            if document is None:
                entry.skip("summary_data is not a JSON object")
                continue
            key = self._run_for(table, row["extraction_id"], self._time("A", row["extracted_at"]))
            self.summaries.setdefault(key, _Summary()).fields["som_summary"] = document
            entry.imported += 1

    def _b_metric(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        assert table.shape is not None
        columns = sorted(table.columns)
        latest: dict[tuple[str, str, int | str], dict[str, Any]] = {}
        for row in reader.rows(table, columns):
            moment = self._time("B", row.get("timestamp"))
            key = self._run_for(table, row["snapshot_id"], moment)
            if key in latest:
                entry.merged += 1
            else:
                entry.imported += 1
            latest[key] = row
        for key, row in latest.items():
            summary = self.summaries.setdefault(key, _Summary())
            summary.fields.update(_metric_fields(table.name, row))
            summary.raw[table.name] = {
                k: val for k, val in row.items() if k not in ("_rowid", "metric_id", "snapshot_id")
            }

    def _b_compliance(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        latest: dict[tuple[tuple[str, str, int | str], str], dict[str, Any]] = {}
        columns = sorted(table.columns)
        for row in reader.rows(table, columns):
            name = v.to_text(row.get("check_name"))
            if name is None:
                entry.skip("check without a name")
                continue
            key = self._run_for(table, row["snapshot_id"], self._time("B", row.get("timestamp")))
            category = v.to_text(row.get("check_category")) or "custom"
            slot = (key, f"{category}|{name}")
            if slot in latest:
                entry.merged += 1
            else:
                entry.imported += 1
            latest[slot] = row
        for (key, _), row in latest.items():
            self.checks.append((key, row))

    def _checkpoints(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        assert table.shape is not None
        endpoint = DCAPI_ENDPOINT if table.shape.family == "C" else RESILIENT_ENDPOINT
        seen: dict[tuple[tuple[str, str, int | str], str], dict[str, Any]] = {}
        for row in reader.rows(table, sorted(table.columns)):
            moment = _utc_cached(v.to_text(row.get("updated_at") or row.get("created_at")))
            key = self._run_for(table, row["snapshot_id"], moment)
            if (key, endpoint) in seen:
                entry.merged += 1
            else:
                entry.imported += 1
            row["_endpoint"] = endpoint
            row["_moment"] = moment
            seen[(key, endpoint)] = row
            run = self.runs[key]
            coverage = v.to_float(row.get("coverage_pct"))
            if coverage is not None:
                run.coverage = max(0.0, min(100.0, coverage))
            extracted = v.to_int(row.get("systems_extracted"))
            if extracted is not None:
                run.systems_extracted = extracted
        for (key, _), row in seen.items():
            self.checkpoints.append((key, row))

    def _gaps(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        assert table.shape is not None
        endpoint = DCAPI_ENDPOINT if table.shape.family == "C" else RESILIENT_ENDPOINT
        seen: set[tuple[tuple[str, str, int | str], int]] = set()
        for row in reader.rows(table, sorted(table.columns)):
            page = v.to_int(row.get("page_num"))
            if page is None:
                entry.skip("gap without a page number")
                continue
            moment = _utc_cached(v.to_text(row.get("created_at")))
            key = self._run_for(table, row["snapshot_id"], moment)
            if (key, page) in seen:
                entry.merged += 1
                continue
            seen.add((key, page))
            row["_endpoint"] = endpoint
            row["_moment"] = moment
            self.gaps.append((key, row))
            entry.imported += 1

    def _bookkeeping(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        entry.skip("schema bookkeeping of the old tool, not estate data", table.rows)

    def _a_som(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        account = self._entity_account(entry)
        for row in reader.rows(
            table,
            ["resource_id", "os_platform_name", "agent_installed_on", "raw_data", "extracted_at"],
        ):
            notes: dict[str, dict[str, Any]] = {}
            record = _document(row, "raw_data", notes)
            key = v.to_int((record or {}).get("resource_id")) or v.to_int(row.get("resource_id"))
            if key is None:
                entry.skip("no resource_id")
                continue
            fields: dict[str, Any] = {}
            mp.apply(mp.SOM_MAP, record, fields, notes)
            mp.apply(mp.SOM_MAP, row, fields, notes)
            extra = mp.leftovers(mp.SOM_MAP, record, frozenset({"resource_id"}))
            self.soms.observe(
                key,
                self._seen(self._time("A", row.get("extracted_at"))),
                fields,
                _noted(entry, extra, notes),
                account,
            )

    # ---- policies, settings, tasks and vulnerabilities

    def _a_policies(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        """Family A's policies, and the unified schema's (the same columns per snapshot)."""
        assert table.shape is not None
        family = table.shape.family
        account = self._entity_account(entry)
        flat = sorted(table.columns - {"raw_data", "extraction_id", "extracted_at", "snapshot_id"})
        for row in reader.rows(table, [*flat, "raw_data", "extracted_at"]):
            notes: dict[str, dict[str, Any]] = {}
            record = _document(row, "raw_data", notes)
            key = v.to_int((record or {}).get("template_id")) or v.to_int(row.get("template_id"))
            if key is None:
                entry.skip("no template_id")
                continue
            fields: dict[str, Any] = {}
            mp.apply(mp.POLICY_MAP, record, fields, notes)
            mp.apply(mp.POLICY_MAP, {k: row.get(k) for k in flat}, fields, notes)
            extra = mp.leftovers(mp.POLICY_MAP, record, frozenset({"template_id"}))
            self.policies.observe(
                key,
                self._seen(self._time(family, row.get("extracted_at"))),
                fields,
                _noted(entry, extra, notes),
                account,
            )

    def _b_policies(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        account = self._entity_account(entry)
        for row in reader.rows(table, sorted(table.columns)):
            notes: dict[str, dict[str, Any]] = {}
            settings = _document(row, "settings_json", notes) or {}
            key = v.to_int(settings.get("template_id")) or v.to_int(row.get("config_id"))
            if key is None:
                entry.skip("no template_id (settings_json nor config_id)")
                continue
            fields: dict[str, Any] = {}
            mp.apply(mp.POLICY_MAP, settings, fields, notes)
            mp.apply(mp.POLICY_MAP, row, fields, notes)
            extra = mp.leftovers(mp.POLICY_MAP, settings, frozenset({"template_id"}))
            for name in ("platform_name", "deployment_type", "schedule_type", "config_status"):
                if v.clean(row.get(name)) is not None:
                    extra.setdefault(f"legacy_{name}", row[name])
            self.policies.observe(
                key,
                self._seen(self._time("B", row.get("extracted_at"))),
                fields,
                _noted(entry, extra, notes),
                account,
            )

    def _a_views(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        account = self._entity_account(entry)
        flat = sorted(table.columns - {"raw_data", "extraction_id", "extracted_at"})
        for row in reader.rows(table, [*flat, "raw_data", "extracted_at"]):
            notes: dict[str, dict[str, Any]] = {}
            record = _document(row, "raw_data", notes) or {}
            key = (
                v.to_int(record.get("config_id"))
                or v.to_int(record.get("VIEW_ID"))
                or v.to_int(row.get("config_id"))
            )
            if key is None:
                entry.skip("no config_id")
                continue
            columns = {k: row.get(k) for k in flat}
            fields: dict[str, Any] = {}
            mp.apply(mp.VIEW_MAP, record, fields, notes)
            mp.apply(mp.VIEW_MAP, columns, fields, notes)
            extra = mp.leftovers(mp.VIEW_MAP, record, frozenset({"config_id"}))
            extra.update(mp.leftovers(mp.VIEW_MAP, columns, frozenset({"config_id", *extra})))
            self.views.observe(
                key,
                self._seen(self._time("A", row.get("extracted_at"))),
                fields,
                _noted(entry, extra, notes),
                account,
            )

    def _settings(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        assert table.shape is not None
        family = table.shape.family
        health = table.name == "health_policy"
        merger, mapping, wrapper = (
            (self.health, mp.HEALTH_POLICY_MAP, "healthpolicy")
            if health
            else (self.approval, mp.APPROVAL_MAP, "approvalsettings")
        )
        account = self._entity_account(entry)
        document_column = (
            "settings_json" if family == "B" else ("policy_data" if health else "settings_data")
        )
        for row in reader.rows(table, sorted(table.columns)):
            notes: dict[str, dict[str, Any]] = {}
            document = v.unwrap(v.parse_json(row.get(document_column)), wrapper)
            if document is None and family == "A":
                entry.skip(f"{document_column} is not a JSON object")
                continue
            if document is None:
                _document(row, document_column, notes)
            fields: dict[str, Any] = {}
            mp.apply(mapping, document, fields, notes)
            mp.apply(mapping, row, fields, notes)
            if not health and fields.get("patch_approval") is None:
                automatic = v.to_bool(row.get("auto_approval_enabled"))
                if automatic is not None:
                    fields["patch_approval"] = "automatic" if automatic else "manual"
            extra = mp.leftovers(mapping, document)
            if family == "B":
                for name, value in row.items():
                    policy_column = name.startswith(
                        ("healthy_", "vulnerable_", "highly_")
                    ) or name.endswith(("_weight", "_enabled", "_critical", "_security", "_days"))
                    if policy_column and v.clean(value) is not None:
                        extra.setdefault(f"legacy_{name}", value)
            moment = self._time(family, row.get("extracted_at"))
            merger.observe((), self._seen(moment), fields, _noted(entry, extra, notes), account)

    def _b_tasks(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        account = self._entity_account(entry)
        for row in reader.rows(table, sorted(table.columns)):
            key = v.to_int(row.get("deployment_config_id"))
            if key is None:
                entry.skip("deployment_config_id is not a numeric task id")
                continue
            notes: dict[str, dict[str, Any]] = {}
            settings = _document(row, "settings_json", notes) or {}
            fields: dict[str, Any] = {}
            mp.apply(mp.TASK_MAP, settings, fields, notes)
            mp.apply(mp.TASK_MAP, row, fields, notes)
            extra = mp.leftovers(mp.TASK_MAP, settings)
            for name in (
                "config_type",
                "config_status",
                "patch_count",
                "success_count",
                "failure_count",
                "pending_count",
            ):
                if v.clean(row.get(name)) is not None:
                    extra.setdefault(f"legacy_{name}", row[name])
            self.tasks.observe(
                key,
                self._seen(self._time("B", row.get("extracted_at"))),
                fields,
                _noted(entry, extra, notes),
                account,
            )

    def _u_tasks(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        """The unified schema's ``deployment_tasks`` (``/patch/deploymenttasks``)."""
        account = self._entity_account(entry)
        for row in reader.rows(table, sorted(table.columns)):
            key = v.to_int(row.get("apd_task_id"))
            if key is None:
                entry.skip("apd_task_id is not a numeric task id")
                continue
            notes: dict[str, dict[str, Any]] = {}
            fields: dict[str, Any] = {}
            mp.apply(mp.TASK_MAP, row, fields, notes)
            extra: dict[str, Any] = {}
            for name in ("task_status", "success_count", "failure_count", "pending_count"):
                if v.clean(row.get(name)) is not None:
                    extra[f"legacy_{name}"] = row[name]
            self.tasks.observe(
                key,
                self._seen(self._time("U", row.get("extracted_at"))),
                fields,
                _noted(entry, extra, notes),
                account,
            )

    def _u_vulnerabilities(self, reader: _Reader, table: LegacyTable, entry: TableAccount) -> None:
        """The unified schema's ``vulnerabilities``: one CVE per row, with the patches that
        fix it as comma-separated ``pmp_patch_ids``."""
        account = self._entity_account(entry)
        for row in reader.rows(table, sorted(table.columns)):
            found = CVE.findall(v.to_text(row.get("cve_id")) or "")
            if not found:
                entry.skip("cve_id is not a CVE id")
                continue
            cve = found[0].upper()
            notes: dict[str, dict[str, Any]] = {}
            fields: dict[str, Any] = {}
            mp.apply(mp.VULNERABILITY_MAP, row, fields, notes)
            extra: dict[str, Any] = {}
            year = v.clean(row.get("cve_year"))
            if year is not None:
                extra["legacy_cve_year"] = year
            moment = self._seen(self._time("U", row.get("extracted_at")))
            self.vulnerabilities.observe(cve, moment, fields, _noted(entry, extra, notes), account)
            for text in re.split(r"[,;\s]+", v.to_text(row.get("pmp_patch_ids")) or ""):
                patch_id = v.to_int(text)
                if patch_id is not None and moment >= self.cves.get((patch_id, cve), OLDEST):
                    self.cves[(patch_id, cve)] = moment

    # ------------------------------------------------------------------ writing

    def _create_snapshots(self) -> None:
        """One snapshot per legacy run, oldest first (ids grow with time)."""
        if not self.runs:
            moment = (
                datetime.fromtimestamp(self.newest_observation, tz=UTC)
                if self.newest_observation != OLDEST
                else datetime.now(UTC)
            )
            key: tuple[str, str, int | str] = ("", "detail", 0)
            self.runs[key] = _Run(key=key, table="", started_at=moment, synthesised=True)
        known = [r.started_at for r in self.runs.values() if r.started_at is not None]
        fallback = min(known) if known else datetime.now(UTC)
        for run in self.runs.values():
            if run.started_at is None:
                run.started_at = fallback
        ordered = sorted(
            self.runs.values(),
            key=lambda r: (r.started_at or fallback, r.key[0], r.key[1], str(r.key[2])),
        )
        if self.connection is not None and self.source_id is None:
            self.source_id = self.connection.execute(
                insert(SOURCES).values(
                    name=self.options.source_name,
                    edition=LEGACY_EDITION,
                    base_url=None,
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            self.created_source = True
        self.report.source_id = self.source_id
        now = datetime.now(UTC)
        snap = SNAPSHOTS
        for run in ordered:
            details = {
                "legacy": {
                    "file": run.key[0],
                    "family": run.key[1],
                    "run_id": run.key[2],
                    "table": run.table,
                    "synthesised": run.synthesised,
                }
            }
            values = {
                "source_id": self.source_id,
                "status": run.status,
                "trigger": "legacy-import",
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "merged_at": now,
                "coverage_pct": run.coverage,
                "systems_reported": run.systems_reported,
                "systems_extracted": run.systems_extracted,
                "records_extracted": run.records or 0,
                "requests_made": 0,
                "error_message": run.error,
                "api_version": run.api_version,
                "pmp_intel_version": __version__,
                "details": details,
            }
            if self.connection is None:
                self._fake_ids += 1
                run.snapshot_id = self._fake_ids
            else:
                run.snapshot_id = self.connection.execute(
                    insert(snap).values(**values)
                ).inserted_primary_key[0]  # type: ignore[index]
            self.report.snapshot_ids.append(int(run.snapshot_id))
        self.report.written["snapshots"] += len(ordered)
        self.newest = ordered[-1]

    newest: _Run

    def _snapshot_of(self, key: tuple[str, str, int | str]) -> int:
        snapshot_id = self.runs[key].snapshot_id
        assert snapshot_id is not None
        return snapshot_id

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self.report.written[table.name] += len(rows)
        if self.connection is None:
            return
        for start in range(0, len(rows), self.options.batch_size):
            self.connection.execute(insert(table), rows[start : start + self.options.batch_size])

    def _write_per_snapshot(self) -> None:
        now = datetime.now(UTC)
        summaries = []
        for key, summary in self.summaries.items():
            row: dict[str, Any] = dict.fromkeys(_SUMMARY_COLUMNS)
            row.update(summary.fields)
            row["snapshot_id"] = self._snapshot_of(key)
            row["created_at"] = now
            row["raw"] = summary.raw or None
            summaries.append(row)
        self._insert(_table(ServerSummary), summaries)

        checks = []
        for key, row in self.checks:
            name = v.to_text(row.get("check_name")) or ""
            category = v.to_text(row.get("check_category")) or "custom"
            digest = hashlib.sha1(f"{category}|{name}".encode(), usedforsecurity=False)
            passed = v.to_bool(row.get("passed"))
            checks.append(
                {
                    "snapshot_id": self._snapshot_of(key),
                    "created_at": now,
                    "profile": LEGACY_PROFILE,
                    "strategy": "patch_applications",
                    "maturity_level": 1,
                    "control_id": f"LEGACY-{digest.hexdigest()[:12].upper()}",
                    "title": name[:255],
                    "outcome": "effective" if passed else "ineffective",
                    "systems_in_scope": 0,
                    "pairs_in_scope": 0,
                    "violations": 0 if passed else 1,
                    "not_yet_due": 0,
                    "pct_compliant": None,
                    "oldest_overdue_time": None,
                    "details": {
                        "legacy_check_name": name,
                        "legacy_category": category,
                        "legacy_severity": v.to_text(row.get("severity")),
                        "passed": passed,
                        "threshold_value": v.to_float(row.get("threshold_value")),
                        "actual_value": v.to_float(row.get("actual_value")),
                        "details": v.to_text(row.get("details")),
                        "note": "rule of the old Maia checker, not an ASD Essential Eight "
                        "assessment",
                    },
                }
            )
        self._insert(_table(ComplianceCheck), checks)

        checkpoints = []
        for key, row in self.checkpoints:
            extracted = v.to_int(row.get("systems_extracted")) or 0
            checkpoints.append(
                {
                    "snapshot_id": self._snapshot_of(key),
                    "endpoint": row["_endpoint"],
                    "parent_key": "",
                    "last_page": max(0, v.to_int(row.get("last_page")) or 0),
                    "page_limit": 30 if row["_endpoint"] == DCAPI_ENDPOINT else 25,
                    "total_reported": None,
                    "records_extracted": max(0, extracted),
                    "completed": False,
                    "updated_at": row["_moment"] or now,
                }
            )
        self._insert(_table(ExtractionCheckpoint), checkpoints)

        gaps = []
        for key, row in self.gaps:
            moment = row["_moment"] or now
            gaps.append(
                {
                    "source_id": self.source_id,
                    "snapshot_id": self._snapshot_of(key),
                    "endpoint": row["_endpoint"],
                    "parent_key": "",
                    "page": v.to_int(row.get("page_num")),
                    "error_type": (v.to_text(row.get("error_type")) or "unknown_error")[:32],
                    "http_status": None,
                    "attempts": max(0, v.to_int(row.get("attempts")) or 0),
                    "runs": 1,
                    "error_message": v.to_text(row.get("error_message")),
                    "response_sample": (v.to_text(row.get("response_sample")) or None),
                    "status": "abandoned",
                    "created_at": moment,
                    "last_attempt_at": moment,
                    "closed_at": None,
                    "closed_in_snapshot_id": None,
                }
            )
        self._insert(_table(ExtractionGap), gaps)

    def _write_bulk(self, bulk: BulkPipeline) -> None:
        """Copy the bulk tables' mapped rows into history, current as of the newest
        snapshot: the states as soon as they are ready, systems and patches once merged."""
        fixed = {"source_id": self.source_id, "valid_from_snapshot_id": self.newest.snapshot_id}
        bulk.states()
        merging = bulk.merge(self._som_fill(), [system for system, _ in self.SOM_FILLS])
        states = _table(SystemPatchState)
        transfer = Transfer(self.connection, bulk.states_ws, 0)
        for stage, columns in bulk.states().copies():
            self.report.written[states.name] += transfer.copy(
                stage, states, columns, fixed, "resource_id, patch_id"
            )
        winners = merging.result()
        entities = bulk.entities()
        self._seen_ms(bulk.newest_ms())
        transfer = Transfer(self.connection, bulk.entities_ws, 1)
        for observations, model, key in (
            (entities.systems, System, "resource_id"),
            (entities.patches, Patch, "patch_id"),
        ):
            columns = [
                (key, "key"),
                *((column, sv.identifier(column)) for column in observations.columns),
                ("extra", "extra"),
            ]
            table = _table(model)
            self.report.written[table.name] += transfer.copy(
                observations.merged, table, columns, fixed, "key"
            )
        for index, count in winners.items():
            self.entity_accounts[index].imported += count
        self.offices = self._branch_offices(entities.systems)
        for (patch_id, cve), millis in entities.cves.items():
            self.cves[(patch_id, cve)] = OLDEST if millis is None else millis / 1000

    #: System columns the agent inventory (SoM) fills when no other table had them.
    SOM_FILLS = (
        ("resource_name", "resource_name"),
        ("domain_netbios_name", "domain_name"),
        ("customer_name", "customer_name"),
        ("branch_office_name", "branch_office_name"),
        ("os_name", "os_name"),
        ("ip_address", "ip_address"),
        ("mac_address", "mac_address"),
        ("service_pack", "service_pack"),
    )

    def _som_fill(self) -> list[tuple[Any, ...]]:
        """What SoM computers know about systems: fills what the patch inventory lacks."""
        return [
            (key, *(fields.get(som) for _, som in self.SOM_FILLS))
            for key, fields, _ in self.soms.items()
        ]

    def _branch_offices(self, systems: Observations) -> list[dict[str, Any]]:
        """The organisations the systems belong to."""
        index = {name: 1 + i for i, name in enumerate(systems.columns)}
        offices: dict[int, dict[str, Any]] = {}
        for row in systems.merged_rows():
            office = row[index["branch_office_id"]]
            if office is None:
                continue
            known = offices.setdefault(
                office,
                {"branch_office_id": office, "branch_office_name": None, "customer_id": None},
            )
            known["branch_office_name"] = (
                known["branch_office_name"] or row[index["branch_office_name"]]
            )
            known["customer_id"] = known["customer_id"] or row[index["customer_id"]]
        return list(offices.values())

    def _write_small_entities(self) -> None:
        self._write_merger("som_computer", self.soms, "resource_id")
        self._write_merger("deployment_policy", self.policies, "template_id")
        self._write_merger("deployment_task", self.tasks, "task_id")
        self._write_merger("view_configuration", self.views, "config_id")
        self._write_merger("health_policy", self.health, None)
        self._write_merger("approval_setting", self.approval, None)
        self._write_rows("branch_office", self.offices)
        self._write_rows("vulnerability", self._vulnerability_rows())
        self._write_rows(
            "patch_vulnerability",
            ({"patch_id": p, "cve_id": c} for (p, c) in sorted(self.cves)),
        )

    def _vulnerability_rows(self) -> Iterator[dict[str, Any]]:
        """Every CVE a patch links to or the unified ``vulnerabilities`` describe, with
        what they say about it."""
        described = {
            str(key): (fields, extra) for key, fields, extra in self.vulnerabilities.items()
        }
        for cve in sorted({cve for _, cve in self.cves} | set(described)):
            fields, extra = described.get(cve, ({}, None))
            yield {**fields, "cve_id": cve, "extra": extra}

    def _winner_counts(self) -> Counter[int]:
        total: Counter[int] = Counter()
        for merger in (
            self.soms,
            self.policies,
            self.tasks,
            self.vulnerabilities,
            self.views,
            self.health,
            self.approval,
        ):
            total.update(merger.winners())
        return total

    def _write_merger(self, entity: str, merger: FieldMerger, key_column: str | None) -> None:
        def rows() -> Iterator[dict[str, Any]]:
            for key, fields, extra in merger.items():
                if key_column is not None:
                    fields[key_column] = key
                fields["extra"] = extra
                yield fields

        self._write_rows(entity, rows())

    def _write_rows(self, entity: str, rows: Any) -> None:
        writer = _EntityWriter(self, entity)
        for row in rows:
            writer.add(row)
        writer.flush()

    def _record_provenance(self) -> None:
        """Keep the files' checksums and the report on the newest imported snapshot: the
        rerun check reads them, and ``downgrade`` finds what to remove by trigger."""
        if self.connection is None:
            return
        snap = SNAPSHOTS
        newest = self.newest
        details = {
            "legacy": {
                "file": newest.key[0],
                "family": newest.key[1],
                "run_id": newest.key[2],
                "table": newest.table,
                "synthesised": newest.synthesised,
            },
            "legacy_import": {
                "checksums": self.discovery.checksums,
                "created_source": self.created_source,
                "imported_at": datetime.now(UTC).isoformat(),
                "detail_snapshot": True,
                "report": self.report.as_dict(),
            },
        }
        self.connection.execute(
            update(snap).where(snap.c.id == newest.snapshot_id).values(details=details)
        )


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _document(
    row: dict[str, Any], column: str, notes: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """The JSON object in ``row[column]``; text that is not one is noted as unparsed (the
    row is then read from its other columns)."""
    document = v.parse_json(row.get(column))
    if document is None and v.clean(row.get(column)) is not None:
        notes.setdefault(mp.UNPARSED_NOTE, {})[column] = row[column]
    return document


def _noted(
    entry: TableAccount, extra: dict[str, Any], notes: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """``extra`` with the row's notes; a row imported despite an unreadable JSON column is
    counted in the report."""
    unparsed = notes.get(mp.UNPARSED_NOTE, {})
    for column in ("raw_data", "settings_json"):
        if column in unparsed:
            entry.note(RAW_UNREADABLE.replace("raw_data", column))
    return mp.with_notes(extra, notes)


SNAPSHOTS = _table(Snapshot)
SOURCES = _table(SourceRow)


_SUMMARY_COLUMNS = [c.name for c in _table(ServerSummary).columns if c.name != "id"]


class _EntityWriter:
    """Buffers one small entity's rows and writes them in large batches straight into its
    history table, current as of the newest imported snapshot, with
    :func:`pmp_intel.store.bulk.bulk_insert` (executemany; COPY on PostgreSQL).

    Strings longer than their column are cut; integers out of their column's range go to
    ``extra.legacy_out_of_range``."""

    def __init__(self, importer: LegacyImporter, entity: str) -> None:
        self.importer = importer
        self.table = _table(ENTITIES[entity][0])
        self.limits = _limits(self.table)
        self.columns = [c.name for c in self.table.columns if c.name not in _HISTORY_ONLY]
        self.fixed: dict[str, Any] = {
            "source_id": importer.source_id,
            "valid_from_snapshot_id": importer.newest.snapshot_id,
        }
        self.buffer: list[dict[str, Any]] = []

    def add(self, fields: dict[str, Any]) -> None:
        """Queue one row (missing columns are NULL)."""
        row = dict.fromkeys(self.columns)
        row.update(fields)
        for name, (kind, bound) in self.limits.items():
            value = row.get(name)
            if value is None:
                continue
            if kind == "str" and isinstance(value, str) and len(value) > bound:
                row[name] = value[:bound]
            elif kind == "int" and isinstance(value, int) and abs(value) > bound:
                extra = row.get("extra") or {}
                extra.setdefault("legacy_out_of_range", {})[name] = value
                row["extra"] = extra
                row[name] = None
        row.update(self.fixed)
        self.buffer.append(row)
        if len(self.buffer) >= self.importer.options.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write what is queued."""
        if not self.buffer:
            return
        self.importer.report.written[self.table.name] += len(self.buffer)
        if self.importer.connection is not None:
            bulk_insert(self.importer.connection, self.table, self.buffer)
        self.buffer = []


#: History bookkeeping columns (set by the writer or the database, not by the mapping).
_HISTORY_ONLY = frozenset({"id", "source_id", "valid_from_snapshot_id", "valid_to_snapshot_id"})


def _summary_fields(document: dict[str, Any]) -> dict[str, Any]:
    """``server_summaries`` columns from a ``/patch/summary`` object."""

    def part(name: str) -> dict[str, Any]:
        value = document.get(name)
        return value if isinstance(value, dict) else {}

    patch = part("patch_summary")
    severity = part("missing_patch_severity_summary")
    system = part("system_summary")
    scan = part("patch_scan_summary")
    vdb = part("vulnerability_db_summary")
    apd = part("apd_summary")
    fields = {
        "installed_patches": v.to_int(patch.get("installed_patches")),
        "applicable_patches": v.to_int(patch.get("applicable_patches")),
        "new_patches": v.to_int(patch.get("new_patches")),
        "missing_patches": v.to_int(patch.get("missing_patches")),
        "missing_critical": v.to_int(severity.get("critical_count")),
        "missing_important": v.to_int(severity.get("important_count")),
        "missing_moderate": v.to_int(severity.get("moderate_count")),
        "missing_low": v.to_int(severity.get("low_count")),
        "missing_unrated": v.to_int(severity.get("unrated_count")),
        "missing_total": v.to_int(severity.get("total_count")),
        "total_systems": v.to_int(system.get("total_systems")),
        "healthy_systems": v.to_int(system.get("healthy_systems")),
        "moderately_vulnerable_systems": v.to_int(system.get("moderately_vulnerable_systems")),
        "highly_vulnerable_systems": v.to_int(system.get("highly_vulnerable_systems")),
        "health_unknown_systems": v.to_int(system.get("health_unknown_systems")),
        "scanned_systems": v.to_int(scan.get("scanned_systems")),
        "unscanned_systems": v.to_int(scan.get("unscanned_system_count")),
        "scan_success_count": v.to_int(scan.get("scan_success_count")),
        "scan_failure_count": v.to_int(scan.get("scan_failure_count")),
        "apd_tasks": v.to_int(apd.get("number_of_apd_tasks")),
        "last_db_update_status": v.to_text(vdb.get("last_db_update_status"), 32),
        "last_db_update_time": v.epoch_ms(vdb.get("last_db_update_time")),
        "auto_db_update_disabled": v.to_bool(vdb.get("is_auto_db_update_disabled")),
        "db_update_in_progress": v.to_bool(vdb.get("db_update_in_progress")),
    }
    return {k: value for k, value in fields.items() if value is not None}


_METRIC_COLUMNS = {
    "patch_metrics": {
        "installed_patches": "installed_patches",
        "applicable_patches": "applicable_patches",
        "new_patches": "new_patches",
        "missing_patches": "missing_patches",
    },
    "severity_metrics": {
        "critical_count": "missing_critical",
        "important_count": "missing_important",
        "moderate_count": "missing_moderate",
        "low_count": "missing_low",
        "unrated_count": "missing_unrated",
        "total_count": "missing_total",
    },
    "system_health_metrics": {
        "total_systems": "total_systems",
        "healthy_systems": "healthy_systems",
        "moderately_vulnerable_systems": "moderately_vulnerable_systems",
        "highly_vulnerable_systems": "highly_vulnerable_systems",
        "health_unknown_systems": "health_unknown_systems",
        "scanned_systems": "scanned_systems",
        "unscanned_system_count": "unscanned_systems",
        "scan_success_count": "scan_success_count",
        "scan_failure_count": "scan_failure_count",
        "number_of_apd_tasks": "apd_tasks",
    },
}


def _metric_fields(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """``server_summaries`` columns from one snapshot-family metric row."""
    fields: dict[str, Any]
    if table == "vulnerability_db_metrics":
        fields = {
            "last_db_update_status": v.to_text(row.get("last_db_update_status"), 32),
            "last_db_update_time": v.epoch_ms(row.get("last_db_update_time")),
            "auto_db_update_disabled": v.to_bool(row.get("is_auto_db_update_disabled")),
            "db_update_in_progress": v.to_bool(row.get("db_update_in_progress")),
        }
    else:
        fields = {
            target: v.to_int(row.get(source)) for source, target in _METRIC_COLUMNS[table].items()
        }
    return {k: value for k, value in fields.items() if value is not None}


@lru_cache(maxsize=65_536)
def _local_cached(text: str | None, zone: tzinfo | None) -> datetime | None:
    return v.local_text(text, zone)


@lru_cache(maxsize=65_536)
def _utc_cached(text: str | None) -> datetime | None:
    return v.utc_text(text)


def import_legacy(
    connection: Connection | None,
    directory: Path | str,
    options: ImportOptions | None = None,
    *,
    discovery: Discovery | None = None,
) -> ImportReport:
    """Import the legacy files in ``directory`` through ``connection`` (in its current
    transaction; the caller commits). With ``options.dry_run`` nothing is written;
    ``connection`` may then be None.

    Raises :class:`~pmp_intel.legacy.errors.LegacyImportError` (and subclasses) for bad
    input or a conflicting target; the caller's transaction must then be rolled back."""
    options = options or ImportOptions()
    if discovery is None:
        target = _target_file(connection)
        discovery = discover(Path(directory), exclude=target, timeout=options.lock_timeout)
    return LegacyImporter(connection, discovery, options).run()


def _target_file(connection: Connection | None) -> Path | None:
    if connection is None or connection.dialect.name != "sqlite":
        return None
    database = connection.engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database)


def remove_imports(connection: Connection) -> dict[str, int]:
    """Delete every legacy-import snapshot and the sources the imports created.

    Foreign-key cascades remove everything hanging off them (history rows they opened,
    summaries, checks, checkpoints, gaps). Returns what was removed."""
    snap = SNAPSHOTS
    src = SOURCES
    rows = connection.execute(
        select(snap.c.id, snap.c.source_id, snap.c.details).where(snap.c.trigger == "legacy-import")
    ).all()
    created = {
        source_id
        for _, source_id, details in rows
        if ((details or {}).get("legacy_import") or {}).get("created_source")
    }
    ids = [row[0] for row in rows]
    # children first, so no cascade has to re-open a version a later snapshot closed
    for snapshot_id in sorted(ids, reverse=True):
        connection.execute(delete(snap).where(snap.c.id == snapshot_id))
    removed_sources = 0
    for source_id in sorted(created):
        remaining = connection.execute(
            select(func.count()).select_from(snap).where(snap.c.source_id == source_id)
        ).scalar_one()
        if remaining == 0:
            removed_sources += connection.execute(
                delete(src).where(src.c.id == source_id, src.c.edition == LEGACY_EDITION)
            ).rowcount
    return {"snapshots": len(ids), "sources": removed_sources}


__all__ = [
    "DEFAULT_SOURCE",
    "LEGACY_PROFILE",
    "ImportOptions",
    "LegacyImporter",
    "import_legacy",
    "remove_imports",
    "resolve_zone",
]
