"""The ``pmp-intel`` command line: one module per command group, one error line on failure.

Exit codes (design.md §3): 0 success / complete, 1 fatal, 2 partial or stopped on budget.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import tomllib
from collections.abc import Sequence
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from pmp_intel.__about__ import __version__
from pmp_intel.cli.context import CommandContext, database_error_line, settings_error_line
from pmp_intel.errors import PMPIntelError

#: Command → the module (in this package) that registers it with ``register(subparsers)``.
#: Only the chosen command's module is imported: a cron ``extract`` never loads the demo,
#: the legacy importer or the report renderers.
COMMANDS = {
    "db": "db",
    "extract": "extract",
    "status": "extract",
    "demo": "demo",
    "simulator": "simulator",
    "metrics": "metrics",
    "compliance": "compliance",
    "kev": "kev",
    "migrate-legacy": "legacy",
}
#: Top-level options that take a value (to find the command word in ``argv``).
_VALUE_OPTIONS = frozenset({"--database-url"})


def _command_word(argv: Sequence[str]) -> str | None:
    """The first argument that is not a top-level option or its value."""
    expects_value = False
    for token in argv:
        if expects_value:
            expects_value = False
        elif token in _VALUE_OPTIONS:
            expects_value = True
        elif not token.startswith("-"):
            return token
    return None


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on exit code 1 (fatal: bad configuration), not argparse's
    own 2, which cron reads as "partial, run again" (design.md §3). Its sub-command parsers
    are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command, or only the one ``argv`` names when it names
    a known one."""
    parser = _Parser(
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
    chosen = COMMANDS.get(_command_word(argv) or "") if argv is not None else None
    modules = [chosen] if chosen else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        importlib.import_module(f"pmp_intel.cli.{name}").register(subparsers)
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
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
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
    except tomllib.TOMLDecodeError as exc:  # the message holds a position, no content
        ctx.error(f"invalid configuration: pmp-intel.toml is not valid TOML: {exc}")
        return 1
    except SQLAlchemyError as exc:  # e.g. the disk filled up in the middle of a run
        ctx.error(database_error_line(exc))
        return 1
    except KeyboardInterrupt:
        ctx.error("interrupted")
        return 130
    return result
