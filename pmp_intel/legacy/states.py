"""Per-system patch states from ``system_reports``, ``patch_system_mapping`` and
``dcapi_patch_mappings``: duplicates and older observations collapsed to the newest
observation of each (system, patch), all in SQL.

1. **Candidates**: every row's system, patch, install status and time, from the key and
   status columns (``system_reports`` copied them verbatim from the same entry; its
   ``raw_data`` is read only where a column is empty).
2. **Winners**: per (system, patch), the newest candidate with all three; ties go to the
   table read later, then to the later row. The others are *merged*; rows without a
   system, patch or install status are *skipped* with that reason.
3. **States**: the winners' record fields are extracted once into ``stage_<n>``; the
   state columns are mapped from it (``raw_data`` first, then the columns) on the way into
   the target; the patch facts they carry (name, bulletin, severity, vendor, times) become
   observations of their patch, never its ``extra`` (the rest of a report entry describes
   the system's state, not the patch).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pmp_intel.legacy import mapping as mp
from pmp_intel.legacy import sql_values as sv
from pmp_intel.legacy.observations import RAW_UNREADABLE, Source, observation_table
from pmp_intel.legacy.workspace import Workspace

#: Shapes of the state tables.
STATE_SHAPES = frozenset(
    {
        "R.system_reports",
        "B.patch_system_mapping",
        "U.patch_system_mapping",
        "C.dcapi_patch_mappings",
    }
)

#: Record keys of a per-system report that are not kept in the state's ``extra``: keys,
#: status inputs, patch facts (they describe the patch) and bookkeeping.
REPORT_IGNORE = frozenset(
    {
        "resource_id",
        "patch_id",
        "affected_patch_status",
        "patch_status",
        "patch_deployed",
        "bulletin_id",
        "patch_name",
        "severity",
        "severity_name",
        "severity_label",
        "vendor_name",
        "platform",
        "platform_name",
        "patch_released_time",
        "release_date",
        "patch_updated_time",
        "bulletinid",
        "patchname",
        "installation_status",
        "_rowid",
        "extraction_id",
        "extracted_at",
        "mapping_id",
        "snapshot_id",
        "pmp_patch_id",
        "id",
        "raw_data",
        "resource_name",
        "ip_address",
        "branch_office_name",
    }
)

#: The ``system_patch_states`` columns a state table fills.
STATE_COLUMNS = (
    "resource_id",
    "patch_id",
    "install_status",
    "approval_status",
    "deployment_status",
    "install_error_code",
    "installed_time",
    "deploy_remarks",
    "extra",
)
#: Patch facts a report carries, in ``PATCH_MAP`` order.
FACT_COLUMNS = tuple(column for column, _, _ in mp.REPORT_PATCH_MAP)
#: Reading order of the facts: after every table that observes patches itself.
FACT_SEQ = 1_000_000
#: Scratch table of the patch observations the winning report rows make.
FACTS = "fact_patch"


@dataclass
class _StateSource:
    source: Source
    number: int


class States:
    """The state tables of one import, in the scratch tables ``cand``, ``win`` and
    ``fin_state``."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.sources: list[_StateSource] = []
        ws.execute(
            "CREATE TABLE cand (tbl INTEGER, rid INTEGER, resource_id INTEGER, "
            "patch_id INTEGER, status INTEGER, t INTEGER)"
        )
        self.stages: list[_Stage] = []

    # ------------------------------------------------------------------ candidates

    def add(self, source: Source) -> None:
        """Read the candidates of one state table."""
        number = len(self.sources)
        self.sources.append(_StateSource(source, number))
        table = source.table
        columns = table.columns
        assert table.shape is not None
        local = 1 if table.shape.family in ("A", "R") else 0

        def column(name: str) -> str | None:
            return f"t.{sv.identifier(name)}" if name in columns else None

        raw = column("raw_data")
        guarded = f"CASE WHEN json_valid({raw}) THEN {raw} END" if raw else None

        def from_raw(key: str) -> str | None:
            return f"json_extract({guarded}, {sv.json_path(key)})" if guarded else None

        def some(*parts: str | None) -> str:
            return sv.coalesce([p for p in parts if p is not None])

        def convert(to_sql: sv.SqlConverter, expression: str | None) -> str | None:
            return to_sql(expression) if expression is not None else None

        patch_column = "pmp_patch_id" if "pmp_patch_id" in columns else "patch_id"
        resource = some(
            convert(sv.integer, column("resource_id")),
            convert(sv.integer, from_raw("resource_id")),
        )
        patch = some(
            convert(sv.integer, column(patch_column)),
            convert(sv.integer, from_raw("patch_id")),
        )
        status = some(
            convert(sv.install_status, column("patch_status")),
            convert(sv.install_status, column("installation_status")),
            convert(sv.install_status, from_raw("affected_patch_status")),
            convert(sv.install_status, from_raw("patch_status")),
            convert(sv.install_status, from_raw("installation_status")),
            convert(sv.deployment_install_status, from_raw("deployment_status")),
            convert(sv.deployed_install_status, from_raw("patch_deployed")),
            convert(sv.deployed_install_status, column("patch_deployed")),
        )
        when = column("extracted_at")
        time = f"legacy_ms({when}, {local})" if when else "NULL"
        self.ws.execute(
            f"INSERT INTO cand SELECT {number}, t.rowid, {resource}, {patch}, {status}, "
            f"coalesce({time}, {sv.OLDEST_MS}) "
            f"FROM {self.ws.table(source.legacy, table.name)} AS t",
            legacy=source.legacy,
            table=table.name,
        )

    # ------------------------------------------------------------------ winners

    def choose(self) -> None:
        """Pick the newest observation of each (system, patch); account for every row."""
        ws = self.ws
        usable = "resource_id IS NOT NULL AND patch_id IS NOT NULL AND status IS NOT NULL"
        low, high = ws.execute(
            f"SELECT min(t), max(t) FROM cand WHERE {usable} AND t > {sv.OLDEST_MS}"
        ).fetchone()
        span = 1 if low is None else int(high) - int(low) + 2
        table_bits = max(1, (len(self.sources) - 1).bit_length())
        row_bits = max(1, int(ws.scalar("SELECT max(rid) FROM cand") or 1).bit_length())
        if span.bit_length() + table_bits + row_bits <= 62:
            # one GROUP BY over a unique packed rank (time, table, row): the bare columns
            # come from the row holding the maximum
            origin = int(low) - 1 if low is not None else 0
            rank = (
                f"((CASE WHEN t = {sv.OLDEST_MS} THEN 0 ELSE t - {origin} END) "
                f"<< {table_bits + row_bits}) | (tbl << {row_bits}) | rid"
            )
            ws.execute(
                f"CREATE TABLE win AS SELECT tbl, rid, resource_id, patch_id, status, t, "
                f"max({rank}) AS rank FROM cand WHERE {usable} GROUP BY resource_id, patch_id"
            )
        else:  # pragma: no cover - needs a year-long span over millions of rows
            ws.execute(
                "CREATE TABLE win AS SELECT tbl, rid, resource_id, patch_id, status, t FROM ("
                "SELECT *, row_number() OVER (PARTITION BY resource_id, patch_id "
                f"ORDER BY t DESC, tbl DESC, rid DESC) AS rn FROM cand WHERE {usable}) "
                "WHERE rn = 1"
            )
        ws.execute("CREATE INDEX win_rows ON win (tbl, rid)")
        reasons = {
            "r": "no resource_id",
            "p": "no patch_id",
            "s": "no install status (patch_status / deployment fields)",
        }
        for tbl, code, count in ws.rows(
            "SELECT tbl, CASE WHEN resource_id IS NULL THEN 'r' WHEN patch_id IS NULL THEN 'p' "
            f"ELSE 's' END AS why, count(*) FROM cand WHERE NOT ({usable}) "
            "GROUP BY tbl, why ORDER BY tbl, why"
        ):
            self.sources[int(tbl)].source.entry.skip(reasons[str(code)], int(count))
        imported = dict(ws.rows("SELECT tbl, count(*) FROM win GROUP BY tbl"))
        for item in self.sources:
            entry = item.source.entry
            entry.imported = int(imported.get(item.number, 0))
            entry.merged = entry.read - entry.imported - entry.skipped_total
        ws.execute("DROP TABLE cand")

    def newest(self) -> int | None:
        """The time (epoch ms) of the newest state kept, if any has one."""
        found = self.ws.scalar(f"SELECT max(t) FROM win WHERE t > {sv.OLDEST_MS}")
        return None if found is None else int(found)

    # ------------------------------------------------------------------ states and facts

    def finish(self) -> None:
        """Extract the winners' record fields into ``stage_<n>`` (see :meth:`copies` and
        :meth:`facts`)."""
        self.stages = [_Stage(self.ws, item) for item in self.sources]
        for stage in self.stages:
            stage.fill()

    def copies(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Per state table, its stage and the ``system_patch_states`` columns as SQL over it."""
        return [(stage.name, stage.target_columns()) for stage in self.stages]

    def facts(self, ws: Workspace, schema: str) -> None:
        """The patch facts of the winners, as observations of the patches in ``FACTS``
        of ``ws``, which has this scratch database attached (read-only use) as
        ``schema``."""
        ws.execute(observation_table(FACTS, mp.PATCH_MAP))
        for stage in self.stages:
            stage.facts(ws, schema)


class _Stage:
    """The winning rows of one state table with their record fields extracted once
    (``stage_<n>``): the state columns one by one, the patch facts as one JSON array."""

    def __init__(self, ws: Workspace, item: _StateSource) -> None:
        self.ws = ws
        self.item = item
        self.name = f"stage_{item.number}"
        table = item.source.table
        self.columns = table.columns
        self.raw = "raw_data" in self.columns
        self.state_keys = [k for _, _, keys in mp.STATE_MAP for k in keys]
        self.fact_keys = [k for _, _, keys in mp.REPORT_PATCH_MAP for k in keys]
        # a column named like a record key is a source too (after raw_data)
        self.state_columns = [k for k in dict.fromkeys(self.state_keys) if k in self.columns]
        self.fact_columns = [k for k in dict.fromkeys(self.fact_keys) if k in self.columns]

    def _select(self, with_raw: bool) -> str:
        raw = "t.raw_data"
        parts = [
            "w.rid AS rid",
            "w.t AS t",
            "w.resource_id AS resource_id",
            "w.patch_id AS patch_id",
            "w.status AS status",
        ]
        for i, key in enumerate(self.state_keys):
            value = f"json_extract({raw}, {sv.json_path(key)})" if with_raw else "NULL"
            parts.append(f"{value} AS r{i}")
        parts += [f"t.{sv.identifier(c)} AS c_{c}" for c in self.state_columns]
        paths = ", ".join(sv.json_path(k) for k in self.fact_keys)
        parts.append(f"json_extract({raw}, {paths}) AS facts" if with_raw else "NULL AS facts")
        parts += [f"t.{sv.identifier(c)} AS f_{c}" for c in self.fact_columns]
        if with_raw:
            removed = sorted({*self.state_keys, *REPORT_IGNORE})
            paths = ", ".join(sv.json_path(k) for k in removed)
            parts.append(f"json_remove({raw}, {paths}) AS leftovers")
            parts.append("NULL AS raw_text")
        else:
            parts.append("NULL AS leftovers")
            unreadable = f"CASE WHEN {sv.present(raw)} THEN {raw} END" if self.raw else "NULL"
            parts.append(f"{unreadable} AS raw_text")
        source = self.item.source
        return (
            f"SELECT {', '.join(parts)} FROM win AS w JOIN "
            f"{self.ws.table(source.legacy, source.table.name)} AS t ON t.rowid = w.rid "
            f"WHERE w.tbl = {self.item.number}"
        )

    def fill(self) -> None:
        """Extract the record fields of the table's winning rows."""
        legacy, table = self.item.source.legacy, self.item.source.table.name
        if self.raw:
            valid = "json_valid(t.raw_data) AND json_type(t.raw_data) = 'object'"
            self.ws.execute(
                f"CREATE TABLE {self.name} AS {self._select(True)} AND {valid} ORDER BY w.rid",
                legacy=legacy,
                table=table,
            )
            self.ws.execute(
                f"INSERT INTO {self.name} {self._select(False)} AND w.rid NOT IN "
                f"(SELECT rid FROM {self.name})",
                legacy=legacy,
                table=table,
            )
            unreadable = self.ws.scalar(
                f"SELECT count(*) FROM {self.name} WHERE raw_text IS NOT NULL"
            )
            if unreadable:
                self.item.source.entry.note(RAW_UNREADABLE, int(unreadable))
        else:
            self.ws.execute(
                f"CREATE TABLE {self.name} AS {self._select(False)} ORDER BY w.rid",
                legacy=legacy,
                table=table,
            )

    def target_columns(self) -> list[tuple[str, str]]:
        """``system_patch_states`` columns as SQL over this stage: ``raw_data`` first,
        then the table's columns; the install status and keys chosen with the winner."""
        spec: list[tuple[str, mp.Converter, list[str]]] = []
        offset = 0
        for column, convert, keys in mp.STATE_MAP:
            sources = [f"r{offset + i}" for i in range(len(keys))] if self.raw else []
            sources += [f"c_{k}" for k in keys if k in self.state_columns]
            offset += len(keys)
            spec.append((column, convert, sources))
        mapped = sv.MappedColumns(spec)
        table = self.item.source.table
        where = f"{table.file}:{table.name}"
        # leftovers is json_remove()'s compact object: the key is appended as text
        tag = sv.literal(f'"legacy_table":{json.dumps(where)}}}')
        tagged = (
            f"CASE WHEN leftovers IS NULL OR leftovers = '{{}}' THEN '{{' || {tag} "
            f"ELSE substr(leftovers, 1, length(leftovers) - 1) || ',' || {tag} END"
        )
        extra = sv.with_notes(tagged, mapped.notes([("raw_data", "raw_text")]))
        values = dict(zip([c for c, _, _ in mp.STATE_MAP], mapped.values, strict=True))
        return [
            ("resource_id", "resource_id"),
            ("patch_id", "patch_id"),
            ("install_status", "status"),
            *((c, values[c]) for c in STATE_COLUMNS[3:-1]),
            ("extra", extra),
        ]

    def facts(self, ws: Workspace, schema: str) -> None:
        """One patch observation per distinct set of facts the winners carry: the newest
        row of each set stands for it, which gives the per-field result of observing every
        row without converting 100,000 identical copies. Runs on ``ws``, reading this
        stage as ``schema.stage_<n>``."""
        stage_table = f"{schema}.{self.name}"
        fact_table = f"{self.name}_facts"
        grouped = ", ".join(["facts", *(f"f_{c}" for c in self.fact_columns)])
        present = " OR ".join(
            f"{c} IS NOT NULL" for c in ["facts", *(f"f_{c}" for c in self.fact_columns)]
        )
        low, high, rows = ws.execute(
            f"SELECT min(CASE WHEN t > {sv.OLDEST_MS} THEN t END), max(t), max(rid) "
            f"FROM {stage_table}"
        ).fetchone()
        origin = int(low) - 1 if low is not None else 0
        row_bits = max(1, int(rows or 1).bit_length())
        if max(int(high or origin) - origin, 1).bit_length() + row_bits <= 62:
            rank = (
                f"((CASE WHEN t = {sv.OLDEST_MS} THEN 0 ELSE t - {origin} END) << {row_bits}) | rid"
            )
            distinct = (
                f"SELECT patch_id, t, rid, {grouped}, max({rank}) FROM {stage_table} "
                f"WHERE {present} GROUP BY patch_id, {grouped}"
            )
        else:  # pragma: no cover - needs a span of centuries
            distinct = (
                f"SELECT patch_id, t, rid, {grouped} FROM (SELECT *, row_number() OVER "
                f"(PARTITION BY patch_id, {grouped} ORDER BY t DESC, rid DESC) AS rn "
                f"FROM {stage_table} WHERE {present}) WHERE rn = 1"
            )
        ws.execute(f"CREATE TABLE {fact_table} AS {distinct}")
        stage: list[str] = ["patch_id", "t", "rid"]
        spec: list[tuple[str, mp.Converter, list[str]]] = []
        offset = 0
        for column, convert, keys in mp.REPORT_PATCH_MAP:
            sources: list[str] = []
            if self.raw:
                for i in range(len(keys)):
                    name = f"e{offset + i}"
                    stage.append(f"json_extract(facts, '$[{offset + i}]') AS {name}")
                    sources.append(name)
            offset += len(keys)
            sources += [f"f_{k}" for k in keys if k in self.fact_columns]
            spec.append((column, convert, sources))
        stage += [f"f_{c}" for c in self.fact_columns]
        mapped = sv.MappedColumns(spec)
        extra = sv.with_notes("NULL", mapped.notes())
        target = ", ".join(sv.identifier(c) for c in FACT_COLUMNS)
        ws.execute(
            f"WITH s AS MATERIALIZED (SELECT {', '.join(stage)} FROM {fact_table}) "
            f"INSERT INTO {FACTS} (key, t, seq, rid, account, skip, {target}, extra) "
            f"SELECT patch_id, t, {FACT_SEQ + self.item.number}, rid, NULL, NULL, "
            f"{', '.join(mapped.values)}, {extra} FROM s"
        )
        ws.execute(f"DROP TABLE {fact_table}")
