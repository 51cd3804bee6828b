"""Observations of an entity (a system, a patch) in many legacy tables, mapped in SQL and
merged field by field, newest first.

Each legacy table is mapped by one ``INSERT … SELECT`` into a scratch table of
observations: the key, the time it was made, where it came from, the mapped columns and
the record fields no column takes (``extra``). ``raw_data`` JSON is read first and the
table's flattened columns fill what it lacks. Then, per entity, every column takes the value
of the newest observation that has one (ties: the table read later, then the later row),
and ``extra`` merges the same way key by key. An entity seen once is copied as it is, in
SQL; only entities seen several times pass through Python, as sorted tuples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmp_intel.legacy import mapping as mp
from pmp_intel.legacy import sql_values as sv
from pmp_intel.legacy.files import LegacyFile, LegacyTable
from pmp_intel.legacy.report import TableAccount
from pmp_intel.legacy.workspace import Workspace

RAW_COLUMN = "raw_data"
#: Report note on rows whose ``raw_data`` is not a JSON object but that are imported.
RAW_UNREADABLE = "raw_data is not a JSON object: read from the table's columns only"


@dataclass
class Source:
    """One legacy table read as observations."""

    legacy: LegacyFile
    table: LegacyTable
    entry: TableAccount
    #: Reading order: breaks ties between observations made at the same time.
    seq: int
    #: Report entry credited when this table holds an entity's newest observation
    #: (None: the table only fills fields, e.g. patch facts carried by system reports).
    account: int | None


@dataclass
class Reading:
    """How to read one legacy table as observations (all SQL over the table ``t``)."""

    #: The table's JSON column, read first; None when the columns are the record.
    raw: str | None = RAW_COLUMN
    #: Flattened columns that fill what ``raw`` lacks (only those the table has are read).
    flat: Sequence[str] = ()
    #: The columns *are* the record (snapshot family): every column named like a source key
    #: is read, and the others (minus ``ignore``) become ``extra``.
    columns_are_record: bool = False
    #: The entity key, as ``(kind, name)``: ``("raw", key)`` or ``("column", name)``, first
    #: one that is an integer wins.
    key: Sequence[tuple[str, str]] = ()
    #: SQL of the observation time in epoch ms (NULL: oldest); ``{c:name}`` is a column.
    time: str = "NULL"
    #: Record keys never kept in ``extra`` (keys, bookkeeping).
    ignore: frozenset[str] = frozenset()
    #: Further sources per column, tried after the mapping's (SQL over ``t``, ``{c:name}``
    #: a column).
    fallbacks: dict[str, Sequence[str]] = field(default_factory=dict)
    #: ``(condition, reason)`` in order: the first true condition skips the row. Conditions
    #: may use ``{key}`` (the key), ``{ok}`` (raw_data is a JSON object), ``has_raw``
    #: (raw_data is not NULL) and ``key_column`` (the first key column's value).
    skips: Sequence[tuple[str, str]] = ()


class Observations:
    """The observations of one entity kind, in the scratch table ``obs_<name>``."""

    def __init__(self, ws: Workspace, name: str, mapping: mp.FieldMap) -> None:
        self.ws = ws
        self.name = name
        self.mapping = mapping
        self.columns = [column for column, _, _ in mapping]
        self.table = f"obs_{name}"
        self.merged = f"fin_{name}"
        self.sources: list[Source] = []
        fields = ", ".join(sv.identifier(c) for c in self.columns)
        ws.execute(observation_table(self.table, mapping))
        ws.execute(f"CREATE TABLE {self.merged} (key INTEGER, {fields}, extra TEXT)")

    # ------------------------------------------------------------------ mapping

    def add(self, source: Source, reading: Reading) -> None:
        """Map every row of ``source`` into observations (skipped rows keep their reason).

        Rows whose ``raw_data`` is a JSON object are mapped by one statement, the others
        (no or unreadable JSON) by two more that read the columns only: a JSON function
        must never see malformed JSON, and a guard on every call would cost as much as the
        call. An unreadable ``raw_data`` is kept in ``extra.legacy_unparsed`` and the rows
        imported with one are counted in the report's notes. Only the record keys that
        occur in the table are extracted (a census with ``json_each`` first)."""
        self.sources.append(source)
        columns = source.table.columns
        raw = reading.raw if reading.raw and reading.raw in columns else None
        present = self._census(source, raw) if raw else frozenset()
        if raw:
            column = f"t.{sv.identifier(raw)}"
            self.ws.execute(
                self._insert_sql(
                    source,
                    reading,
                    raw,
                    present,
                    where=f"json_valid({column}) AND json_type({column}) = 'object'",
                ),
                legacy=source.legacy,
                table=source.table.name,
            )
            done = f"t.rowid NOT IN (SELECT rid FROM {self.table} WHERE seq = {source.seq})"
            kept = f"SELECT count(*) FROM {self.table} WHERE seq = ? AND skip IS NULL"
            before = int(self.ws.scalar(kept, (source.seq,)))
            for unreadable in (True, False):
                self.ws.execute(
                    self._insert_sql(
                        source,
                        reading,
                        None,
                        frozenset(),
                        has_raw=True,
                        unreadable=unreadable,
                        where=f"{done} AND {'' if unreadable else 'NOT '}{sv.present(column)}",
                    ),
                    legacy=source.legacy,
                    table=source.table.name,
                )
                if unreadable:
                    noted = int(self.ws.scalar(kept, (source.seq,))) - before
                    if noted:
                        source.entry.note(RAW_UNREADABLE, noted)
        else:
            self.ws.execute(
                self._insert_sql(source, reading, None, frozenset()),
                legacy=source.legacy,
                table=source.table.name,
            )
        for reason, count in self.ws.rows(
            f"SELECT skip, count(*) FROM {self.table} WHERE seq = ? AND skip IS NOT NULL "
            "GROUP BY skip ORDER BY skip",
            (source.seq,),
        ):
            source.entry.skip(str(reason), int(count))

    def _census(self, source: Source, raw: str) -> frozenset[str]:
        """The record keys that occur in the table's JSON objects."""
        column = f"t.{sv.identifier(raw)}"
        return frozenset(
            str(row[0])
            for row in self.ws.rows(
                f"SELECT DISTINCT j.key FROM {self.ws.table(source.legacy, source.table.name)} "
                f"AS t, json_each({column}) AS j "
                f"WHERE json_valid({column}) AND json_type({column}) = 'object'",
                legacy=source.legacy,
                table=source.table.name,
            )
        )

    def _insert_sql(
        self,
        source: Source,
        reading: Reading,
        raw: str | None,
        present: frozenset[str],
        *,
        has_raw: bool = False,
        unreadable: bool = False,
        where: str | None = None,
    ) -> str:
        """``INSERT … SELECT`` of observations from the rows of the table ``t`` that
        ``where`` selects (``raw``: its JSON object column, every selected row holding one;
        ``present``: the keys to extract from it; ``unreadable``: the rows hold a JSON
        column that is not an object, kept in ``extra.legacy_unparsed``)."""
        columns = source.table.columns
        raw_sql = f"t.{sv.identifier(raw)}" if raw else None
        key_column = next(
            (name for kind, name in reading.key if kind == "column" and name in columns), None
        )
        has_raw_sql = (
            f"t.{sv.identifier(reading.raw)} IS NOT NULL"
            if has_raw and reading.raw
            else ("1" if raw else "0")
        )
        stage: list[str] = [
            "t.rowid AS rid",
            f"{sv.columns_of(reading.time, columns)} AS t",
            f"{1 if raw else 0} AS ok",
            f"{has_raw_sql} AS has_raw",
            f"t.{sv.identifier(key_column)} AS key_column" if key_column else "NULL AS key_column",
        ]
        stage_names: dict[tuple[str, str], str] = {}

        def staged(kind: str, name: str) -> str:
            """The stage column holding a raw key, a table column or an SQL expression."""
            found = stage_names.get((kind, name))
            if found is None:
                found = stage_names[(kind, name)] = f"s{len(stage_names)}"
                if kind == "raw":
                    stage.append(f"json_extract({raw_sql}, {sv.json_path(name)}) AS {found}")
                elif kind == "column":
                    stage.append(f"t.{sv.identifier(name)} AS {found}")
                else:
                    stage.append(f"{name} AS {found}")
            return found

        flat = set(reading.flat) & columns
        keys_in_map = {key for _, _, keys in self.mapping for key in keys}
        spec: list[tuple[str, mp.Converter, list[str]]] = []
        for column, convert, keys in self.mapping:
            sources = [staged("raw", k) for k in keys if k in present]
            for k in keys:
                if k in columns and (k in flat or reading.columns_are_record):
                    sources.append(staged("column", k))
            sources.extend(
                staged("sql", sv.columns_of(sql, columns))
                for sql in reading.fallbacks.get(column, ())
            )
            spec.append((column, convert, sources))
        mapped = sv.MappedColumns(spec)
        key = sv.coalesce(
            [
                sv.integer(staged(kind, name))
                for kind, name in reading.key
                if (kind == "raw" and name in present) or (kind == "column" and name in columns)
            ]
        )
        if raw:
            removed = sorted((keys_in_map | reading.ignore) & present)
            paths = ", ".join(sv.json_path(k) for k in removed)
            leftovers = f"json_remove({raw_sql}, {paths})" if paths else raw_sql
            stage.append(f"{leftovers} AS leftovers")
        elif reading.columns_are_record:
            kept = sorted(columns - keys_in_map - reading.ignore)
            pairs = [(k, f"t.{sv.identifier(k)}") for k in kept]
            stage.append(f"{sv.json_object_without_nulls(pairs)} AS leftovers")
        else:
            stage.append("NULL AS leftovers")
        more: list[tuple[str, str]] = []
        if unreadable and reading.raw:
            stage.append(f"t.{sv.identifier(reading.raw)} AS raw_text")
            more.append((reading.raw, "raw_text"))
        extra = sv.with_notes("leftovers", mapped.notes(more))
        skip = " ".join(
            f"WHEN {condition.format(key='key', ok='ok')} THEN {sv.literal(reason)}"
            for condition, reason in reading.skips
        )
        skip_sql = f"CASE {skip} END" if skip else "NULL"
        account = "NULL" if source.account is None else str(source.account)
        return (
            f"WITH s AS MATERIALIZED (SELECT {', '.join(stage)} "
            f"FROM {self.ws.table(source.legacy, source.table.name)} AS t"
            f"{' WHERE ' + where if where else ''}), "
            f"k AS MATERIALIZED (SELECT s.*, {key} AS key FROM s) "
            f"INSERT INTO {self.table} SELECT key, coalesce(t, {sv.OLDEST_MS}), "
            f"{source.seq}, rid, {account}, {skip_sql}, {', '.join(mapped.values)}, {extra} "
            "FROM k"
        )

    def absorb(self, table: str) -> None:
        """Add the observations of the scratch table ``table`` (same layout)."""
        self.ws.execute(f"INSERT INTO {self.table} SELECT * FROM {table}")

    # ------------------------------------------------------------------ merging

    def newest(self) -> int | None:
        """The time of the newest observation (epoch ms), if any has one."""
        found = self.ws.scalar(
            f"SELECT max(t) FROM {self.table} WHERE skip IS NULL AND t > {sv.OLDEST_MS}"
        )
        return None if found is None else int(found)

    def merge(self) -> Counter[int]:
        """Merge the observations into ``fin_<name>`` (one row per entity), in SQL; returns,
        per report entry, how many entities its table holds the newest observation of.

        Entities seen once are copied. For the others, the observations are numbered per
        entity, oldest first; per column, the highest number with a value wins; ``extra``
        keeps, per JSON key, the value of the newest observation that has the key."""
        ws = self.ws
        name, obs, fin = self.name, self.table, self.merged
        columns = [sv.identifier(c) for c in self.columns]
        ws.execute(
            f"CREATE TABLE {name}_seen AS SELECT key, count(*) AS n FROM {obs} "
            "WHERE skip IS NULL GROUP BY key"
        )
        ws.execute(f"CREATE UNIQUE INDEX {name}_seen_key ON {name}_seen (key)")
        ws.execute(
            f"INSERT INTO {fin} SELECT o.key, {', '.join('o.' + c for c in columns)}, o.extra "
            f"FROM {obs} AS o JOIN {name}_seen USING (key) WHERE o.skip IS NULL AND n = 1"
        )
        ranked = f"{name}_ranked"
        ws.execute(
            f"CREATE TABLE {ranked} AS SELECT o.*, row_number() OVER (PARTITION BY o.key "
            f"ORDER BY o.t, o.seq, o.rid) AS pos FROM {obs} AS o JOIN {name}_seen USING (key) "
            "WHERE o.skip IS NULL AND n > 1"
        )
        newest = ", ".join(
            f"max(CASE WHEN {c} IS NOT NULL THEN pos END) AS p{i}" for i, c in enumerate(columns)
        )
        ws.execute(f"CREATE TABLE {name}_newest AS SELECT key, {newest} FROM {ranked} GROUP BY key")
        picked = ", ".join(
            f"max(CASE WHEN r.pos = w.p{i} THEN r.{c} END)" for i, c in enumerate(columns)
        )
        # per JSON key, the newest observation's value (the inner GROUP BY keeps it as a
        # plain value and its JSON type; json() restores objects, arrays and booleans)
        value = (
            "CASE type WHEN 'object' THEN json(value) WHEN 'array' THEN json(value) "
            "WHEN 'true' THEN json('true') WHEN 'false' THEN json('false') "
            "WHEN 'null' THEN json('null') ELSE value END"
        )
        extras = (
            f"SELECT key, json_group_object(name, {value}) AS extra FROM ("
            f"SELECT r.key AS key, j.key AS name, j.value AS value, j.type AS type, "
            f"max(r.pos) FROM {ranked} AS r, json_each(r.extra) AS j "
            "WHERE r.extra IS NOT NULL GROUP BY r.key, j.key) GROUP BY key"
        )
        ws.execute(
            f"INSERT INTO {fin} SELECT r.key, {picked}, e.extra FROM {ranked} AS r "
            f"JOIN {name}_newest AS w USING (key) LEFT JOIN ({extras}) AS e USING (key) "
            "GROUP BY r.key"
        )
        winners: Counter[int] = Counter()
        for account, count in ws.rows(
            f"SELECT account, count(*) FROM (SELECT key, account, max(pos) FROM {ranked} "
            "WHERE account IS NOT NULL GROUP BY key) GROUP BY account"
        ):
            winners[int(account)] += int(count)
        for account, count in ws.rows(
            f"SELECT o.account, count(*) FROM {obs} AS o JOIN {name}_seen USING (key) "
            "WHERE o.skip IS NULL AND n = 1 AND o.account IS NOT NULL GROUP BY o.account"
        ):
            winners[int(account)] += int(count)
        for table in (ranked, f"{name}_newest"):
            ws.execute(f"DROP TABLE {table}")
        return winners

    def fill(self, values: Iterable[Sequence[Any]], columns: Sequence[str]) -> None:
        """Fill still-NULL ``columns`` of merged entities from ``values`` (``(key,
        *columns)`` rows, e.g. what the agent inventory knows about the same systems)."""
        listed = ", ".join(sv.identifier(c) for c in columns)
        self.ws.execute(f"CREATE TABLE {self.name}_fill (key INTEGER PRIMARY KEY, {listed})")
        marks = ", ".join("?" * (len(columns) + 1))
        self.ws.db.executemany(f"INSERT INTO {self.name}_fill VALUES ({marks})", values)
        assignments = ", ".join(
            f"{sv.identifier(c)} = coalesce({self.merged}.{sv.identifier(c)}, f.{sv.identifier(c)})"
            for c in columns
        )
        self.ws.execute(
            f"UPDATE {self.merged} SET {assignments} FROM {self.name}_fill AS f "
            f"WHERE f.key = {self.merged}.key"
        )

    def merged_rows(self) -> Iterator[tuple[Any, ...]]:
        """``(key, *columns, extra)`` of every merged entity."""
        return self.ws.rows(f"SELECT * FROM {self.merged} ORDER BY key")


def observation_table(name: str, mapping: mp.FieldMap) -> str:
    """DDL of a scratch table of observations of the columns of ``mapping``."""
    fields = ", ".join(sv.identifier(c) for c, _, _ in mapping)
    return (
        f"CREATE TABLE {name} (key INTEGER, t INTEGER, seq INTEGER, rid INTEGER, "
        f"account INTEGER, skip TEXT, {fields}, extra TEXT)"
    )
