"""``pmp-intel db upgrade|current|downgrade``: the schema, from the packaged migrations."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pmp_intel.cli.context import CommandContext
from pmp_intel.store.engine import redacted_url

#: Revisions below the legacy import (revision 0002).
_BELOW_IMPORT = (None, "0001")


def register(subparsers: Any) -> None:
    """Add the ``db`` command group."""
    parser = subparsers.add_parser("db", help="create or migrate the unified database")
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    up = actions.add_parser(
        "upgrade",
        help="migrate the database to the newest schema",
        description="Migrate the database to the newest schema. Below revision 0002, the "
        "legacy Maia files in PMP_INTEL_LEGACY_DIR (environment, .env or pmp-intel.toml) are "
        "imported on the way, as `migrate-legacy` imports them, and the report is printed.",
    )
    up.add_argument("revision", nargs="?", default="head")
    up.add_argument(
        "--legacy-timezone",
        default=None,
        metavar="ZONE",
        help="IANA zone of the old tools' local-time timestamps, for the legacy import "
        "(default: this machine's zone)",
    )
    up.set_defaults(handler=upgrade)

    current = actions.add_parser("current", help="print the database's schema revision")
    current.set_defaults(handler=current_revision)

    down = actions.add_parser("downgrade", help="migrate the database down to REVISION")
    down.add_argument("revision", help="target revision, or 'base' to remove every table")
    down.set_defaults(handler=downgrade)


def upgrade(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Migrate to ``args.revision``, importing the configured legacy folder on the way."""
    from pmp_intel.store import migrate

    legacy_dir = ctx.settings.legacy_dir
    x_args: dict[str, str] = {}
    if legacy_dir is not None:
        from pmp_intel.legacy.importer import resolve_zone

        resolve_zone(args.legacy_timezone)  # a bad zone fails before anything is read
        x_args["legacy_dir"] = str(Path(legacy_dir).expanduser())
        if args.legacy_timezone:
            x_args["legacy_timezone"] = args.legacy_timezone
    before = migrate.current_revision(ctx.engine)
    attributes = migrate.upgrade(ctx.engine, args.revision, **x_args)
    after = migrate.current_revision(ctx.engine)
    where = redacted_url(ctx.engine.url)
    report = None
    if legacy_dir is not None:
        from pmp_intel.legacy.revision import REPORT_ATTRIBUTE

        report = attributes.get(REPORT_ATTRIBUTE)
    if report is not None:
        from pmp_intel.legacy.command import print_report

        print_report(ctx, report)
    elif legacy_dir is not None and before not in _BELOW_IMPORT:
        ctx.out.print(
            f"{where}: PMP_INTEL_LEGACY_DIR ({legacy_dir}) not imported: the database is "
            f"past revision 0002, which imports it; `pmp-intel migrate-legacy` imports into a "
            "migrated database (and says so if these files already are)",
            markup=False,
        )
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
