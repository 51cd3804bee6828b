"""The migration report: per legacy table, rows read = imported + merged + skipped."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table


@dataclass
class TableAccount:
    """What became of the rows of one legacy table.

    * ``imported``: the row is the one that now stands for its entity (the newest observation
      of a system, patch, state…), or became a snapshot, summary, check, checkpoint or gap;
    * ``merged``: an older or duplicate observation of an entity another row stands for
      (its fields still fill what the newer rows lack);
    * ``skipped``: not imported, with the reason.

    ``notes`` count rows that were imported but lost something on the way (e.g. a
    ``raw_data`` that is not JSON: only the table's columns were read); the lost values are
    in the rows' ``extra``. They are not part of the identity.
    """

    file: str
    table: str
    shape: str
    read: int = 0
    imported: int = 0
    merged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` rows skipped for ``reason``."""
        self.skipped[reason] += count

    def note(self, what: str, count: int = 1) -> None:
        """Count ``count`` imported rows that ``what`` happened to."""
        self.notes[what] += count

    @property
    def skipped_total(self) -> int:
        """Rows skipped, all reasons."""
        return sum(self.skipped.values())

    @property
    def balanced(self) -> bool:
        """The accounting identity: read = imported + merged + skipped."""
        return self.read == self.imported + self.merged + self.skipped_total

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "file": self.file,
            "table": self.table,
            "shape": self.shape,
            "read": self.read,
            "imported": self.imported,
            "merged": self.merged,
            "skipped": self.skipped_total,
            "skipped_by_reason": dict(sorted(self.skipped.items())),
            "notes": dict(sorted(self.notes.items())),
        }


@dataclass
class ImportReport:
    """Everything an import did (or, in a dry run, would do)."""

    directory: str
    source_name: str
    timezone: str
    dry_run: bool = False
    #: ``imported``, ``already-imported`` (an identical earlier import: nothing done) or
    #: ``nothing`` (no rows in any file).
    outcome: str = "imported"
    files: list[dict[str, Any]] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    tables: list[TableAccount] = field(default_factory=list)
    #: Rows written per target table.
    written: Counter[str] = field(default_factory=Counter)
    snapshot_ids: list[int] = field(default_factory=list)
    source_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def account(self, file: str, table: str, shape: str, read: int) -> TableAccount:
        """Start the account of one table."""
        entry = TableAccount(file, table, shape, read)
        self.tables.append(entry)
        return entry

    @property
    def balanced(self) -> bool:
        """True when every table's rows are accounted for."""
        return all(t.balanced for t in self.tables)

    def totals(self) -> dict[str, int]:
        """Sums over all tables."""
        return {
            "read": sum(t.read for t in self.tables),
            "imported": sum(t.imported for t in self.tables),
            "merged": sum(t.merged for t in self.tables),
            "skipped": sum(t.skipped_total for t in self.tables),
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "directory": self.directory,
            "source": self.source_name,
            "source_id": self.source_id,
            "timezone": self.timezone,
            "dry_run": self.dry_run,
            "outcome": self.outcome,
            "files": self.files,
            "ignored_files": self.ignored_files,
            "tables": [t.as_dict() for t in self.tables],
            "totals": self.totals(),
            "balanced": self.balanced,
            "written": dict(sorted(self.written.items())),
            "snapshot_ids": self.snapshot_ids,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(self.as_dict(), indent=2, default=str)

    def files_table(self) -> Table:
        """The legacy files read, each with its families, rows and status (the two
        databases the old plans call empty are reported as such)."""
        table = Table(title="legacy files")
        for name in ("file", "families", "rows", "bytes", "sha256", "status"):
            justify = "right" if name in ("rows", "bytes") else "left"
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for info in self.files:
            table.add_row(
                str(info["file"]),
                ", ".join(info.get("families") or []) or "-",
                str(info["rows"]),
                str(info["bytes"]),
                str(info["sha256"])[:12] + "…",
                str(info["status"]),
            )
        for name in self.ignored_files:
            table.add_row(name, "-", "-", "-", "-", "not a legacy file name: ignored")
        return table

    def rich_table(self) -> Table:
        """The per-table accounting as a printable table."""
        title = "legacy import" + (" (dry run: nothing written)" if self.dry_run else "")
        table = Table(title=f"{title} — {self.directory}")
        for name in ("file", "table", "shape", "read", "imported", "merged", "skipped", "why"):
            justify = "right" if name in ("read", "imported", "merged", "skipped") else "left"
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        empty = 0
        for entry in self.tables:
            if entry.read == 0:
                empty += 1
                continue
            reasons = "; ".join(
                [
                    *(f"{n} {r}" for r, n in sorted(entry.skipped.items())),
                    *(f"{n} imported, but {r}" for r, n in sorted(entry.notes.items())),
                ]
            )
            table.add_row(
                entry.file,
                entry.table,
                entry.shape,
                str(entry.read),
                str(entry.imported),
                str(entry.merged),
                str(entry.skipped_total),
                reasons,
            )
        totals = self.totals()
        table.add_row(
            "total",
            "",
            "",
            *(str(totals[k]) for k in ("read", "imported", "merged", "skipped")),
            "",
        )
        if empty:
            table.caption = f"{empty} empty legacy tables not shown (listed in the JSON report)"
        return table
