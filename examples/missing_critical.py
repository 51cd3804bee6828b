"""An organisation's missing critical patches: which patches, on how many of its systems.

    python examples/missing_critical.py "Acme%"
    python examples/missing_critical.py acme --snapshot 12 --csv acme-critical.csv

ORGANISATION is a SQL LIKE pattern on the organisation (PMP branch office) name,
case-insensitive; without a wildcard it matches any name containing it. Critical means the
vendor rated the patch critical (severity 4); a pair counts when the patch is missing or
failed on the system. The database is PMP_INTEL_DATABASE_URL (default: the local SQLite
file), read through the read-only PMPIntelligenceService; --source picks the PMP server when
the database holds several. Exit 0 with the list (also when it is empty), 1 when there is no
snapshot to read or the organisation matches nothing.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pmp_intel.service import PMPIntelligenceService

#: The patches missing or failed on the matching organisations' systems at one snapshot
#: (the history tables read as they were at that snapshot: docs/schema.md).
MISSING_CRITICAL = """
SELECT p.patch_id, p.patch_name, p.bulletin_id, p.patch_released_time AS released,
       COUNT(*) AS systems,
       SUM(CASE WHEN st.install_status = 206 THEN 1 ELSE 0 END) AS failed
FROM system_patch_states st
JOIN systems s ON s.source_id = st.source_id AND s.resource_id = st.resource_id
JOIN patches p ON p.source_id = st.source_id AND p.patch_id = st.patch_id
WHERE st.source_id = (SELECT source_id FROM snapshots WHERE id = :snapshot)
  AND st.valid_from_snapshot_id <= :snapshot
  AND (st.valid_to_snapshot_id IS NULL OR st.valid_to_snapshot_id > :snapshot)
  AND s.valid_from_snapshot_id <= :snapshot
  AND (s.valid_to_snapshot_id IS NULL OR s.valid_to_snapshot_id > :snapshot)
  AND p.valid_from_snapshot_id <= :snapshot
  AND (p.valid_to_snapshot_id IS NULL OR p.valid_to_snapshot_id > :snapshot)
  AND st.install_status IN (202, 206)
  AND p.severity = 4
  AND LOWER(COALESCE(s.branch_office_name, '')) LIKE LOWER(:organisation)
GROUP BY p.patch_id, p.patch_name, p.bulletin_id, p.patch_released_time
ORDER BY systems DESC, p.patch_id
"""


def like_pattern(text: str) -> str:
    """``text`` as given when it has a LIKE wildcard, else ``%text%`` (a substring)."""
    return text if ("%" in text or "_" in text) else f"%{text}%"


def like_matches(pattern: str, value: str) -> bool:
    """SQL LIKE (``%`` any run, ``_`` one character), case-insensitive, in Python."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE | re.DOTALL) is not None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Database: PMP_INTEL_DATABASE_URL (see docs/configuration.md).",
    )
    parser.add_argument("organisation", help="LIKE pattern on the organisation name")
    parser.add_argument("--snapshot", type=int, default=None, help="snapshot id (default: newest)")
    parser.add_argument("--source", default=None, help="PMP server (sources.name) to read")
    parser.add_argument("--csv", type=Path, default=None, metavar="FILE", help="also write a CSV")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Print the organisation's missing critical patches; the exit code for scripts."""
    args = parse_args(argv)
    out, err = Console(highlight=False), Console(stderr=True, highlight=False)
    pattern = like_pattern(args.organisation)
    try:
        service = PMPIntelligenceService(source=args.source)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"missing_critical: {exc}", markup=False)
        return 1
    with service:
        try:
            summary = service.organisation_summary(snapshot=args.snapshot, source=args.source)
        except ValueError as exc:  # unknown snapshot, several sources and none chosen
            err.print(f"missing_critical: {exc}", markup=False)
            return 1
        if summary.snapshot_id is None:
            err.print(f"missing_critical: {summary.staleness_warning}", markup=False)
            return 1
        organisations = [r for r in summary.data if like_matches(pattern, r["organisation"])]
        if not organisations:
            err.print(
                f"missing_critical: no organisation matches {args.organisation!r} at "
                f"snapshot {summary.snapshot_id}",
                markup=False,
            )
            return 1
        patches = service.query_raw(
            MISSING_CRITICAL,
            {"snapshot": summary.snapshot_id, "organisation": pattern},
            source=summary.source_name,
        )
    if summary.is_stale:
        err.print(f"warning: {summary.staleness_warning}", markup=False)
    taken = summary.extraction_timestamp
    out.print(
        f"Snapshot {summary.snapshot_id} of {summary.source_name!r}"
        + (f" ({taken:%Y-%m-%d %H:%M} UTC)" if taken is not None else ""),
        markup=False,
    )
    for org in organisations:
        out.print(
            f"  {org['organisation'] or '(no organisation)'}: {org['systems']} systems, "
            f"{org['missing_critical_pairs']} missing critical pairs",
            markup=False,
        )
    out.print(_table(patches.data))
    if args.csv is not None:
        _write_csv(args.csv, patches.data, patches.columns)
        out.print(f"written to {args.csv}", markup=False)
    return 0


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Missing critical patches ({len(rows)})")
    for name, justify in (
        ("patch id", "right"),
        ("patch", "left"),
        ("bulletin", "left"),
        ("released", "left"),
        ("systems", "right"),
        ("of which failed", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            str(row["patch_id"]),
            row["patch_name"] or "",
            row["bulletin_id"] or "",
            str(row["released"] or "")[:10],
            str(row["systems"]),
            str(row["failed"]),
        )
    return table


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
