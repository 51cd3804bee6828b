"""The work behind ``pmp-intel migrate-legacy`` (kept out of the CLI module so that other
commands do not import Alembic and the importer)."""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from rich.console import Console
from sqlalchemy.exc import DBAPIError, OperationalError

from pmp_intel.cli.context import CommandContext
from pmp_intel.errors import DatabaseError
from pmp_intel.legacy.archive import archive_originals, is_archived
from pmp_intel.legacy.files import discover
from pmp_intel.legacy.importer import (
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


def run_migrate_legacy(args: argparse.Namespace, ctx: CommandContext) -> int:
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
    print_report(ctx, report, as_json=args.json)
    archive = Path(args.archive or DEFAULT_LEGACY_ARCHIVE_DIR)
    if (
        report.outcome in ("imported", "already-imported")
        and not args.dry_run
        and not args.no_archive
        and not is_archived(archive, report)  # e.g. a run killed while it archived
    ):
        where = archive_originals(directory, archive, report)
        if not args.json:
            ctx.out.print(f"originals copied to {where} (manifest: MANIFEST.json)", markup=False)
    return 0


def print_report(ctx: CommandContext, report: ImportReport, *, as_json: bool = False) -> None:
    """Print an import's report: the files, the per-table accounting, warnings and a
    summary line (``as_json``: the JSON report instead)."""
    if as_json:
        ctx.out.print(report.to_json(), markup=False, highlight=False, soft_wrap=True)
        return
    if report.outcome != "already-imported":
        wide = Console(file=ctx.out.file, width=max(ctx.out.width, 180), highlight=False)
        wide.print(report.files_table())
        wide.print(report.rich_table())
        for warning in report.warnings:
            ctx.out.print(f"warning: {warning}", markup=False)
    ctx.out.print(_summary_line(report, redacted_url(ctx.engine.url)), markup=False)


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
