"""Fast bulk inserts of many small rows (staging pages, imports).

Values are converted with SQLAlchemy's own bind processors for each column, so what lands in
the database is exactly what a Core ``insert()`` would have written; only the per-row
machinery around them is skipped. PostgreSQL gets ``COPY … FROM STDIN`` (psycopg 3),
everything else the driver's ``executemany``. Both run in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import JSON

Processor = Callable[[Any], Any] | None


def _processors(table: Table, columns: Sequence[str], connection: Connection) -> list[Processor]:
    dialect = connection.dialect
    found: list[Processor] = []
    for name in columns:
        column_type = table.c[name].type.dialect_impl(dialect)
        if dialect.name == "postgresql" and isinstance(column_type, JSON):
            found.append(_json_text)  # COPY takes JSON as text; the server parses it
            continue
        found.append(column_type.bind_processor(dialect))
    return found


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def bulk_insert(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert ``rows`` (every row with the same keys) into ``table``; returns the count."""
    if not rows:
        return 0
    columns = list(rows[0])
    processors = _processors(table, columns, connection)
    pairs = list(zip(columns, processors, strict=True))
    values = [
        tuple(row[name] if process is None or row[name] is None else process(row[name])
              for name, process in pairs)
        for row in rows
    ]
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
    target = connection.dialect.identifier_preparer.format_table(table)
    dbapi = connection.connection.driver_connection
    if connection.dialect.name == "postgresql" and dbapi is not None and hasattr(
        dbapi, "cursor"
    ):
        statement = f"COPY {target} ({quoted}) FROM STDIN"
        try:
            with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
                for value in values:
                    copy.write_row(value)
        except connection.dialect.loaded_dbapi.Error as exc:
            # the same exception classes a Core insert would raise (IntegrityError, …)
            raise DBAPIError.instance(
                statement, None, exc, connection.dialect.loaded_dbapi.Error
            ) from exc
        return len(values)
    marks = ", ".join([_placeholder(connection)] * len(columns))
    connection.exec_driver_sql(f"INSERT INTO {target} ({quoted}) VALUES ({marks})", values)
    return len(values)


def _placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"
