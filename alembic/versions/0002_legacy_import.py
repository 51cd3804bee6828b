"""Legacy import.

A data migration: imports the legacy Maia SQLite files it is pointed at
(``alembic -x legacy_dir=PATH upgrade head``, ``PMP_INTEL_LEGACY_DIR``, or
``pmp-intel migrate-legacy --from DIR``) into a source of their own. With nothing pointed
at it does nothing, so fresh installs upgrade cleanly. Its downgrade removes exactly what
imports added: the ``legacy-import`` snapshots (and, by cascade, everything hanging off
them) and the sources the imports created. See docs/legacy-migration.md.

Optional x-arguments: ``legacy_source`` (default ``legacy``), ``legacy_timezone`` (IANA
zone of the old local-time timestamps; default this machine's), ``legacy_archive`` (copy
the originals there with a checksum manifest), ``legacy_report`` (write the JSON report
there).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context, op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _x_arguments() -> dict[str, str]:
    args: dict[str, str] = dict(context.config.attributes.get("x_args", {}))
    args.update(context.get_x_argument(as_dictionary=True))
    return args


def upgrade() -> None:
    from pmp_intel.legacy.revision import run_upgrade

    run_upgrade(op.get_bind(), _x_arguments(), context.config.attributes)


def downgrade() -> None:
    from pmp_intel.legacy.importer import remove_imports

    remove_imports(op.get_bind())
