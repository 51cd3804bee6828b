"""Fast bulk inserts of many small rows (staging pages, imports).

Values are converted with SQLAlchemy's own bind processors for each column, so what lands in
the database is exactly what a Core ``insert()`` would have written; only the per-row
machinery around them is skipped, and None is always SQL NULL (a Core insert writes JSON
``null`` for a JSON column). PostgreSQL gets ``COPY … FROM STDIN`` (psycopg 3),
everything else the driver's ``executemany``. Both run in the caller's transaction.

:class:`BulkInsert` is prepared once per table and column order and takes rows as lists;
only the columns whose type has a bind processor are touched, in place. :func:`bulk_insert`
takes mappings, for callers that build rows as dictionaries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import JSON

from pmp_intel.store.types import UTCDateTime, as_utc

Processor = Callable[[Any], Any]

__all__ = ["BulkInsert", "bulk_insert"]


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _sqlite_utc_text(value: datetime) -> str:
    """:class:`UTCDateTime` on SQLite in one step: the text its own two processors write
    (naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``); naive input is refused just the same."""
    if value.tzinfo is UTC:  # the common case: drop the "+00:00" rather than the tzinfo
        return value.isoformat(" ", "microseconds")[:26]
    return as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def column_processor(table: Table, name: str, dialect: Dialect) -> Processor | None:
    """How a value of column ``name`` is converted for the driver (None: as it is)."""
    declared = table.c[name].type
    if dialect.name == "sqlite" and isinstance(declared, UTCDateTime):
        return _sqlite_utc_text
    column_type = declared.dialect_impl(dialect)
    if dialect.name == "postgresql" and isinstance(column_type, JSON):
        return _json_text  # COPY takes JSON as text; the server parses it
    processor: Processor | None = column_type.bind_processor(dialect)
    return processor


class BulkInsert:
    """An insert of rows given as lists in ``columns`` order, prepared for one dialect."""

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.dialect = dialect
        #: (position, processor) of the columns that need converting.
        self.conversions = tuple(
            (i, p)
            for i, p in enumerate(column_processor(table, c, dialect) for c in self.columns)
            if p is not None
        )
        prepare = dialect.identifier_preparer
        quoted = ", ".join(prepare.quote(c) for c in self.columns)
        target = prepare.format_table(table)
        self.copy_statement = f"COPY {target} ({quoted}) FROM STDIN"
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        marks = ", ".join([mark] * len(self.columns))
        self.insert_statement = f"INSERT INTO {target} ({quoted}) VALUES ({marks})"

    def convert(self, rows: Sequence[list[Any]]) -> None:
        """Convert ``rows`` for the driver, in place."""
        conversions = self.conversions
        if not conversions:
            return
        for row in rows:
            for position, process in conversions:
                value = row[position]
                if value is not None:
                    row[position] = process(value)

    def execute(self, connection: Connection, rows: Sequence[list[Any]]) -> int:
        """Convert and insert ``rows`` in the connection's transaction; returns the count."""
        if not rows:
            return 0
        self.convert(rows)
        dbapi = connection.connection.driver_connection
        if self.dialect.name == "postgresql" and dbapi is not None and hasattr(dbapi, "cursor"):
            try:
                with dbapi.cursor() as cursor, cursor.copy(self.copy_statement) as copy:
                    for row in rows:
                        copy.write_row(row)
            except connection.dialect.loaded_dbapi.Error as exc:
                # the same exception classes a Core insert would raise (IntegrityError, …)
                raise DBAPIError.instance(
                    self.copy_statement, None, exc, connection.dialect.loaded_dbapi.Error
                ) from exc
            return len(rows)
        # SQLAlchemy takes executemany parameters as tuples
        connection.exec_driver_sql(self.insert_statement, [tuple(row) for row in rows])
        return len(rows)


def bulk_insert(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert ``rows`` (every row with the same keys) into ``table``; returns the count."""
    if not rows:
        return 0
    columns = list(rows[0])
    insert = BulkInsert(table, columns, connection.dialect)
    return insert.execute(connection, [[row[c] for c in columns] for row in rows])
