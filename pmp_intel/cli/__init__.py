"""The ``pmp-intel`` command line: one module per command group, one error line on failure.

Exit codes (design.md §3): 0 success / complete, 1 fatal, 2 partial or stopped on budget.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from pmp_intel.__about__ import __version__
from pmp_intel.cli import compliance, db, demo, extract, kev, legacy, metrics, simulator
from pmp_intel.cli.context import CommandContext, settings_error_line
from pmp_intel.errors import PMPIntelError

#: Command modules; each has ``register(subparsers)``.
COMMANDS = (db, extract, demo, simulator, metrics, compliance, kev, legacy)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="pmp-intel",
        description="Patch Manager Plus estate → one trendable database.",
    )
    parser.add_argument("--version", action="version", version=f"pmp-intel {__version__}")
    parser.add_argument(
        "--database-url",
        dest="database_url",
        help="SQLAlchemy URL of the unified database (default: PMP_INTEL_DATABASE_URL "
        "or ~/.maia/databases/intelligence/pmp_intelligence.db)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def _tune_garbage_collector() -> None:
    """Batch-process tuning for this CLI process (never done by the library itself).

    Extraction keeps tens of thousands of small objects alive per page, which makes CPython
    run full collections again and again over everything imported at start-up. Freezing the
    start-up objects takes them out of those collections, and a larger first-generation
    threshold makes collections rarer; memory stays bounded by the page size.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 1
    _tune_garbage_collector()
    ctx = CommandContext(args)
    try:
        result: int = handler(args, ctx)
    except PMPIntelError as exc:
        ctx.error(str(exc))
        return exc.exit_code
    except ValidationError as exc:
        ctx.error(settings_error_line(exc))
        return 1
    except KeyboardInterrupt:
        ctx.error("interrupted")
        return 130
    return result
