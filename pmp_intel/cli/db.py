"""``pmp-intel db upgrade|current|downgrade``: the schema, from the packaged migrations."""

from __future__ import annotations

import argparse
from typing import Any

from pmp_intel.cli.context import CommandContext
from pmp_intel.store.engine import redacted_url


def register(subparsers: Any) -> None:
    """Add the ``db`` command group."""
    parser = subparsers.add_parser("db", help="create or migrate the unified database")
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    up = actions.add_parser("upgrade", help="migrate the database to the newest schema")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=upgrade)

    current = actions.add_parser("current", help="print the database's schema revision")
    current.set_defaults(handler=current_revision)

    down = actions.add_parser("downgrade", help="migrate the database down to REVISION")
    down.add_argument("revision", help="target revision, or 'base' to remove every table")
    down.set_defaults(handler=downgrade)


def upgrade(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Migrate to ``args.revision``."""
    from pmp_intel.store import migrate

    before = migrate.current_revision(ctx.engine)
    migrate.upgrade(ctx.engine, args.revision)
    after = migrate.current_revision(ctx.engine)
    where = redacted_url(ctx.engine.url)
    if before == after:
        ctx.out.print(f"{where}: already at revision {after}", markup=False)
    else:
        ctx.out.print(f"{where}: upgraded {before or 'empty'} → {after}", markup=False)
    return 0


def current_revision(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the current and head revisions; exit 2 when the database is behind."""
    from pmp_intel.store import migrate

    current = migrate.current_revision(ctx.engine)
    head = migrate.head_revision()
    state = "up to date" if current == head else f"behind (head is {head})"
    ctx.out.print(f"{redacted_url(ctx.engine.url)}: {current or 'empty'} — {state}", markup=False)
    return 0 if current == head else 2


def downgrade(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Migrate down to ``args.revision``."""
    from pmp_intel.store import migrate

    migrate.downgrade(ctx.engine, args.revision)
    ctx.out.print(
        f"{redacted_url(ctx.engine.url)}: now at {migrate.current_revision(ctx.engine) or 'base'}",
        markup=False,
    )
    return 0
