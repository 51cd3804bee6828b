"""The bulk legacy tables, mapped in two scratch databases at once.

Per-system patch states (:mod:`~pmp_intel.legacy.states`) and the observations of systems
and patches (:mod:`~pmp_intel.legacy.observations`) do not depend on each other until the
patch facts of the winning reports join the patch observations. So each is mapped in a
thread of its own, in a scratch database of its own (SQLite releases the GIL while it
works), while the importer writes the snapshots; the states are copied into the target as
soon as they are done, while the systems and patches are merged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any

from pmp_intel.legacy import mapping as mp
from pmp_intel.legacy import sql_values as sv
from pmp_intel.legacy.bulk_tables import PATCH_READINGS, SYSTEM_READINGS
from pmp_intel.legacy.files import LegacyFile
from pmp_intel.legacy.observations import Observations, Source
from pmp_intel.legacy.states import FACTS, States
from pmp_intel.legacy.workspace import Workspace

CVE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)


@dataclass(frozen=True)
class BulkTable:
    """One bulk legacy table: ``state``, ``patch`` or ``system``."""

    kind: str
    source: Source


@dataclass
class Entities:
    """The observations of systems and patches, and the CVE links the snapshot family's
    patches carry (``(patch_id, CVE id)`` → epoch ms of the newest mention)."""

    patches: Observations
    systems: Observations
    cves: dict[tuple[int, str], int | None]


class BulkPipeline:
    """Maps the bulk tables in the background; see the module docstring."""

    def __init__(
        self,
        files: Sequence[LegacyFile],
        zone: tzinfo | None,
        timeout: float,
        tables: Sequence[BulkTable],
        runs: Sequence[tuple[str, int, int]],
    ) -> None:
        self.states_ws = Workspace(files, zone, timeout)
        try:
            self.entities_ws = Workspace(files, zone, timeout)
        except BaseException:
            self.states_ws.close()
            raise
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pmp-legacy")
        self._states: Future[States] = self._pool.submit(self._map_states, tables)
        self._entities: Future[Entities] = self._pool.submit(self._observe, tables, runs)

    # ------------------------------------------------------------------ background jobs

    def _map_states(self, tables: Sequence[BulkTable]) -> States:
        states = States(self.states_ws)
        for table in tables:
            if table.kind == "state":
                states.add(table.source)
        states.choose()
        states.finish()
        return states

    def _observe(
        self, tables: Sequence[BulkTable], runs: Sequence[tuple[str, int, int]]
    ) -> Entities:
        ws = self.entities_ws
        ws.execute("CREATE TABLE legacy_runs (file TEXT, run INTEGER, started_ms INTEGER)")
        ws.db.executemany("INSERT INTO legacy_runs VALUES (?, ?, ?)", runs)
        patches = Observations(ws, "patch", mp.PATCH_MAP)
        systems = Observations(ws, "system", mp.SYSTEM_MAP)
        cves: dict[tuple[int, str], int | None] = {}
        for table in tables:
            source = table.source
            assert source.table.shape is not None
            key = source.table.shape.key
            if table.kind == "patch":
                patches.add(source, PATCH_READINGS[key])
                if key.startswith("B.") and "cve_ids" in source.table.columns:
                    self._cves(source, cves)
            elif table.kind == "system":
                reading = SYSTEM_READINGS[key]
                file = sv.literal(source.legacy.name)
                systems.add(source, replace(reading, time=reading.time.replace("{file}", file)))
        return Entities(patches, systems, cves)

    def _cves(self, source: Source, cves: dict[tuple[int, str], int | None]) -> None:
        """CVE ids of the snapshot family's patches (``cve_ids`` is comma-separated)."""
        ws = self.entities_ws
        for patch_id, text, millis in ws.rows(
            f"SELECT {sv.integer('t.pmp_patch_id')}, t.cve_ids, "
            f"legacy_ms({sv.columns_of('{c:extracted_at}', source.table.columns)}, 0) "
            f"FROM {ws.table(source.legacy, source.table.name)} AS t "
            "WHERE t.cve_ids IS NOT NULL ORDER BY t.rowid",
            legacy=source.legacy,
            table=source.table.name,
        ):
            if patch_id is not None:
                for cve in CVE.findall(str(text)):
                    cves[(int(patch_id), cve.upper())] = millis

    def _merge(self, fill: Sequence[Sequence[Any]], fill_columns: Sequence[str]) -> Counter[int]:
        entities = self._entities.result()
        winners = entities.systems.merge()
        entities.systems.fill(fill, fill_columns)
        states = self._states.result()
        ws = self.entities_ws
        ws.execute("ATTACH DATABASE ? AS states", (str(self.states_ws.path),))
        try:
            states.facts(ws, "states")
        finally:
            ws.execute("DETACH DATABASE states")
        entities.patches.absorb(FACTS)
        winners.update(entities.patches.merge())
        return winners

    # ------------------------------------------------------------------ results

    def states(self) -> States:
        """The per-system patch states, once mapped (in :attr:`states_ws`)."""
        return self._states.result()

    def entities(self) -> Entities:
        """The observations of systems and patches, once mapped (not yet merged)."""
        return self._entities.result()

    def merge(
        self, fill: Sequence[Sequence[Any]], fill_columns: Sequence[str]
    ) -> Future[Counter[int]]:
        """Start merging systems and patches (``fill``: ``(resource_id, *fill_columns)``
        rows filling what the merged systems still lack); the result counts, per report
        entry, the entities whose newest observation it holds."""
        return self._pool.submit(self._merge, fill, fill_columns)

    def newest_ms(self) -> int | None:
        """The time of the newest observation of any bulk table (epoch ms), if any."""
        entities = self.entities()
        times = [self.states().newest(), entities.patches.newest(), entities.systems.newest()]
        known = [t for t in times if t is not None]
        return max(known) if known else None

    def close(self) -> None:
        """Stop what still runs and delete the scratch databases."""
        for ws in (self.states_ws, self.entities_ws):
            ws.db.interrupt()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.states_ws.close()
        self.entities_ws.close()
