"""PMPIntelligenceService: the read-only query facade over the unified database.

Backward compatible with the legacy Maia ``PMPIntelligenceService`` (same method names,
arguments and row keys; docs/service.md lists the intentional differences), and beyond it:
every query can look at the estate as it was at any snapshot (``snapshot=`` id or
datetime) of any source (``source=``), plus trends, organisation summaries, snapshot diffs
and system / patch detail with history.

>>> service = PMPIntelligenceService(url="sqlite:///pmp_intelligence.db")  # doctest: +SKIP
>>> service.get_systems_by_organization("Acme%").to_pandas()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from pmp_intel.service import queries as q
from pmp_intel.service.base import BaseIntelligenceService
from pmp_intel.service.readonly import bind_raw, read_only_connection
from pmp_intel.service.results import (
    LEGACY_DATABASES,
    NO_SNAPSHOT_WARNING,
    STALENESS_THRESHOLD_DAYS,
    FreshnessReport,
    PMPQueryResult,
    aware,
    freshness_of,
)
from pmp_intel.settings import DEFAULT_DATABASE_DIR, DEFAULT_DATABASE_FILE, Settings
from pmp_intel.store.engine import create_db_engine, parse_database_url, sqlite_path

log = logging.getLogger("pmp_intel.service")

#: A snapshot id, or a moment (the snapshot in force then), or None (the newest).
SnapshotRef = int | datetime | None
#: A trend's start: a moment, or a span back from the end (or from the newest snapshot).
Start = datetime | timedelta

SYSTEM_KEYS = ("name", "os", "health_status", "organization", "ip_address", "last_scan_time")
FAILED_PATCH_KEYS = ("patch_name", "bulletin_id", "failed_count", "missing_count", "severity")
VULNERABLE_KEYS = ("name", "os", "health_status", "organization")
DEPLOYMENT_KEYS = ("system_name", "patch_name", "patch_status", "patch_deployed", "status_text")
EXPOSURE_KEYS = ("cve_id", "cvss_score", "cvss_severity")
COMPLIANCE_KEYS = ("check_name", "check_category", "passed", "severity")
TASK_KEYS = ("task_name", "task_status", "scheduled_time", "executed_time")
CHANGE_KEYS = (
    "change",
    "resource_id",
    "resource_name",
    "organisation",
    "patch_id",
    "install_status",
)
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")

R = TypeVar("R", bound=PMPQueryResult)


class SnapshotUnavailable(ValueError):
    """The snapshot asked for does not exist, belongs to another source or never finished."""


class SnapshotDiffResult(PMPQueryResult):
    """What changed between two snapshots: one row per change (``change`` names its kind:
    ``systems_added``, ``systems_retired``, ``newly_missing``, ``newly_installed``), with the
    full ``counts`` per kind (rows may be limited, counts never are)."""

    def __init__(
        self,
        data: list[dict[str, Any]],
        *,
        counts: dict[str, int],
        old_snapshot_id: int | None,
        new_snapshot_id: int | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.counts = counts
        self.old_snapshot_id = old_snapshot_id
        self.new_snapshot_id = new_snapshot_id


class DetailResult(PMPQueryResult):
    """One system or patch: ``data`` is its row at the snapshot (empty if it did not exist
    then), ``history`` every version with its validity range, ``related`` the patch states of
    the system (``system_detail``) or the systems missing the patch (``patch_detail``)."""

    def __init__(
        self,
        data: list[dict[str, Any]],
        *,
        history: list[dict[str, Any]],
        related: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.history = history
        self.related = related


@dataclass(frozen=True, slots=True)
class _Scope:
    """What one call reads: the source, the snapshot (``at``) and the freshness behind it."""

    source_id: int | None
    source_name: str | None
    at: q.At | None
    latest_started: datetime | None
    warning: str | None = None


class PMPIntelligenceService(BaseIntelligenceService):
    """Read-only queries over the unified pmp-intel database.

    Construct from a path (a legacy database *directory* holding ``pmp_intelligence.db``, or
    the database file itself), a SQLAlchemy ``url``, an ``engine``, or ``settings`` (default:
    ``Settings()``, i.e. ``PMP_INTEL_DATABASE_URL``). ``source`` names the PMP server to read
    (default: ``settings.source_name`` when such a source exists, else the only source).

    Every query runs in a read-only transaction and returns a :class:`PMPQueryResult`.
    """

    DEFAULT_DB_PATH = DEFAULT_DATABASE_DIR.expanduser()
    UNIFIED_DB = DEFAULT_DATABASE_FILE
    STALENESS_THRESHOLD_DAYS = STALENESS_THRESHOLD_DAYS

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        url: str | URL | None = None,
        settings: Settings | None = None,
        engine: Engine | None = None,
        source: str | None = None,
    ) -> None:
        if sum(x is not None for x in (db_path, url, engine)) > 1:
            raise ValueError("give one of db_path, url or engine")
        self._settings = settings
        self._owns_engine = engine is None
        if engine is not None:
            self.engine = engine
            self.url = engine.url
        else:
            if db_path is not None:
                parsed = URL.create("sqlite", database=str(self._database_file(Path(db_path))))
            else:
                raw = url if url is not None else (settings or Settings()).database_url
                parsed = parse_database_url(raw)
                path = sqlite_path(parsed)
                if path is not None and not path.exists():
                    raise FileNotFoundError(
                        f"Database not found: {path} (run `pmp-intel extract` to create it)"
                    )
            self.url = parsed
            self.engine = self._create_engine(parsed)
        #: The source read by default: ``source``, else the one ``settings`` name.
        self.source = source if source is not None or settings is None else settings.source_name
        self._preferred_source = self._configured_source() if settings is None else None
        path = sqlite_path(self.url)
        self.database_name = (
            path.name if path is not None else str(self.url.database or self.url.drivername)
        )
        self.db_path = path
        #: Legacy attribute: the databases this service reads (just the unified one).
        self.available_databases = [self.database_name]

    # ----------------------------------------------------------------- construction
    @classmethod
    def _database_file(cls, path: Path) -> Path:
        path = path.expanduser()
        if path.is_dir():
            found = path / cls.UNIFIED_DB
            if not found.is_file():
                raise FileNotFoundError(
                    f"{cls.UNIFIED_DB} not found in database directory {path} "
                    "(import the legacy databases with `pmp-intel migrate-legacy`)"
                )
            return found
        if path.suffix.lower() in SQLITE_SUFFIXES:
            if not path.is_file():
                raise FileNotFoundError(f"Database file not found: {path}")
            return path
        raise FileNotFoundError(f"Database directory not found: {path}")

    @staticmethod
    def _configured_source() -> str | None:
        """``PMP_INTEL_SOURCE`` (default ``default``), preferred when no source is named."""
        try:
            return Settings().source_name
        except Exception:  # an unrelated bad setting must not stop a read-only service
            return None

    @staticmethod
    def _create_engine(url: URL) -> Engine:
        if url.get_backend_name() == "postgresql" and url.drivername.endswith("psycopg"):
            # a second line of defence: every transaction of this engine is read-only
            return create_db_engine(
                url, connect_args={"options": "-c default_transaction_read_only=on"}
            )
        return create_db_engine(url)

    def close(self) -> None:
        """Release the service's connections (an engine passed in is left to its owner)."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> PMPIntelligenceService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"PMPIntelligenceService(url={self.url.render_as_string(hide_password=True)!r}, "
            f"source={self.source!r})"
        )

    # ----------------------------------------------------------------- plumbing
    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection in a read-only transaction (for pandas.read_sql and the like)."""
        with read_only_connection(self.engine) as conn:
            yield conn

    def _source_id(
        self, conn: Connection, source: str | None
    ) -> tuple[int | None, str | None, str | None]:
        """(id, name, warning) of the source to read."""
        try:
            sources = q.source_ids(conn)
        except Exception as exc:  # no schema yet: nothing was ever extracted here
            log.debug("no pmp-intel schema: %s", exc)
            conn.rollback()
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            return None, None, "The database has no pmp-intel schema: nothing extracted yet"
        name = source or self.source
        if name is not None:
            if name in sources:
                return sources[name], name, None
            return None, name, f"No source named {name!r} in this database"
        preferred = self._preferred_source
        if preferred is not None and preferred in sources:
            return sources[preferred], preferred, None
        if len(sources) == 1:
            ((only, only_id),) = sources.items()
            return only_id, only, None
        if not sources:
            return None, None, NO_SNAPSHOT_WARNING
        raise ValueError(
            f"this database holds several sources ({', '.join(sorted(sources))}): "
            "pass source=… to the service or the query"
        )

    def _scope(self, conn: Connection, snapshot: SnapshotRef, source: str | None) -> _Scope:
        source_id, name, warning = self._source_id(conn, source)
        if isinstance(snapshot, int) and not isinstance(snapshot, bool):
            info = q.snapshot_info(conn, snapshot)
            if info is None:
                raise SnapshotUnavailable(f"snapshot {snapshot} does not exist")
            if source is None and self.source is None and info["source_id"] != source_id:
                # a snapshot id names its source
                source_id = int(info["source_id"])
                name = next(n for n, i in q.source_ids(conn).items() if i == source_id)
                warning = None
            elif info["source_id"] != source_id:
                raise SnapshotUnavailable(
                    f"snapshot {snapshot} belongs to another source than {name!r}"
                )
            if info["status"] not in q.FINISHED:
                raise SnapshotUnavailable(
                    f"snapshot {snapshot} is {info['status']}: only complete or partial "
                    "snapshots are merged into history"
                )
        if source_id is None:
            return _Scope(None, name, None, None, warning)
        latest = q.latest_snapshot(conn, source_id)
        if latest is None:
            return _Scope(source_id, name, None, None, NO_SNAPSHOT_WARNING)
        latest_id, latest_started = latest
        if snapshot is None:
            snapshot_id: int | None = latest_id
        elif isinstance(snapshot, datetime):
            snapshot_id = q.snapshot_at_time(conn, source_id, aware(snapshot))
            if snapshot_id is None:
                return _Scope(
                    source_id,
                    name,
                    None,
                    latest_started,
                    f"No snapshot of {name!r} at or before {aware(snapshot).isoformat()}",
                )
        else:
            snapshot_id = int(snapshot)
        assert snapshot_id is not None
        if snapshot_id == latest_id:
            at = q.At(source_id, latest_id, aware(latest_started), True)
        else:
            info = q.snapshot_info(conn, snapshot_id)
            assert info is not None
            at = q.At(source_id, snapshot_id, aware(info["started_at"]), False)
        return _Scope(source_id, name, at, aware(latest_started))

    def _result(
        self,
        scope: _Scope,
        rows: list[dict[str, Any]],
        columns: Sequence[str],
        started: float,
        cls: Callable[..., R] = PMPQueryResult,  # type: ignore[assignment]
        **extra: Any,
    ) -> R:
        """A result whose staleness follows the source's newest snapshot (so a deliberate
        look at an old snapshot is not "stale"), stamped with the snapshot it describes."""
        result = cls(
            rows,
            source_database=self.database_name,
            extraction_timestamp=scope.latest_started,
            query_time_ms=int((time.perf_counter() - started) * 1000),
            snapshot_id=None if scope.at is None else scope.at.snapshot_id,
            source_name=scope.source_name,
            columns=tuple(columns),
            **extra,
        )
        if scope.warning is not None:
            result.is_stale = True
            result.staleness_warning = scope.warning
        if scope.at is not None:
            result.extraction_timestamp = scope.at.started_at
        return result

    def _query(
        self,
        snapshot: SnapshotRef,
        source: str | None,
        columns: Sequence[str],
        run: Callable[[Connection, q.At], list[dict[str, Any]]],
        *,
        missing_ok: bool = False,
    ) -> PMPQueryResult:
        """Run ``run`` at the snapshot. ``missing_ok``: a snapshot that cannot be read gives
        an empty result with a warning (the legacy ``snapshot_id`` arguments did), not an
        error."""
        started = time.perf_counter()
        with self.connection() as conn:
            try:
                scope = self._scope(conn, snapshot, source)
            except SnapshotUnavailable as exc:
                if not missing_ok:
                    raise
                scope = self._unavailable(conn, source, str(exc))
            rows = [] if scope.at is None else run(conn, scope.at)
        return self._result(scope, rows, columns, started)

    def _unavailable(self, conn: Connection, source: str | None, reason: str) -> _Scope:
        """The scope of a query whose snapshot cannot be read: no rows, stale, ``reason``."""
        source_id, name, _ = self._source_id(conn, source)
        latest = None if source_id is None else q.latest_snapshot(conn, source_id)
        started = None if latest is None else aware(latest[1])
        return _Scope(source_id, name, None, started, f"{reason}: no rows")

    # ----------------------------------------------------------------- legacy API
    def get_systems_by_organization(
        self, org_pattern: str, *, snapshot: SnapshotRef = None, source: str | None = None
    ) -> PMPQueryResult:
        """Systems whose name or organisation matches the SQL LIKE ``org_pattern``
        (case-insensitive), by name: ``name, os, health_status, organization, ip_address,
        last_scan_time``."""
        return self._query(
            snapshot,
            source,
            SYSTEM_KEYS,
            lambda conn, at: q.systems_by_organization(conn, at, org_pattern),
        )

    def get_failed_patches(
        self,
        org_pattern: str | None = None,
        os_filter: str | None = None,
        *,
        snapshot: SnapshotRef = None,
        source: str | None = None,
    ) -> PMPQueryResult:
        """Patches that failed on at least one system, most failures first: ``patch_name,
        bulletin_id, failed_count, missing_count, severity``. ``org_pattern`` (LIKE on the
        system's organisation or name) and ``os_filter`` (substring of the OS name, or the
        platform) count only the matching systems."""
        return self._query(
            snapshot,
            source,
            FAILED_PATCH_KEYS,
            lambda conn, at: q.failed_patches(conn, at, org_pattern, os_filter),
        )

    def get_vulnerable_systems(
        self, severity: int = 3, *, snapshot: SnapshotRef = None, source: str | None = None
    ) -> PMPQueryResult:
        """Systems whose health status is ``severity`` or worse (3 = highly vulnerable,
        2 = vulnerable): ``name, os, health_status, organization``."""
        return self._query(
            snapshot,
            source,
            VULNERABLE_KEYS,
            lambda conn, at: q.vulnerable_systems(conn, at, int(severity)),
        )

    def get_patch_deployment_status(
        self, patch_id: str | int, *, snapshot: SnapshotRef = None, source: str | None = None
    ) -> PMPQueryResult:
        """Where a patch stands on every system it applies to: ``system_name, patch_name,
        patch_status, patch_deployed, status_text`` (Installed / Reboot Pending / Not
        Installed), by system name, then patch id.

        ``patch_id``: an ``int`` is PMP's patch id; a string is a substring of the patch name
        or bulletin, as in the legacy service (``"KB5022925"``, ``"5022925"``), and a digit
        string also matches PMP's patch id (a pair matching both is listed once)."""
        return self._query(
            snapshot,
            source,
            DEPLOYMENT_KEYS,
            lambda conn, at: q.patch_deployment_status(conn, at, patch_id),
        )

    def get_latest_snapshot(self, *, source: str | None = None) -> dict[str, Any]:
        """``{snapshot_id, timestamp}`` of the newest merged snapshot (None, None if none)."""
        with self.connection() as conn:
            scope = self._scope(conn, None, source)
        if scope.at is None:
            return {"snapshot_id": None, "timestamp": None}
        return {"snapshot_id": scope.at.snapshot_id, "timestamp": scope.at.started_at}

    def get_vulnerability_exposure(
        self,
        snapshot_id: int | None = None,
        *,
        snapshot: SnapshotRef = None,
        source: str | None = None,
    ) -> PMPQueryResult:
        """CVEs the estate is exposed to (fixed by a patch missing or failed somewhere),
        highest CVSS first: ``cve_id, cvss_score, cvss_severity``.

        A legacy ``snapshot_id`` that cannot be read (missing, another source's, unfinished)
        gives an empty result with a warning; ``snapshot=`` raises ``ValueError``."""
        return self._query(
            snapshot if snapshot is not None else snapshot_id,
            source,
            EXPOSURE_KEYS,
            q.vulnerability_exposure,
            missing_ok=snapshot is None,
        )

    def get_compliance_status(
        self,
        snapshot_id: int | None = None,
        *,
        snapshot: SnapshotRef = None,
        source: str | None = None,
        profile: str | None = None,
    ) -> PMPQueryResult:
        """Essential Eight outcomes of a snapshot in the legacy shape: ``check_name,
        check_category, passed, severity``, CRITICAL → LOW, failed first (docs/service.md
        explains the mapping). A ``snapshot_id`` that cannot be read: empty, with a warning."""
        chosen = profile or _default_profile()
        return self._query(
            snapshot if snapshot is not None else snapshot_id,
            source,
            COMPLIANCE_KEYS,
            lambda conn, at: q.compliance_status(conn, at.snapshot_id, chosen),
            missing_ok=snapshot is None,
        )

    def get_deployment_history(
        self,
        snapshot_id: int | None = None,
        limit: int = 10,
        *,
        snapshot: SnapshotRef = None,
        source: str | None = None,
    ) -> PMPQueryResult:
        """Automated patch deployment tasks, most recently run first: ``task_name,
        task_status, scheduled_time, executed_time``. A ``snapshot_id`` that cannot be read:
        empty, with a warning."""
        return self._query(
            snapshot if snapshot is not None else snapshot_id,
            source,
            TASK_KEYS,
            lambda conn, at: q.deployment_history(conn, at, int(limit)),
            missing_ok=snapshot is None,
        )

    def get_data_freshness_report(self, *, source: str | None = None) -> FreshnessReport:
        """``{database name: FreshnessInfo}`` from the newest merged snapshot's start time;
        no snapshot at all is stale with a warning. A legacy database name
        (``report["pmp_config.db"]``) reads the one entry, with a ``DeprecationWarning``."""
        with self.connection() as conn:
            scope = self._scope(conn, None, source)
            count = 0 if scope.source_id is None else q.record_count(conn, scope.source_id)
        info = freshness_of(scope.latest_started, count)
        if scope.latest_started is None and scope.warning:
            info.warning = scope.warning
        return FreshnessReport({self.database_name: info})

    def is_stale(self, *, source: str | None = None) -> bool:
        """True when the newest snapshot is more than 7 days old, or there is none."""
        return any(i.is_stale for i in self.get_data_freshness_report(source=source).values())

    def query_raw(
        self,
        sql: str,
        params: Sequence[Any] | Mapping[str, Any] | None = (),
        database: str | None = "auto",
        *,
        source: str | None = None,
    ) -> PMPQueryResult:
        """Run one SELECT or WITH statement, read-only, and return its rows as dictionaries.

        ``params``: a sequence for ``?`` placeholders or a mapping for ``:name`` ones (both
        work on SQLite and PostgreSQL). Anything else (writes, several statements, PRAGMA,
        ATTACH, …) raises :class:`~pmp_intel.service.readonly.ReadOnlyViolation`.

        ``database``: ``"auto"`` (or None) or this database's name. A legacy file name
        (``pmp_config.db``, …: :data:`~pmp_intel.service.results.LEGACY_DATABASES`) reads
        this database too, with a ``DeprecationWarning``, and is reported back as the
        result's ``source_database``. A string in place of ``params`` is the legacy
        signature ``query_raw(sql, database="auto")``: it is the database, not parameters.
        """
        if isinstance(params, str):
            if database not in (None, "auto", params):
                raise TypeError(
                    f"query_raw() got two databases, {params!r} and {database!r} (the second "
                    "positional argument is params; a string there is the legacy database)"
                )
            database = params
            params = ()
        reported = self._raw_database(database)
        statement, values = bind_raw(sql, params)
        started = time.perf_counter()
        with self.connection() as conn:
            try:
                scope = self._scope(conn, None, source)
            except ValueError:  # several sources and none chosen: freshness of none
                scope = _Scope(None, None, None, None, "several sources: pass source=")
            result = conn.execute(statement, values)
            columns = tuple(result.keys())
            rows = [dict(zip(columns, row, strict=True)) for row in result]
        out: PMPQueryResult = self._result(scope, rows, columns, started)
        out.snapshot_id = None
        out.source = reported
        return out

    def _raw_database(self, database: object) -> str:
        """The ``source_database`` a raw query on ``database`` reports (ValueError if the
        name is neither this database's, ``"auto"``, nor a legacy one)."""
        if database is None or database in ("auto", self.database_name, self.UNIFIED_DB):
            return self.database_name
        if isinstance(database, str) and database in LEGACY_DATABASES:
            warnings.warn(
                f"query_raw(database={database!r}) is deprecated: the legacy databases were "
                f"imported into {self.database_name!r}, which is what this query reads (its "
                "tables, not the legacy ones: docs/service.md); omit database=",
                DeprecationWarning,
                stacklevel=3,
            )
            return database
        raise ValueError(
            f"unknown database {database!r}: this service reads {self.database_name!r}; "
            f"database= may be 'auto', {self.database_name!r} or a legacy name "
            f"({', '.join(sorted(LEGACY_DATABASES))}), all of which read it"
        )

    def refresh(self, **extractor_options: Any) -> bool:
        """Run one extraction of the source (``pmp-intel extract``). True when the snapshot
        ended complete or partial with its coverage target met; False (logged) on failure.

        ``extractor_options`` go to :class:`~pmp_intel.extract.extractor.Extractor`.
        """
        try:
            from pmp_intel.extract.extractor import Extractor

            settings = self._settings or Settings()
            updates: dict[str, Any] = {
                "database_url": self.url.render_as_string(hide_password=False)
            }
            if self.source is not None:
                updates["source_name"] = self.source
            settings = settings.model_copy(update=updates)
            writer = create_db_engine(settings.database_url)
            try:
                extractor_options.setdefault("trigger", "service")
                result = Extractor(settings, engine=writer, **extractor_options).run()
            finally:
                writer.dispose()
            if not result.ok:
                log.warning(
                    "refresh did not complete: %s (%s)",
                    result.outcome.value,
                    result.error or "see the extraction log",
                )
            return bool(result.ok)
        except Exception as exc:
            log.warning("refresh failed: %s", exc)
            return False

    # ----------------------------------------------------------------- beyond the legacy API
    def metrics(self, *, snapshot: SnapshotRef = None, source: str | None = None) -> PMPQueryResult:
        """Headline metrics of one snapshot (one row; none if its metrics were not computed)."""
        return self._query(
            snapshot,
            source,
            _metric_columns(),
            lambda conn, at: q.headline_metrics(conn, at.source_id, snapshot_id=at.snapshot_id),
        )

    def metrics_trend(
        self, start: Start, end: datetime | None = None, *, source: str | None = None
    ) -> PMPQueryResult:
        """Headline metrics of every snapshot started in ``[start, end]``, oldest first.

        ``start`` may be a ``timedelta``: that long before ``end`` (default: before the newest
        snapshot). ``end`` None means up to the newest snapshot."""
        return self._trend(
            start,
            end,
            source,
            _metric_columns(),
            lambda conn, sid, a, b: q.headline_metrics(conn, sid, start=a, end=b),
        )

    def severity_trend(
        self, start: Start, end: datetime | None = None, *, source: str | None = None
    ) -> PMPQueryResult:
        """Missing and failed pairs (and distinct missing patches) by severity per snapshot."""
        return self._trend(
            start,
            end,
            source,
            ("snapshot_id", "started_at", *q.SEVERITY_COLUMNS),
            q.severity_trend,
        )

    def compliance_trend(
        self,
        start: Start,
        end: datetime | None = None,
        *,
        profile: str | None = None,
        source: str | None = None,
    ) -> PMPQueryResult:
        """Per snapshot and strategy: ``maturity_level`` (ComplianceChecker.trend's rule),
        ``ineffective_controls``, ``violations`` and ``not_yet_due`` at the top level."""
        from pmp_intel.analyse.profiles import get_profile

        chosen = get_profile(profile or _default_profile())
        top = max(chosen.levels)
        return self._trend(
            start,
            end,
            source,
            (
                "snapshot_id",
                "started_at",
                "strategy",
                "maturity_level",
                "ineffective_controls",
                "violations",
                "not_yet_due",
            ),
            lambda conn, sid, a, b: q.compliance_trend(conn, sid, a, b, chosen.name, top),
        )

    def _trend(
        self,
        start: Start,
        end: datetime | None,
        source: str | None,
        columns: Sequence[str],
        run: Callable[[Connection, int, datetime | None, datetime | None], list[dict[str, Any]]],
    ) -> PMPQueryResult:
        began = time.perf_counter()
        with self.connection() as conn:
            scope = self._scope(conn, None, source)
            rows: list[dict[str, Any]] = []
            if scope.at is not None:
                stop = aware(end) if end is not None else None
                if isinstance(start, timedelta):
                    first = (stop or scope.at.started_at) - start
                else:
                    first = aware(start)
                rows = run(conn, scope.at.source_id, first, stop)
        result: PMPQueryResult = self._result(scope, rows, columns, began)
        result.snapshot_id = None
        return result

    def organisation_summary(
        self, *, snapshot: SnapshotRef = None, source: str | None = None
    ) -> PMPQueryResult:
        """Per organisation (branch office): systems by health, systems with missing
        patches, missing / failed / missing-critical pairs."""
        return self._query(
            snapshot,
            source,
            (
                "organisation",
                "systems",
                "healthy",
                "vulnerable",
                "highly_vulnerable",
                "health_unknown",
                "systems_missing_patches",
                "missing_pairs",
                "failed_pairs",
                "missing_critical_pairs",
            ),
            q.organisation_summary,
        )

    def snapshot_diff(
        self,
        old: SnapshotRef = None,
        new: SnapshotRef = None,
        *,
        source: str | None = None,
        limit: int | None = 1000,
    ) -> SnapshotDiffResult:
        """What changed from ``old`` to ``new`` (default: the newest snapshot against the one
        before it): systems added and retired, pairs newly missing and newly installed.
        ``counts`` has every kind's full count; at most ``limit`` rows per kind are listed."""
        began = time.perf_counter()
        counts = dict.fromkeys(
            ("systems_added", "systems_retired", "newly_missing", "newly_installed"), 0
        )
        rows: list[dict[str, Any]] = []
        old_id: int | None = None
        with self.connection() as conn:
            scope = self._scope(conn, new, source)
            if scope.at is not None:
                name = scope.source_name
                if old is None:
                    earlier = q.snapshot_before(conn, scope.at.source_id, scope.at.snapshot_id)
                    old_scope = None if earlier is None else self._scope(conn, earlier, name)
                else:
                    old_scope = self._scope(conn, old, name)
                if old_scope is not None and old_scope.at is not None:
                    old_id = old_scope.at.snapshot_id
                    changes = q.snapshot_changes(
                        conn, scope.at.source_id, old_id, scope.at.snapshot_id, limit
                    )
                    for kind, (count, found) in changes.items():
                        counts[kind] = count
                        rows.extend(
                            {key: ({"change": kind} | r).get(key) for key in CHANGE_KEYS}
                            for r in found
                        )
        return self._result(
            scope,
            rows,
            CHANGE_KEYS,
            began,
            SnapshotDiffResult,
            counts=counts,
            old_snapshot_id=old_id,
            new_snapshot_id=None if scope.at is None else scope.at.snapshot_id,
        )

    def system_detail(
        self, resource_id: int, *, snapshot: SnapshotRef = None, source: str | None = None
    ) -> DetailResult:
        """A system at the snapshot (``data``), every version of it (``history``) and its
        patch states at the snapshot (``related``)."""
        return self._detail(
            snapshot,
            source,
            lambda conn, at: q.system_versions(conn, at.source_id, int(resource_id)),
            lambda conn, at: q.system_patches(conn, at, int(resource_id)),
        )

    def patch_detail(
        self, patch_id: int, *, snapshot: SnapshotRef = None, source: str | None = None
    ) -> DetailResult:
        """A patch at the snapshot (``data``), every version of it (``history``) and the
        systems it is missing or failed on at the snapshot (``related``)."""
        return self._detail(
            snapshot,
            source,
            lambda conn, at: q.patch_versions(conn, at.source_id, int(patch_id)),
            lambda conn, at: q.systems_missing_patch(conn, at, int(patch_id)),
        )

    def _detail(
        self,
        snapshot: SnapshotRef,
        source: str | None,
        versions: Callable[[Connection, q.At], list[dict[str, Any]]],
        related: Callable[[Connection, q.At], list[dict[str, Any]]],
    ) -> DetailResult:
        began = time.perf_counter()
        history: list[dict[str, Any]] = []
        linked: list[dict[str, Any]] = []
        with self.connection() as conn:
            scope = self._scope(conn, snapshot, source)
            if scope.at is not None:
                history = versions(conn, scope.at)
                linked = related(conn, scope.at)
        at = scope.at
        data = [
            v
            for v in history
            if at is not None
            and v["valid_from_snapshot_id"] <= at.snapshot_id
            and (v["valid_to_snapshot_id"] is None or v["valid_to_snapshot_id"] > at.snapshot_id)
        ]
        columns = tuple(history[0]) if history else ()
        return self._result(
            scope, data, columns, began, DetailResult, history=history, related=linked
        )


def _default_profile() -> str:
    from pmp_intel.analyse.profiles import DEFAULT_PROFILE

    return DEFAULT_PROFILE


def _metric_columns() -> tuple[str, ...]:
    return ("snapshot_id", "started_at", *(name for _, name in q.HEADLINE))
