"""``pmp-intel migrate-legacy``: import the old Maia SQLite files (Alembic revision 0002).

The legacy files are inspected (read-only) before the target database is touched, so a
missing, locked, corrupt or foreign file fails with one line and changes nothing. A database
below revision 0002 is upgraded with the folder as the migration's ``legacy_dir``; one
already at 0002 or later runs the same importer in one transaction. After a successful
import the originals are copied to the archive folder with a checksum manifest (never
moved or deleted).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from alembic import command
from rich.console import Console
from sqlalchemy.exc import DBAPIError, OperationalError

from pmp_intel.cli.context import CommandContext
from pmp_intel.errors import DatabaseError
from pmp_intel.legacy.archive import archive_originals
from pmp_intel.legacy.files import discover
from pmp_intel.legacy.importer import (
    DEFAULT_SOURCE,
    ImportOptions,
    import_legacy,
    resolve_zone,
)
from pmp_intel.legacy.report import ImportReport
from pmp_intel.legacy.revision import DISCOVERY_ATTRIBUTE, REPORT_ATTRIBUTE
from pmp_intel.settings import DEFAULT_LEGACY_ARCHIVE_DIR
from pmp_intel.store import migrate
from pmp_intel.store.engine import redacted_url, sqlite_path

#: Revisions below the data migration.
BELOW_IMPORT = (None, "0001")


def register(subparsers: Any) -> None:
    """Add the ``migrate-legacy`` command."""
    parser = subparsers.add_parser(
        "migrate-legacy",
        help="import the legacy Maia SQLite files (pmp_config.db, pmp_resilient.db, "
        "pmp_systemreports.db)",
        description="Import the legacy Maia SQLite files into the unified database. The "
        "originals are opened read-only and never changed.",
    )
    parser.add_argument(
        "--from",
        dest="legacy_dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder holding the legacy files (default: PMP_INTEL_LEGACY_DIR)",
    )
    parser.add_argument(
        "--archive",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"copy the originals here after a successful import (default: "
        f"{DEFAULT_LEGACY_ARCHIVE_DIR})",
    )
    parser.add_argument(
        "--no-archive", action="store_true", help="do not copy the originals after the import"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read and account for every legacy row, write nothing",
    )
    parser.add_argument(
        "--source",
        default=DEFAULT_SOURCE,
        help=f"source (PMP server) the legacy estate is imported into (default: "
        f"{DEFAULT_SOURCE}); must not hold extracted snapshots",
    )
    parser.add_argument(
        "--legacy-timezone",
        default=None,
        metavar="ZONE",
        help="IANA zone of the old tools' local-time timestamps, e.g. Australia/Sydney "
        "(default: this machine's zone)",
    )
    parser.add_argument(
        "--report", type=Path, default=None, metavar="FILE", help="write the JSON report here"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the JSON report instead of the table"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Run the import (or the dry run) and print its report."""
    directory = args.legacy_dir or ctx.settings.legacy_dir
    if directory is None:
        from pmp_intel.legacy.errors import LegacyImportError

        raise LegacyImportError("no legacy folder: give --from DIR or set PMP_INTEL_LEGACY_DIR")
    directory = Path(directory).expanduser()
    resolve_zone(args.legacy_timezone)  # a bad zone fails before anything is read
    engine = ctx.engine
    discovery = discover(directory, exclude=sqlite_path(engine.url))
    options = ImportOptions(
        source_name=args.source, timezone=args.legacy_timezone, dry_run=args.dry_run
    )
    current = migrate.current_revision(engine)
    report: ImportReport | None
    try:
        if args.dry_run:
            if current in BELOW_IMPORT:
                report = import_legacy(None, directory, options, discovery=discovery)
            else:
                with engine.connect() as connection:
                    report = import_legacy(connection, directory, options, discovery=discovery)
                    connection.rollback()
        elif current in BELOW_IMPORT:
            x_args = {
                "legacy_dir": str(directory),
                "legacy_source": args.source,
                **({"legacy_timezone": args.legacy_timezone} if args.legacy_timezone else {}),
            }
            config = migrate.alembic_config(engine, **x_args)
            config.attributes[DISCOVERY_ATTRIBUTE] = discovery
            command.upgrade(config, "head")
            report = config.attributes.get(REPORT_ATTRIBUTE)
        else:
            with engine.begin() as connection:
                report = import_legacy(connection, directory, options, discovery=discovery)
    except (OperationalError, DBAPIError) as exc:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["error"])[0]
        raise DatabaseError(f"cannot use database {redacted_url(engine.url)}: {first}") from None
    assert report is not None
    if args.report is not None:
        args.report.expanduser().write_text(report.to_json())
    if args.json:
        ctx.out.print(report.to_json(), markup=False, highlight=False, soft_wrap=True)
    else:
        if report.outcome != "already-imported":
            wide = Console(file=ctx.out.file, width=max(ctx.out.width, 180), highlight=False)
            wide.print(report.rich_table())
        ctx.out.print(_summary_line(report, redacted_url(engine.url)), markup=False)
    if report.outcome == "imported" and not args.dry_run and not args.no_archive:
        archive = args.archive or DEFAULT_LEGACY_ARCHIVE_DIR
        where = archive_originals(directory, Path(archive), report)
        if not args.json:
            ctx.out.print(f"originals copied to {where} (manifest: MANIFEST.json)", markup=False)
    return 0


def _summary_line(report: ImportReport, where: str) -> str:
    totals = report.totals()
    if report.outcome == "already-imported":
        return (
            f"{where}: these legacy files were already imported into source "
            f"{report.source_name!r} (snapshots {report.snapshot_ids[0]}…"
            f"{report.snapshot_ids[-1]}); nothing to do"
        )
    if report.outcome == "nothing":
        return f"{where}: the legacy files hold no rows; nothing imported"
    verb = "would import" if report.dry_run else "imported"
    return (
        f"{where}: {verb} {totals['read']} legacy rows into source {report.source_name!r} "
        f"({totals['imported']} imported, {totals['merged']} merged as duplicates or older "
        f"observations, {totals['skipped']} skipped) as {len(report.snapshot_ids)} snapshots"
    )
