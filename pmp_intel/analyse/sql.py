"""SQL building blocks shared by the calculator and the checker: portable epoch seconds,
per-run temporary tables, transactions on an Engine or a sessionmaker, snapshot lookup."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    insert,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from pmp_intel.analyse.errors import SnapshotNotFoundError
from pmp_intel.store.engine import WRITER_OPTIONS, begin_writing
from pmp_intel.store.history import as_of
from pmp_intel.store.models import Snapshot, SnapshotStatus, Source

#: An Engine or a sessionmaker: what the public classes accept.
Bind = Engine | sessionmaker[Session]

#: Snapshots whose data is merged and worth analysing.
FINISHED = (SnapshotStatus.COMPLETE.value, SnapshotStatus.PARTIAL.value)


class epoch(FunctionElement[float]):
    """Seconds since 1970-01-01 UTC of a stored UTC datetime column, as a float."""

    type = Float()
    inherit_cache = True


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores UTCDateTime as naive UTC text; julianday() parses it.
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch, "postgresql")
def _epoch_postgresql(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return (
        f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"
    )


@compiles(epoch)
def _epoch_default(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


def to_epoch(moment: datetime | None) -> float | None:
    """Seconds since the epoch of an aware datetime (None stays None)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


#: Integer primary keys that alias SQLite's rowid (fast joins) and are BIGINT on PostgreSQL.
_KEY = BigInteger().with_variant(Integer(), "sqlite")


def table_of(model: Any) -> Table:
    """The Core table of a mapped class (typed for insert/delete)."""
    return cast(Table, model.__table__)


def temp_table(name: str, *columns: Column[Any]) -> Table:
    """A TEMPORARY table definition on a private MetaData (created per run)."""
    return Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])


def key_column(name: str) -> Column[Any]:
    """An integer primary-key column for a temporary table."""
    return Column(name, _KEY, primary_key=True, autoincrement=False)


def text_column(name: str) -> Column[Any]:
    """A text column for a temporary table."""
    return Column(name, String(255))


def int_column(name: str) -> Column[Any]:
    """A small integer column for a temporary table."""
    return Column(name, Integer)


def bigint_column(name: str) -> Column[Any]:
    """A nullable 64-bit integer column (ids) for a temporary table."""
    return Column(name, BigInteger)


def float_column(name: str) -> Column[Any]:
    """A float column for a temporary table."""
    return Column(name, Float)


def create_temp(conn: Connection, table: Table, rows: Sequence[dict[str, Any]] = ()) -> None:
    """(Re)create ``table`` as a temporary table in this connection and load ``rows``."""
    drop_temp(conn, table)
    table.create(conn)
    if rows:
        conn.execute(insert(table), list(rows))


def drop_temp(conn: Connection, table: Table) -> None:
    """Drop ``table`` if this connection has it (temporary tables shadow real ones)."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")


def analyze(conn: Connection, *tables: Table) -> None:
    """Give PostgreSQL's planner row counts for freshly filled temporary tables."""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table.name}")


@contextmanager
def transaction(bind: Bind) -> Iterator[Connection]:
    """One transaction on ``bind``: a Connection that commits at the end or rolls back."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            conn.execution_options(**WRITER_OPTIONS)  # BEGIN IMMEDIATE on SQLite
            with conn.begin():
                yield conn
        return
    with bind() as session, session.begin():
        yield begin_writing(session)


def load_snapshot(conn: Connection, snapshot_id: int) -> Snapshot:
    """The snapshot row (detached copy of its columns); one clear error if absent."""
    row = conn.execute(select(Snapshot).where(Snapshot.id == snapshot_id)).scalar_one_or_none()
    if row is None:
        raise SnapshotNotFoundError(f"snapshot {snapshot_id} does not exist")
    return row


def snapshot_row(conn: Connection, snapshot_id: int) -> dict[str, Any]:
    """``id``, ``source_id``, ``status``, ``started_at`` of a snapshot, or a clear error."""
    row = conn.execute(
        select(Snapshot.id, Snapshot.source_id, Snapshot.status, Snapshot.started_at).where(
            Snapshot.id == snapshot_id
        )
    ).one_or_none()
    if row is None:
        raise SnapshotNotFoundError(f"snapshot {snapshot_id} does not exist")
    return dict(row._mapping)


def latest_snapshot_id(conn: Connection, source_name: str) -> int:
    """The newest complete or partial snapshot of the named source (clear error if none)."""
    source_id = conn.execute(
        select(Source.id).where(Source.name == source_name)
    ).scalar_one_or_none()
    if source_id is None:
        raise SnapshotNotFoundError(
            f"no source named {source_name!r} in this database (set PMP_INTEL_SOURCE)"
        )
    snapshot_id = conn.execute(
        select(Snapshot.id)
        .where(Snapshot.source_id == source_id, Snapshot.status.in_(FINISHED))
        .order_by(Snapshot.started_at.desc(), Snapshot.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if snapshot_id is None:
        raise SnapshotNotFoundError(
            f"source {source_name!r} has no complete or partial snapshot yet: run an extraction"
        )
    return int(snapshot_id)


def scan_as_of(table: Any, source_id: int, snapshot_id: int, dialect: str) -> ColumnElement[bool]:
    """:func:`as_of` for passes that read most of a big table. On SQLite the columns are
    wrapped (``col + 0``) so the planner scans the table instead of walking an index that
    matches nearly every row (measured: 2x faster on 4M pairs)."""
    if dialect != "sqlite":
        return as_of(table, source_id, snapshot_id)
    c = table.c
    return and_(
        c.source_id + 0 == source_id,
        c.valid_from_snapshot_id + 0 <= snapshot_id,
        or_(c.valid_to_snapshot_id.is_(None), c.valid_to_snapshot_id + 0 > snapshot_id),
    )


def in_list(column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (values)``, rendered as literals (lists here are short and come from
    configuration, never from users' data)."""
    return column.in_(list(values))
