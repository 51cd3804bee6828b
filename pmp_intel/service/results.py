"""Result objects of the intelligence service, compatible with the legacy Maia classes.

:class:`QueryResult` keeps the fields (and the > 7 days staleness rule) of the old
``claude/tools/collection`` base class; :class:`PMPQueryResult` adds ``source_database`` as
the old PMP service did; :class:`FreshnessInfo` is one entry of a freshness report. All of
them convert to plain dictionaries, and results to pandas DataFrames when pandas is
installed (``pip install 'pmp-intel[pandas]'``).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Days after which data counts as stale (the legacy rule: "more than 7 whole days").
STALENESS_THRESHOLD_DAYS = 7
NO_SNAPSHOT_WARNING = "No snapshot: nothing has been extracted yet (run pmp-intel extract)"
#: The legacy Maia database files (maia-legacy.md §1.0), whose data now lives in the unified
#: database: accepted, with a DeprecationWarning, where the legacy service took a database name.
LEGACY_DATABASES = frozenset(
    {
        "pmp_config.db",
        "pmp_resilient.db",
        "pmp_systemreports.db",
        "pmp_complete_intelligence.db",
        "pmp_patch_systems.db",
    }
)


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone; a naive datetime is taken to be UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def days_old(moment: datetime, now: datetime | None = None) -> int:
    """Whole days between ``moment`` and ``now`` (default: the current time)."""
    now = aware(now) if now is not None else datetime.now(UTC)
    return (now - aware(moment)).days


@dataclass
class QueryResult:
    """Rows of one query with where they came from and how fresh they are.

    The first six fields are the legacy ``QueryResult``'s, in its order. When the
    extraction behind the rows is more than :data:`STALENESS_THRESHOLD_DAYS` whole days old
    (or there is no extraction at all: ``extraction_timestamp`` None), ``is_stale`` is set
    and ``staleness_warning`` explains why, unless the caller already set ``is_stale``.
    """

    data: list[dict[str, Any]]
    source: str
    extraction_timestamp: datetime | None
    is_stale: bool = False
    staleness_warning: str | None = None
    query_time_ms: int = 0
    #: The snapshot the rows describe (None: no snapshot, or the query spans several).
    snapshot_id: int | None = None
    #: The PMP server (``sources.name``) the rows belong to.
    source_name: str | None = None
    #: Column names in order (also for an empty result, so a DataFrame keeps its columns).
    columns: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.columns and self.data:
            self.columns = tuple(self.data[0])
        if self.is_stale:
            return
        if self.extraction_timestamp is None:
            self.is_stale = True
            self.staleness_warning = self.staleness_warning or NO_SNAPSHOT_WARNING
            return
        age = days_old(self.extraction_timestamp)
        if age > STALENESS_THRESHOLD_DAYS:
            self.is_stale = True
            self.staleness_warning = f"Data is {age} days old"

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Iterate over the rows."""
        return iter(self.data)

    def to_dicts(self) -> list[dict[str, Any]]:
        """The rows as new dictionaries (changing them does not change the result)."""
        return [dict(row) for row in self.data]

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (needs the ``pandas`` extra)."""
        try:
            pd = importlib.import_module("pandas")
        except ImportError:
            raise ImportError(
                "to_pandas() needs pandas, which is not installed: pip install 'pmp-intel[pandas]'"
            ) from None
        return pd.DataFrame.from_records(self.to_dicts(), columns=list(self.columns) or None)


class PMPQueryResult(QueryResult):
    """A :class:`QueryResult` naming the database it came from (legacy ``PMPQueryResult``).

    ``PMPQueryResult(data, source_database="pmp_intelligence.db", extraction_timestamp=…)``;
    ``source_database`` wins over ``source``, and reading either gives the same name.
    """

    def __init__(
        self,
        data: list[dict[str, Any]],
        source_database: str | None = None,
        source: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("extraction_timestamp", None)
        super().__init__(data=data, source=source_database or source or "unknown", **kwargs)

    @property
    def source_database(self) -> str:
        """The database the rows came from (same as ``source``)."""
        return self.source


@dataclass
class FreshnessInfo:
    """How fresh one database's data is (one entry of a freshness report).

    Also readable like the legacy v1 dictionaries: ``info["is_stale"]``, ``"warning" in info``.
    """

    last_refresh: datetime | None
    days_old: int
    is_stale: bool
    record_count: int
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dictionary."""
        return asdict(self)

    def __getitem__(self, key: str) -> Any:
        """Dictionary-style access to a field (legacy v1 reports were dictionaries)."""
        if key == "last_extraction":  # the v1 name
            return None if self.last_refresh is None else self.last_refresh.isoformat()
        if key not in self.to_dict():
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` names a field (legacy v1 reports were dictionaries)."""
        return key == "last_extraction" or key in self.to_dict()

    def get(self, key: str, default: Any = None) -> Any:
        """Dictionary-style ``get``."""
        if key not in self:
            return default
        return self[key]


class FreshnessReport(dict[str, FreshnessInfo]):
    """``{database name: FreshnessInfo}``; it holds the one unified database.

    The legacy report had one entry per legacy file: ``report["pmp_config.db"]`` (or
    ``.get``) with a name of :data:`LEGACY_DATABASES` gives the unified entry, with a
    ``DeprecationWarning``. Iteration, ``len`` and ``in`` see the real key only.
    """

    def __missing__(self, key: str) -> FreshnessInfo:
        return self._legacy_entry(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``report[key]``, or ``default`` when there is no such entry."""
        if key in self:
            return dict.__getitem__(self, key)
        try:
            return self._legacy_entry(key)
        except KeyError:
            return default

    def _legacy_entry(self, key: str) -> FreshnessInfo:
        if key in LEGACY_DATABASES and len(self) == 1:
            ((name, info),) = self.items()
            warnings.warn(
                f"the freshness report's {key!r} entry is deprecated: its data was imported "
                f"into {name!r}, whose entry this is",
                DeprecationWarning,
                stacklevel=3,
            )
            return info
        raise KeyError(key)


def freshness_of(last_refresh: datetime | None, record_count: int) -> FreshnessInfo:
    """The freshness entry for data last extracted at ``last_refresh`` (None: never)."""
    if last_refresh is None:
        return FreshnessInfo(None, 0, True, record_count, NO_SNAPSHOT_WARNING)
    age = days_old(last_refresh)
    stale = age > STALENESS_THRESHOLD_DAYS
    return FreshnessInfo(
        aware(last_refresh), age, stale, record_count, f"Data is {age} days old" if stale else None
    )
