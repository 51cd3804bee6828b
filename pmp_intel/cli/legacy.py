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

from pmp_intel.cli.context import CommandContext
from pmp_intel.legacy.importer import DEFAULT_SOURCE
from pmp_intel.settings import DEFAULT_LEGACY_ARCHIVE_DIR


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
    """Import the legacy files (the work lives in pmp_intel.legacy.command)."""
    from pmp_intel.legacy.command import run_migrate_legacy

    return run_migrate_legacy(args, ctx)
