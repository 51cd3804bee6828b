"""Copy mapped scratch tables into the target's history tables.

The scratch rows are rendered into what the target stores by the ``SELECT`` that reads
them (times as UTC text, over-long text cut, integers beyond their column moved to
``extra.legacy_out_of_range``), so no Python touches the values on the way:

* **SQLite target** (a file): the scratch database is attached to the target connection
  and copied with ``INSERT … SELECT`` inside the import's transaction. SQLite cannot
  detach a database while a transaction has read it, so the connection is taken out of
  its pool (:meth:`sqlalchemy.engine.Connection.detach`): it is closed, and the scratch
  database with it, when the caller's block ends.
* **PostgreSQL** (or an in-memory SQLite): the rows are streamed from the scratch database
  (``COPY … FROM STDIN`` on PostgreSQL, the driver's ``executemany`` otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import Integer, SmallInteger, String

from pmp_intel.legacy import sql_values as sv
from pmp_intel.legacy.workspace import Workspace
from pmp_intel.store.types import UTCDateTime

#: The schema name prefix of a scratch database on a SQLite target's connection.
ATTACHED = "pmp_legacy_scratch"
_BOUNDS: dict[type, int] = {SmallInteger: 32_767, Integer: 2_147_483_647}
#: Rows per batch when streaming.
BATCH = 5000


class Transfer:
    """Copies scratch tables into one target connection (None: a dry run, which counts)."""

    def __init__(self, connection: Connection | None, ws: Workspace, number: int = 0) -> None:
        self.connection = connection
        self.ws = ws
        self.alias = f"{ATTACHED}_{number}"
        dialect = connection.dialect.name if connection is not None else "sqlite"
        self.suffix = "+00" if dialect == "postgresql" else ""
        self.attach = dialect == "sqlite" and connection is not None and _file_backed(connection)
        self._attached = False

    def select(
        self, target: Table, columns: Sequence[tuple[str, str]], source: str, head: str = ""
    ) -> str:
        """The rendering ``SELECT`` of ``(target column, scratch expression)`` pairs from
        ``source`` (a scratch table, qualified as needed), its list opening with ``head``.
        Expressions other than column names are computed first, in a materialised step:
        SQLite's parser has a fixed stack, so rendering must not nest around them."""
        prefix = ""
        computed = [(name, expression) for name, expression in columns if "(" in expression]
        if computed:
            listed = ", ".join(f"{expression} AS m_{name}" for name, expression in computed)
            prefix = f"WITH m AS MATERIALIZED (SELECT *, {listed} FROM {source}) "
            source = "m"
            inline = {name for name, _ in computed}
            columns = [(n, f"m_{n}" if n in inline else e) for n, e in columns]
        rendered: list[str] = [head] if head else []
        out_of_range: list[tuple[str, str]] = []
        extra = "NULL"
        for name, expression in columns:
            kind = target.c[name].type
            if name == "extra":
                extra = expression
                continue
            if isinstance(kind, UTCDateTime):
                rendered.append(sv.render_time(expression, self.suffix))
            elif isinstance(kind, String) and kind.length:
                rendered.append(f"substr({expression}, 1, {kind.length})")
            elif type(kind) in _BOUNDS:
                bound = _BOUNDS[type(kind)]
                rendered.append(f"(CASE WHEN abs({expression}) <= {bound} THEN {expression} END)")
                out_of_range.append(
                    (name, f"(CASE WHEN abs({expression}) > {bound} THEN {expression} END)")
                )
            else:
                rendered.append(expression)
        if "extra" in target.c:
            rendered.append(sv.with_notes(extra, [("legacy_out_of_range", out_of_range)]))
        return f"{prefix}SELECT {', '.join(rendered)} FROM {source}"

    def copy(
        self,
        scratch: str,
        target: Table,
        columns: Sequence[tuple[str, str]],
        fixed: dict[str, Any],
        order_by: str,
    ) -> int:
        """Insert every row of the scratch table ``scratch`` into ``target``: ``fixed``
        columns (source, snapshot) plus ``columns``; returns the number of rows."""
        names = [*fixed, *(name for name, _ in columns if name != "extra")]
        if "extra" in target.c:
            names.append("extra")
        if self.connection is None:
            return int(self.ws.scalar(f"SELECT count(*) FROM {scratch}"))
        connection = self.connection
        preparer = connection.dialect.identifier_preparer
        quoted = ", ".join(preparer.quote(n) for n in names)
        table_name = preparer.format_table(target)
        if self.attach:
            self._attach_scratch()
            marks = ", ".join("?" * len(fixed))
            body = self.select(target, columns, f"{self.alias}.{scratch}", head=marks)
            result = connection.exec_driver_sql(
                f"INSERT INTO {table_name} ({quoted}) {body} ORDER BY {order_by}",
                tuple(fixed.values()),
            )
            return int(result.rowcount)
        rows = self.ws.rows(f"{self.select(target, columns, scratch)} ORDER BY {order_by}")
        head = tuple(fixed.values())
        count = 0
        if connection.dialect.name == "postgresql":
            dbapi = connection.connection.driver_connection
            assert dbapi is not None
            statement = f"COPY {table_name} ({quoted}) FROM STDIN"
            try:
                with dbapi.cursor() as cursor, cursor.copy(statement) as stream:
                    for row in rows:
                        stream.write_row(head + row)
                        count += 1
            except connection.dialect.loaded_dbapi.Error as exc:
                raise DBAPIError.instance(
                    statement, None, exc, connection.dialect.loaded_dbapi.Error
                ) from exc
            return count
        marks = ", ".join("?" * len(names))
        statement = f"INSERT INTO {table_name} ({quoted}) VALUES ({marks})"
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(head + row)
            if len(batch) >= BATCH:
                connection.exec_driver_sql(statement, batch)
                count += len(batch)
                batch = []
        if batch:
            connection.exec_driver_sql(statement, batch)
            count += len(batch)
        return count

    def _attach_scratch(self) -> None:
        if self._attached:
            return
        assert self.connection is not None
        self.connection.exec_driver_sql(f"ATTACH DATABASE ? AS {self.alias}", (str(self.ws.path),))
        # the scratch database stays attached (and locked) until the transaction ends:
        # close this connection then instead of pooling it
        self.connection.detach()
        self._attached = True


def _file_backed(connection: Connection) -> bool:
    database = connection.engine.url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in database
