"""Import a folder of legacy Maia SQLite files, then look at them through the service.

    python examples/legacy_import.py ~/.maia/databases/intelligence
    python examples/legacy_import.py /backup/maia --dry-run --report legacy-report.json
    python examples/legacy_import.py /backup/maia --legacy-timezone Australia/Sydney --archive arch

The same import as ``pmp-intel migrate-legacy --from DIR`` (docs/legacy-migration.md), made
with the library: the database (PMP_INTEL_DATABASE_URL) is migrated to the newest schema,
then ``import_legacy`` runs in one transaction. The legacy files are opened read-only and
never changed; with --archive they are copied, with a checksum manifest, after a successful
import; --dry-run only reads and accounts for them (the database is not even opened). Exit 0
when the import succeeded (or, with --dry-run, could succeed) or had already been done; 1
with one error line otherwise, the database unchanged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pmp_intel.db import create_db_engine, redacted_url, upgrade
from pmp_intel.errors import PMPIntelError
from pmp_intel.legacy.archive import archive_originals
from pmp_intel.legacy.importer import DEFAULT_SOURCE, ImportOptions, import_legacy
from pmp_intel.legacy.report import ImportReport
from pmp_intel.service import PMPIntelligenceService
from pmp_intel.settings import Settings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Database: PMP_INTEL_DATABASE_URL (see docs/configuration.md).",
    )
    parser.add_argument("directory", type=Path, help="folder holding the legacy .db files")
    parser.add_argument(
        "--source", default=DEFAULT_SOURCE, help=f"source to import into (default {DEFAULT_SOURCE})"
    )
    parser.add_argument(
        "--legacy-timezone",
        default=None,
        metavar="ZONE",
        help="IANA zone the old tools wrote local times in (default: this machine's)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="read and account for every row; write nothing"
    )
    parser.add_argument("--report", type=Path, default=None, metavar="FILE", help="JSON report")
    parser.add_argument(
        "--archive", type=Path, default=None, metavar="DIR", help="copy the originals here after"
    )
    return parser.parse_args(argv)


def run_import(args: argparse.Namespace, engine_url: str) -> ImportReport:
    """Migrate the database, then import the legacy files in one transaction; with
    --dry-run only read and account for them (the database is not opened)."""
    directory = args.directory.expanduser()
    options = ImportOptions(
        source_name=args.source, timezone=args.legacy_timezone, dry_run=args.dry_run
    )
    if args.dry_run:
        return import_legacy(None, directory, options)
    engine = create_db_engine(engine_url)
    try:
        upgrade(engine)  # revision 0002 without a legacy folder does nothing
        with engine.begin() as connection:  # commits on success, rolls back on an error
            return import_legacy(connection, directory, options)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Import, print the accounting and what the service now sees; the exit code."""
    args = parse_args(argv)
    settings = Settings()
    where = redacted_url(settings.database_url)
    try:
        report = run_import(args, settings.database_url)
        if args.archive is not None and report.outcome == "imported" and not args.dry_run:
            copied = archive_originals(args.directory.expanduser(), args.archive, report)
            print(f"originals copied to {copied}")
    except PMPIntelError as exc:  # bad folder, corrupt or foreign file, conflicting target
        print(f"legacy_import: error: {exc}", file=sys.stderr)
        return 1
    if args.report is not None:
        args.report.write_text(report.to_json(), encoding="utf-8")
    totals = report.totals()
    verb = "would import" if args.dry_run else "imported"
    if report.outcome == "already-imported":
        print(f"{where}: these files were already imported into {report.source_name!r}")
    else:
        print(
            f"{where}: {verb} {totals['read']:,} legacy rows into source "
            f"{report.source_name!r}: {totals['imported']:,} imported, {totals['merged']:,} "
            f"merged, {totals['skipped']:,} skipped; {len(report.snapshot_ids)} snapshots"
            + ("" if report.balanced else " (UNBALANCED accounting: see the report)")
        )
    if args.dry_run or not report.snapshot_ids:
        return 0
    with PMPIntelligenceService(url=settings.database_url, source=report.source_name) as service:
        latest = service.get_latest_snapshot()
        systems = service.get_systems_by_organization("%")
        (freshness,) = service.get_data_freshness_report().values()
    taken = latest["timestamp"]
    print(
        f"service: snapshot {latest['snapshot_id']}"
        + (f" ({taken:%Y-%m-%d %H:%M} UTC)" if taken is not None else "")
        + f", {len(systems.data):,} systems"
        + (f"; {freshness.warning}" if freshness.warning else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
