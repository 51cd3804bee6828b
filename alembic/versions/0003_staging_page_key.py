"""Staging tables without the unique (snapshot, endpoint, parent, page, seq) index.

The index made every staged row a second B-tree insert (a third of the time spent staging a
page) only to catch a page written twice, which the page writer now refuses itself: a page
at or below its endpoint's checkpoint is written again only to fill an open gap. The merge
never depended on it (repeated natural keys keep the row written last).

Staging tables hold rows of unfinished snapshots only; on SQLite they are rebuilt (batch
mode), keeping their rows, named CHECK constraints, foreign key and natural-key index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 02:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGING_TABLES = (
    "stg_approval_settings",
    "stg_branch_offices",
    "stg_deployment_policies",
    "stg_deployment_tasks",
    "stg_health_policies",
    "stg_patch_groups",
    "stg_patch_vulnerabilities",
    "stg_patches",
    "stg_som_computers",
    "stg_system_patch_states",
    "stg_systems",
    "stg_view_configurations",
    "stg_vulnerabilities",
)
PAGE_KEY = ("snapshot_id", "endpoint", "parent_key", "page", "seq")


def upgrade() -> None:
    for table in STAGING_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_page_seq", type_="unique")


def downgrade() -> None:
    for table in STAGING_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.create_unique_constraint(f"uq_{table}_page_seq", list(PAGE_KEY))
