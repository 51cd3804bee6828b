"""``pmp-intel kev import FILE [--replace]``: load a CISA Known Exploited Vulnerabilities
catalogue (the public JSON format) for the compliance checker's "working exploit" test."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pmp_intel.cli.context import CommandContext


def register(subparsers: Any) -> None:
    """Add the ``kev`` command group."""
    parser = subparsers.add_parser("kev", help="manage the CISA KEV catalogue")
    actions = parser.add_subparsers(dest="kev_command", metavar="ACTION", required=True)
    load = actions.add_parser("import", help="import a KEV catalogue JSON file")
    load.add_argument("file", type=Path, help="known_exploited_vulnerabilities.json")
    load.add_argument(
        "--replace",
        action="store_true",
        help="empty the stored catalogue first (default: upsert by CVE)",
    )
    load.set_defaults(handler=import_file)


def import_file(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Import the file; print what changed."""
    from pmp_intel.analyse.kev import import_kev

    result = import_kev(ctx.engine, args.file, replace=args.replace)
    ctx.out.print(
        f"imported {result.entries} KEV entries (catalogue {result.catalog_version or '?'}): "
        f"{result.added} new, {result.updated} updated; {result.total_in_database} in the "
        "database",
        markup=False,
    )
    return 0
