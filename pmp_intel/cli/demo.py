"""``pmp-intel demo``: simulator → extraction → metrics → compliance on a local SQLite file.

Until the extractor exists, the demo prepares the demo database and shows its schema state.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from rich.table import Table

from pmp_intel.cli.context import CommandContext
from pmp_intel.store.engine import create_db_engine


def register(subparsers: Any) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser("demo", help="run the whole pipeline against a simulator")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="folder for the demo database (default: a new temporary folder)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Run the demo."""
    from pmp_intel.store import migrate

    workdir: Path = args.workdir or Path(tempfile.mkdtemp(prefix="pmp-intel-demo-"))
    database = workdir / "pmp_intelligence.db"
    engine = create_db_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    table = Table(title="pmp-intel demo database")
    table.add_column("item")
    table.add_column("value")
    table.add_row("database", str(database))
    table.add_row("schema revision", str(migrate.current_revision(engine)))
    table.add_row("mode", oct(database.stat().st_mode & 0o777))
    ctx.out.print(table)
    engine.dispose()
    return 0
