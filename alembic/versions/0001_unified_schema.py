"""Unified schema.

Sources, snapshots, history and staging tables, metrics, compliance, extraction
checkpoints, gaps, endpoint runs and locks.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 12:29:50.774771
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('known_exploited_vulnerabilities',
    sa.Column('cve_id', sa.String(length=32), nullable=False),
    sa.Column('vendor_project', sa.String(length=255), nullable=True),
    sa.Column('product', sa.String(length=255), nullable=True),
    sa.Column('vulnerability_name', sa.Text(), nullable=True),
    sa.Column('date_added', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('known_ransomware_use', sa.Boolean(), nullable=True),
    sa.Column('catalog_version', sa.String(length=64), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("cve_id <> ''", name=op.f('ck_known_exploited_vulnerabilities_cve_id_not_empty')),
    sa.PrimaryKeyConstraint('cve_id', name=op.f('pk_known_exploited_vulnerabilities'))
    )
    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('base_url', sa.String(length=512), nullable=True),
    sa.Column('edition', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sources_name'))
    )
    op.create_table('snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('coverage_pct', sa.Float(), nullable=True),
    sa.Column('systems_reported', sa.Integer(), nullable=True),
    sa.Column('systems_extracted', sa.Integer(), nullable=True),
    sa.Column('records_extracted', sa.BigInteger(), nullable=False),
    sa.Column('requests_made', sa.Integer(), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('api_version', sa.String(length=8), nullable=True),
    sa.Column('pmp_intel_version', sa.String(length=32), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint("status IS NULL OR status IN ('in_progress', 'complete', 'partial', 'failed')", name=op.f('ck_snapshots_status_domain')),
    sa.CheckConstraint("trigger IS NULL OR trigger IN ('cron', 'manual', 'legacy-import', 'service', 'demo')", name=op.f('ck_snapshots_trigger_domain')),
    sa.CheckConstraint('coverage_pct IS NULL OR (coverage_pct >= 0 AND coverage_pct <= 100)', name=op.f('ck_snapshots_coverage_range')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_snapshots_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshots'))
    )
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_snapshots_source_started', ['source_id', 'started_at'], unique=False)
        batch_op.create_index('ix_snapshots_source_status', ['source_id', 'status'], unique=False)
        batch_op.create_index('uq_snapshots_open', ['source_id'], unique=True, sqlite_where=sa.text("status = 'in_progress'"), postgresql_where=sa.text("status = 'in_progress'"))

    op.create_table('approval_settings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('patch_approval', sa.String(length=16), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint("patch_approval IS NULL OR patch_approval IN ('automatic', 'manual')", name=op.f('ck_approval_settings_patch_approval_domain')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_approval_settings_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_approval_settings_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_approval_settings_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_settings')),
    sa.UniqueConstraint('source_id', 'valid_from_snapshot_id', name='uq_approval_settings_version')
    )
    with op.batch_alter_table('approval_settings', schema=None) as batch_op:
        batch_op.create_index('ix_approval_settings_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_approval_settings_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_approval_settings_current', ['source_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('branch_offices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('branch_office_id', sa.BigInteger(), nullable=False),
    sa.Column('branch_office_name', sa.String(length=255), nullable=True),
    sa.Column('customer_id', sa.BigInteger(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_branch_offices_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_branch_offices_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_branch_offices_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branch_offices')),
    sa.UniqueConstraint('source_id', 'branch_office_id', 'valid_from_snapshot_id', name='uq_branch_offices_version')
    )
    with op.batch_alter_table('branch_offices', schema=None) as batch_op:
        batch_op.create_index('ix_branch_offices_source_id_branch_office_name', ['source_id', 'branch_office_name'], unique=False)
        batch_op.create_index('ix_branch_offices_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_branch_offices_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_branch_offices_current', ['source_id', 'branch_office_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('compliance_checks',
    sa.Column('profile', sa.String(length=32), nullable=False),
    sa.Column('strategy', sa.String(length=32), nullable=False),
    sa.Column('maturity_level', sa.SmallInteger(), nullable=False),
    sa.Column('control_id', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('systems_in_scope', sa.Integer(), nullable=False),
    sa.Column('pairs_in_scope', sa.Integer(), nullable=False),
    sa.Column('violations', sa.Integer(), nullable=False),
    sa.Column('not_yet_due', sa.Integer(), nullable=False),
    sa.Column('pct_compliant', sa.Float(), nullable=True),
    sa.Column('oldest_overdue_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('effective', 'ineffective', 'no_visibility', 'not_applicable', 'not_assessed')", name=op.f('ck_compliance_checks_outcome_domain')),
    sa.CheckConstraint("strategy IS NULL OR strategy IN ('patch_applications', 'patch_operating_systems')", name=op.f('ck_compliance_checks_strategy_domain')),
    sa.CheckConstraint('maturity_level IS NULL OR maturity_level IN (1, 2, 3)', name=op.f('ck_compliance_checks_maturity_level_domain')),
    sa.CheckConstraint('pct_compliant IS NULL OR (pct_compliant >= 0 AND pct_compliant <= 100)', name=op.f('ck_compliance_checks_pct_range')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_compliance_checks_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_checks')),
    sa.UniqueConstraint('snapshot_id', 'profile', 'strategy', 'maturity_level', 'control_id', name='uq_compliance_checks_control')
    )
    with op.batch_alter_table('compliance_checks', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_checks_outcome', ['snapshot_id', 'outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_checks_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('deployment_policies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('template_id', sa.BigInteger(), nullable=False),
    sa.Column('template_name', sa.String(length=255), nullable=True),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('customer_id', sa.BigInteger(), nullable=True),
    sa.Column('creation_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_template_alive', sa.Boolean(), nullable=True),
    sa.Column('set_as_default', sa.Boolean(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_deployment_policies_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_deployment_policies_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_deployment_policies_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployment_policies')),
    sa.UniqueConstraint('source_id', 'template_id', 'valid_from_snapshot_id', name='uq_deployment_policies_version')
    )
    with op.batch_alter_table('deployment_policies', schema=None) as batch_op:
        batch_op.create_index('ix_deployment_policies_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_deployment_policies_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_deployment_policies_current', ['source_id', 'template_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('deployment_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('task_id', sa.BigInteger(), nullable=False),
    sa.Column('task_name', sa.String(length=255), nullable=True),
    sa.Column('task_type', sa.SmallInteger(), nullable=True),
    sa.Column('collection_id', sa.BigInteger(), nullable=True),
    sa.Column('collection_status', sa.SmallInteger(), nullable=True),
    sa.Column('os_platform_id', sa.SmallInteger(), nullable=True),
    sa.Column('os_platform_name', sa.String(length=64), nullable=True),
    sa.Column('total_target', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.BigInteger(), nullable=True),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('task_creation_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('task_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_deployment_tasks_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_deployment_tasks_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_deployment_tasks_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployment_tasks')),
    sa.UniqueConstraint('source_id', 'task_id', 'valid_from_snapshot_id', name='uq_deployment_tasks_version')
    )
    with op.batch_alter_table('deployment_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_deployment_tasks_source_id_task_modified_time', ['source_id', 'task_modified_time'], unique=False)
        batch_op.create_index('ix_deployment_tasks_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_deployment_tasks_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_deployment_tasks_current', ['source_id', 'task_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('endpoint_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.BigInteger(), nullable=False),
    sa.Column('total_reported', sa.Integer(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('records', sa.BigInteger(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('gaps', sa.Integer(), nullable=False),
    sa.Column('invalid_records', sa.Integer(), nullable=False),
    sa.Column('error_type', sa.String(length=32), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.CheckConstraint("status IS NULL OR status IN ('running', 'complete', 'partial', 'failed', 'skipped', 'unsupported')", name=op.f('ck_endpoint_runs_status_domain')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_endpoint_runs_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endpoint_runs')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', name=op.f('uq_endpoint_runs_snapshot_id_endpoint'))
    )
    op.create_table('extraction_checkpoints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('last_page', sa.Integer(), nullable=False),
    sa.Column('page_limit', sa.Integer(), nullable=True),
    sa.Column('total_reported', sa.Integer(), nullable=True),
    sa.Column('records_extracted', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('last_page >= 0', name=op.f('ck_extraction_checkpoints_last_page_non_negative')),
    sa.CheckConstraint('records_extracted >= 0', name=op.f('ck_extraction_checkpoints_records_non_negative')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_extraction_checkpoints_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extraction_checkpoints')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', name=op.f('uq_extraction_checkpoints_snapshot_id_endpoint_parent_key'))
    )
    op.create_table('extraction_gaps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('error_type', sa.String(length=32), nullable=False),
    sa.Column('http_status', sa.SmallInteger(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('response_sample', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_in_snapshot_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("status IS NULL OR status IN ('open', 'closed', 'abandoned')", name=op.f('ck_extraction_gaps_status_domain')),
    sa.ForeignKeyConstraint(['closed_in_snapshot_id'], ['snapshots.id'], name=op.f('fk_extraction_gaps_closed_in_snapshot_id_snapshots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_extraction_gaps_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_extraction_gaps_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extraction_gaps')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', name=op.f('uq_extraction_gaps_snapshot_id_endpoint_parent_key_page'))
    )
    with op.batch_alter_table('extraction_gaps', schema=None) as batch_op:
        batch_op.create_index('ix_extraction_gaps_snapshot', ['snapshot_id'], unique=False)
        batch_op.create_index('ix_extraction_gaps_source_status', ['source_id', 'status'], unique=False)

    op.create_table('extraction_locks',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_extraction_locks_snapshot_id_snapshots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_extraction_locks_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', name=op.f('pk_extraction_locks'))
    )
    op.create_table('health_policies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('vulnerable_critical', sa.Integer(), nullable=True),
    sa.Column('vulnerable_important', sa.Integer(), nullable=True),
    sa.Column('vulnerable_moderate', sa.Integer(), nullable=True),
    sa.Column('vulnerable_low', sa.Integer(), nullable=True),
    sa.Column('highly_vulnerable_critical', sa.Integer(), nullable=True),
    sa.Column('highly_vulnerable_important', sa.Integer(), nullable=True),
    sa.Column('highly_vulnerable_moderate', sa.Integer(), nullable=True),
    sa.Column('highly_vulnerable_low', sa.Integer(), nullable=True),
    sa.Column('consider_only_approved_patches', sa.Boolean(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_health_policies_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_health_policies_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_health_policies_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_policies')),
    sa.UniqueConstraint('source_id', 'valid_from_snapshot_id', name='uq_health_policies_version')
    )
    with op.batch_alter_table('health_policies', schema=None) as batch_op:
        batch_op.create_index('ix_health_policies_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_health_policies_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_health_policies_current', ['source_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('patch_groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('group_id', sa.BigInteger(), nullable=False),
    sa.Column('group_name', sa.String(length=255), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_patch_groups_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_patch_groups_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_patch_groups_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patch_groups')),
    sa.UniqueConstraint('source_id', 'group_id', 'valid_from_snapshot_id', name='uq_patch_groups_version')
    )
    with op.batch_alter_table('patch_groups', schema=None) as batch_op:
        batch_op.create_index('ix_patch_groups_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_patch_groups_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_patch_groups_current', ['source_id', 'group_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('patch_metrics',
    sa.Column('applicable_pairs', sa.Integer(), nullable=False),
    sa.Column('installed_pairs', sa.Integer(), nullable=False),
    sa.Column('missing_pairs', sa.Integer(), nullable=False),
    sa.Column('failed_pairs', sa.Integer(), nullable=False),
    sa.Column('applicable_patches', sa.Integer(), nullable=False),
    sa.Column('installed_patches', sa.Integer(), nullable=False),
    sa.Column('missing_patches', sa.Integer(), nullable=False),
    sa.Column('failed_patches', sa.Integer(), nullable=False),
    sa.Column('systems', sa.Integer(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_value', sa.String(length=255), nullable=False),
    sa.CheckConstraint("scope IS NULL OR scope IN ('total', 'category', 'platform', 'security', 'organisation', 'os', 'cve')", name=op.f('ck_patch_metrics_scope_domain')),
    sa.CheckConstraint('applicable_pairs = installed_pairs + missing_pairs + failed_pairs', name=op.f('ck_patch_metrics_pairs_sum')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_patch_metrics_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patch_metrics')),
    sa.UniqueConstraint('snapshot_id', 'scope', 'scope_value', name='uq_patch_metrics_scope')
    )
    with op.batch_alter_table('patch_metrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patch_metrics_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('patch_vulnerabilities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('patch_id', sa.BigInteger(), nullable=False),
    sa.Column('cve_id', sa.String(length=32), nullable=False),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_patch_vulnerabilities_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_patch_vulnerabilities_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_patch_vulnerabilities_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patch_vulnerabilities')),
    sa.UniqueConstraint('source_id', 'patch_id', 'cve_id', 'valid_from_snapshot_id', name='uq_patch_vulnerabilities_version')
    )
    with op.batch_alter_table('patch_vulnerabilities', schema=None) as batch_op:
        batch_op.create_index('ix_patch_vulnerabilities_source_id_cve_id', ['source_id', 'cve_id'], unique=False)
        batch_op.create_index('ix_patch_vulnerabilities_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_patch_vulnerabilities_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_patch_vulnerabilities_current', ['source_id', 'patch_id', 'cve_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('patches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('patch_id', sa.BigInteger(), nullable=False),
    sa.Column('update_id', sa.BigInteger(), nullable=True),
    sa.Column('bulletin_id', sa.String(length=128), nullable=True),
    sa.Column('patch_name', sa.String(length=512), nullable=True),
    sa.Column('patch_description', sa.Text(), nullable=True),
    sa.Column('update_name', sa.String(length=128), nullable=True),
    sa.Column('patch_type', sa.SmallInteger(), nullable=True),
    sa.Column('vendor_name', sa.String(length=255), nullable=True),
    sa.Column('platform', sa.SmallInteger(), nullable=True),
    sa.Column('platform_name', sa.String(length=64), nullable=True),
    sa.Column('severity', sa.SmallInteger(), nullable=True),
    sa.Column('approval_status', sa.SmallInteger(), nullable=True),
    sa.Column('download_status', sa.SmallInteger(), nullable=True),
    sa.Column('patch_noreboot', sa.SmallInteger(), nullable=True),
    sa.Column('uninstall_supported', sa.Boolean(), nullable=True),
    sa.Column('patch_size', sa.BigInteger(), nullable=True),
    sa.Column('patch_released_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('patch_updated_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('patch_supported_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by', sa.String(length=128), nullable=True),
    sa.Column('is_superseded', sa.Boolean(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint('approval_status IS NULL OR approval_status IN (0, 211, 212)', name=op.f('ck_patches_approval_status_domain')),
    sa.CheckConstraint('platform IS NULL OR platform IN (1, 2, 3)', name=op.f('ck_patches_platform_domain')),
    sa.CheckConstraint('severity IS NULL OR severity IN (0, 1, 2, 3, 4)', name=op.f('ck_patches_severity_domain')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_patches_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_patches_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_patches_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patches')),
    sa.UniqueConstraint('source_id', 'patch_id', 'valid_from_snapshot_id', name='uq_patches_version')
    )
    with op.batch_alter_table('patches', schema=None) as batch_op:
        batch_op.create_index('ix_patches_source_id_bulletin_id', ['source_id', 'bulletin_id'], unique=False)
        batch_op.create_index('ix_patches_source_id_severity', ['source_id', 'severity'], unique=False)
        batch_op.create_index('ix_patches_source_id_vendor_name', ['source_id', 'vendor_name'], unique=False)
        batch_op.create_index('ix_patches_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_patches_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_patches_current', ['source_id', 'patch_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('server_summaries',
    sa.Column('installed_patches', sa.Integer(), nullable=True),
    sa.Column('applicable_patches', sa.Integer(), nullable=True),
    sa.Column('new_patches', sa.Integer(), nullable=True),
    sa.Column('missing_patches', sa.Integer(), nullable=True),
    sa.Column('missing_critical', sa.Integer(), nullable=True),
    sa.Column('missing_important', sa.Integer(), nullable=True),
    sa.Column('missing_moderate', sa.Integer(), nullable=True),
    sa.Column('missing_low', sa.Integer(), nullable=True),
    sa.Column('missing_unrated', sa.Integer(), nullable=True),
    sa.Column('missing_total', sa.Integer(), nullable=True),
    sa.Column('total_systems', sa.Integer(), nullable=True),
    sa.Column('healthy_systems', sa.Integer(), nullable=True),
    sa.Column('moderately_vulnerable_systems', sa.Integer(), nullable=True),
    sa.Column('highly_vulnerable_systems', sa.Integer(), nullable=True),
    sa.Column('health_unknown_systems', sa.Integer(), nullable=True),
    sa.Column('scanned_systems', sa.Integer(), nullable=True),
    sa.Column('unscanned_systems', sa.Integer(), nullable=True),
    sa.Column('scan_success_count', sa.Integer(), nullable=True),
    sa.Column('scan_failure_count', sa.Integer(), nullable=True),
    sa.Column('apd_tasks', sa.Integer(), nullable=True),
    sa.Column('last_db_update_status', sa.String(length=32), nullable=True),
    sa.Column('last_db_update_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('auto_db_update_disabled', sa.Boolean(), nullable=True),
    sa.Column('db_update_in_progress', sa.Boolean(), nullable=True),
    sa.Column('som_summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_server_summaries_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_server_summaries')),
    sa.UniqueConstraint('snapshot_id', name=op.f('uq_server_summaries_snapshot_id'))
    )
    with op.batch_alter_table('server_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_server_summaries_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('severity_metrics',
    sa.Column('missing_critical', sa.Integer(), nullable=False),
    sa.Column('missing_important', sa.Integer(), nullable=False),
    sa.Column('missing_moderate', sa.Integer(), nullable=False),
    sa.Column('missing_low', sa.Integer(), nullable=False),
    sa.Column('missing_unrated', sa.Integer(), nullable=False),
    sa.Column('missing_total', sa.Integer(), nullable=False),
    sa.Column('failed_critical', sa.Integer(), nullable=False),
    sa.Column('failed_important', sa.Integer(), nullable=False),
    sa.Column('failed_moderate', sa.Integer(), nullable=False),
    sa.Column('failed_low', sa.Integer(), nullable=False),
    sa.Column('failed_unrated', sa.Integer(), nullable=False),
    sa.Column('failed_total', sa.Integer(), nullable=False),
    sa.Column('missing_patches_critical', sa.Integer(), nullable=False),
    sa.Column('missing_patches_important', sa.Integer(), nullable=False),
    sa.Column('missing_patches_moderate', sa.Integer(), nullable=False),
    sa.Column('missing_patches_low', sa.Integer(), nullable=False),
    sa.Column('missing_patches_unrated', sa.Integer(), nullable=False),
    sa.Column('missing_patches_total', sa.Integer(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_value', sa.String(length=255), nullable=False),
    sa.CheckConstraint("scope IS NULL OR scope IN ('total', 'category', 'platform', 'security', 'organisation', 'os', 'cve')", name=op.f('ck_severity_metrics_scope_domain')),
    sa.CheckConstraint('failed_total = failed_critical + failed_important + failed_moderate + failed_low + failed_unrated', name=op.f('ck_severity_metrics_failed_sum')),
    sa.CheckConstraint('missing_patches_total = missing_patches_critical + missing_patches_important + missing_patches_moderate + missing_patches_low + missing_patches_unrated', name=op.f('ck_severity_metrics_missing_patches_sum')),
    sa.CheckConstraint('missing_total = missing_critical + missing_important + missing_moderate + missing_low + missing_unrated', name=op.f('ck_severity_metrics_missing_sum')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_severity_metrics_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_severity_metrics')),
    sa.UniqueConstraint('snapshot_id', 'scope', 'scope_value', name='uq_severity_metrics_scope')
    )
    with op.batch_alter_table('severity_metrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_severity_metrics_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('som_computers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('resource_id', sa.BigInteger(), nullable=False),
    sa.Column('resource_name', sa.String(length=255), nullable=True),
    sa.Column('domain_name', sa.String(length=255), nullable=True),
    sa.Column('customer_name', sa.String(length=255), nullable=True),
    sa.Column('branch_office_name', sa.String(length=255), nullable=True),
    sa.Column('os_name', sa.String(length=255), nullable=True),
    sa.Column('os_version', sa.String(length=128), nullable=True),
    sa.Column('os_platform_name', sa.String(length=64), nullable=True),
    sa.Column('service_pack', sa.String(length=255), nullable=True),
    sa.Column('ip_address', sa.String(length=255), nullable=True),
    sa.Column('mac_address', sa.String(length=255), nullable=True),
    sa.Column('agent_installed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('installation_status', sa.SmallInteger(), nullable=True),
    sa.Column('computer_live_status', sa.SmallInteger(), nullable=True),
    sa.Column('last_contact_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint('computer_live_status IS NULL OR computer_live_status IN (1, 2, 3)', name=op.f('ck_som_computers_computer_live_status_domain')),
    sa.CheckConstraint('installation_status IS NULL OR installation_status IN (21, 22, 23, 24, 29)', name=op.f('ck_som_computers_installation_status_domain')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_som_computers_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_som_computers_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_som_computers_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_som_computers')),
    sa.UniqueConstraint('source_id', 'resource_id', 'valid_from_snapshot_id', name='uq_som_computers_version')
    )
    with op.batch_alter_table('som_computers', schema=None) as batch_op:
        batch_op.create_index('ix_som_computers_source_id_branch_office_name', ['source_id', 'branch_office_name'], unique=False)
        batch_op.create_index('ix_som_computers_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_som_computers_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_som_computers_current', ['source_id', 'resource_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('stg_approval_settings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('patch_approval', sa.String(length=16), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint("patch_approval IS NULL OR patch_approval IN ('automatic', 'manual')", name=op.f('ck_stg_approval_settings_patch_approval_domain')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_approval_settings_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_approval_settings')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_approval_settings_page_seq')
    )
    with op.batch_alter_table('stg_approval_settings', schema=None) as batch_op:
        batch_op.create_index('ix_stg_approval_settings_natural_key', ['snapshot_id'], unique=False)

    op.create_table('stg_branch_offices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('branch_office_id', sa.BigInteger(), nullable=False),
    sa.Column('branch_office_name', sa.String(length=255), nullable=True),
    sa.Column('customer_id', sa.BigInteger(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_branch_offices_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_branch_offices')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_branch_offices_page_seq')
    )
    with op.batch_alter_table('stg_branch_offices', schema=None) as batch_op:
        batch_op.create_index('ix_stg_branch_offices_natural_key', ['snapshot_id', 'branch_office_id'], unique=False)

    op.create_table('stg_deployment_policies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('template_id', sa.BigInteger(), nullable=False),
    sa.Column('template_name', sa.String(length=255), nullable=True),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('customer_id', sa.BigInteger(), nullable=True),
    sa.Column('creation_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_template_alive', sa.Boolean(), nullable=True),
    sa.Column('set_as_default', sa.Boolean(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_deployment_policies_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_deployment_policies')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_deployment_policies_page_seq')
    )
    with op.batch_alter_table('stg_deployment_policies', schema=None) as batch_op:
        batch_op.create_index('ix_stg_deployment_policies_natural_key', ['snapshot_id', 'template_id'], unique=False)

    op.create_table('stg_deployment_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.BigInteger(), nullable=False),
    sa.Column('task_name', sa.String(length=255), nullable=True),
    sa.Column('task_type', sa.SmallInteger(), nullable=True),
    sa.Column('collection_id', sa.BigInteger(), nullable=True),
    sa.Column('collection_status', sa.SmallInteger(), nullable=True),
    sa.Column('os_platform_id', sa.SmallInteger(), nullable=True),
    sa.Column('os_platform_name', sa.String(length=64), nullable=True),
    sa.Column('total_target', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.BigInteger(), nullable=True),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('task_creation_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('task_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_deployment_tasks_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_deployment_tasks')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_deployment_tasks_page_seq')
    )
    with op.batch_alter_table('stg_deployment_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_stg_deployment_tasks_natural_key', ['snapshot_id', 'task_id'], unique=False)

    op.create_table('stg_health_policies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('vulnerable_critical', sa.Integer(), nullable=True),
    sa.Column('vulnerable_important', sa.Integer(), nullable=True),
    sa.Column('vulnerable_moderate', sa.Integer(), nullable=True),
    sa.Column('vulnerable_low', sa.Integer(), nullable=True),
    sa.Column('highly_vulnerable_critical', sa.Integer(), nullable=True),
    sa.Column('highly_vulnerable_important', sa.Integer(), nullable=True),
    sa.Column('highly_vulnerable_moderate', sa.Integer(), nullable=True),
    sa.Column('highly_vulnerable_low', sa.Integer(), nullable=True),
    sa.Column('consider_only_approved_patches', sa.Boolean(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_health_policies_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_health_policies')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_health_policies_page_seq')
    )
    with op.batch_alter_table('stg_health_policies', schema=None) as batch_op:
        batch_op.create_index('ix_stg_health_policies_natural_key', ['snapshot_id'], unique=False)

    op.create_table('stg_patch_groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('group_id', sa.BigInteger(), nullable=False),
    sa.Column('group_name', sa.String(length=255), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_patch_groups_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_patch_groups')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_patch_groups_page_seq')
    )
    with op.batch_alter_table('stg_patch_groups', schema=None) as batch_op:
        batch_op.create_index('ix_stg_patch_groups_natural_key', ['snapshot_id', 'group_id'], unique=False)

    op.create_table('stg_patch_vulnerabilities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('patch_id', sa.BigInteger(), nullable=False),
    sa.Column('cve_id', sa.String(length=32), nullable=False),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_patch_vulnerabilities_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_patch_vulnerabilities')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_patch_vulnerabilities_page_seq')
    )
    with op.batch_alter_table('stg_patch_vulnerabilities', schema=None) as batch_op:
        batch_op.create_index('ix_stg_patch_vulnerabilities_natural_key', ['snapshot_id', 'patch_id', 'cve_id'], unique=False)

    op.create_table('stg_patches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('patch_id', sa.BigInteger(), nullable=False),
    sa.Column('update_id', sa.BigInteger(), nullable=True),
    sa.Column('bulletin_id', sa.String(length=128), nullable=True),
    sa.Column('patch_name', sa.String(length=512), nullable=True),
    sa.Column('patch_description', sa.Text(), nullable=True),
    sa.Column('update_name', sa.String(length=128), nullable=True),
    sa.Column('patch_type', sa.SmallInteger(), nullable=True),
    sa.Column('vendor_name', sa.String(length=255), nullable=True),
    sa.Column('platform', sa.SmallInteger(), nullable=True),
    sa.Column('platform_name', sa.String(length=64), nullable=True),
    sa.Column('severity', sa.SmallInteger(), nullable=True),
    sa.Column('approval_status', sa.SmallInteger(), nullable=True),
    sa.Column('download_status', sa.SmallInteger(), nullable=True),
    sa.Column('patch_noreboot', sa.SmallInteger(), nullable=True),
    sa.Column('uninstall_supported', sa.Boolean(), nullable=True),
    sa.Column('patch_size', sa.BigInteger(), nullable=True),
    sa.Column('patch_released_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('patch_updated_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('patch_supported_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by', sa.String(length=128), nullable=True),
    sa.Column('is_superseded', sa.Boolean(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint('approval_status IS NULL OR approval_status IN (0, 211, 212)', name=op.f('ck_stg_patches_approval_status_domain')),
    sa.CheckConstraint('platform IS NULL OR platform IN (1, 2, 3)', name=op.f('ck_stg_patches_platform_domain')),
    sa.CheckConstraint('severity IS NULL OR severity IN (0, 1, 2, 3, 4)', name=op.f('ck_stg_patches_severity_domain')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_patches_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_patches')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_patches_page_seq')
    )
    with op.batch_alter_table('stg_patches', schema=None) as batch_op:
        batch_op.create_index('ix_stg_patches_natural_key', ['snapshot_id', 'patch_id'], unique=False)

    op.create_table('stg_som_computers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('resource_id', sa.BigInteger(), nullable=False),
    sa.Column('resource_name', sa.String(length=255), nullable=True),
    sa.Column('domain_name', sa.String(length=255), nullable=True),
    sa.Column('customer_name', sa.String(length=255), nullable=True),
    sa.Column('branch_office_name', sa.String(length=255), nullable=True),
    sa.Column('os_name', sa.String(length=255), nullable=True),
    sa.Column('os_version', sa.String(length=128), nullable=True),
    sa.Column('os_platform_name', sa.String(length=64), nullable=True),
    sa.Column('service_pack', sa.String(length=255), nullable=True),
    sa.Column('ip_address', sa.String(length=255), nullable=True),
    sa.Column('mac_address', sa.String(length=255), nullable=True),
    sa.Column('agent_installed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('installation_status', sa.SmallInteger(), nullable=True),
    sa.Column('computer_live_status', sa.SmallInteger(), nullable=True),
    sa.Column('last_contact_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint('computer_live_status IS NULL OR computer_live_status IN (1, 2, 3)', name=op.f('ck_stg_som_computers_computer_live_status_domain')),
    sa.CheckConstraint('installation_status IS NULL OR installation_status IN (21, 22, 23, 24, 29)', name=op.f('ck_stg_som_computers_installation_status_domain')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_som_computers_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_som_computers')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_som_computers_page_seq')
    )
    with op.batch_alter_table('stg_som_computers', schema=None) as batch_op:
        batch_op.create_index('ix_stg_som_computers_natural_key', ['snapshot_id', 'resource_id'], unique=False)

    op.create_table('stg_system_patch_states',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('resource_id', sa.BigInteger(), nullable=False),
    sa.Column('patch_id', sa.BigInteger(), nullable=False),
    sa.Column('install_status', sa.SmallInteger(), nullable=False),
    sa.Column('approval_status', sa.SmallInteger(), nullable=True),
    sa.Column('deployment_status', sa.SmallInteger(), nullable=True),
    sa.Column('install_error_code', sa.Integer(), nullable=True),
    sa.Column('installed_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deploy_remarks', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint('approval_status IS NULL OR approval_status IN (0, 211, 212)', name=op.f('ck_stg_system_patch_states_approval_status_domain')),
    sa.CheckConstraint('install_status IS NULL OR install_status IN (201, 202, 206)', name=op.f('ck_stg_system_patch_states_install_status_domain')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_system_patch_states_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_system_patch_states')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_system_patch_states_page_seq')
    )
    with op.batch_alter_table('stg_system_patch_states', schema=None) as batch_op:
        batch_op.create_index('ix_stg_system_patch_states_natural_key', ['snapshot_id', 'resource_id', 'patch_id'], unique=False)

    op.create_table('stg_systems',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('resource_id', sa.BigInteger(), nullable=False),
    sa.Column('resource_name', sa.String(length=255), nullable=True),
    sa.Column('domain_netbios_name', sa.String(length=255), nullable=True),
    sa.Column('branch_office_id', sa.BigInteger(), nullable=True),
    sa.Column('branch_office_name', sa.String(length=255), nullable=True),
    sa.Column('customer_id', sa.BigInteger(), nullable=True),
    sa.Column('customer_name', sa.String(length=255), nullable=True),
    sa.Column('ip_address', sa.String(length=255), nullable=True),
    sa.Column('mac_address', sa.String(length=255), nullable=True),
    sa.Column('os_name', sa.String(length=255), nullable=True),
    sa.Column('os_platform', sa.SmallInteger(), nullable=True),
    sa.Column('os_platform_name', sa.String(length=64), nullable=True),
    sa.Column('os_language', sa.String(length=64), nullable=True),
    sa.Column('service_pack', sa.String(length=255), nullable=True),
    sa.Column('agent_version', sa.String(length=64), nullable=True),
    sa.Column('agent_installed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agent_installation_status', sa.SmallInteger(), nullable=True),
    sa.Column('agent_last_contact_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agent_last_bootup_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('computer_live_status', sa.SmallInteger(), nullable=True),
    sa.Column('resource_health_status', sa.SmallInteger(), nullable=True),
    sa.Column('scan_status', sa.SmallInteger(), nullable=True),
    sa.Column('last_scan_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_successful_scan_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_patched_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('missing_ms_patches', sa.Integer(), nullable=True),
    sa.Column('missing_tp_patches', sa.Integer(), nullable=True),
    sa.Column('missing_driver_patches', sa.Integer(), nullable=True),
    sa.Column('missing_bios_patches', sa.Integer(), nullable=True),
    sa.Column('installed_ms_patches', sa.Integer(), nullable=True),
    sa.Column('installed_tp_patches', sa.Integer(), nullable=True),
    sa.Column('installed_driver_patches', sa.Integer(), nullable=True),
    sa.Column('installed_bios_patches', sa.Integer(), nullable=True),
    sa.Column('critical_patch_count', sa.Integer(), nullable=True),
    sa.Column('important_patch_count', sa.Integer(), nullable=True),
    sa.Column('moderate_patch_count', sa.Integer(), nullable=True),
    sa.Column('low_patch_count', sa.Integer(), nullable=True),
    sa.Column('reboot_required', sa.Boolean(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint('agent_installation_status IS NULL OR agent_installation_status IN (21, 22, 23, 24, 29)', name=op.f('ck_stg_systems_agent_installation_status_domain')),
    sa.CheckConstraint('computer_live_status IS NULL OR computer_live_status IN (1, 2, 3)', name=op.f('ck_stg_systems_computer_live_status_domain')),
    sa.CheckConstraint('os_platform IS NULL OR os_platform IN (1, 2, 3)', name=op.f('ck_stg_systems_os_platform_domain')),
    sa.CheckConstraint('resource_health_status IS NULL OR resource_health_status IN (0, 1, 2, 3)', name=op.f('ck_stg_systems_resource_health_status_domain')),
    sa.CheckConstraint('scan_status IS NULL OR scan_status IN (226, 227, 228, 229)', name=op.f('ck_stg_systems_scan_status_domain')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_systems_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_systems')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_systems_page_seq')
    )
    with op.batch_alter_table('stg_systems', schema=None) as batch_op:
        batch_op.create_index('ix_stg_systems_natural_key', ['snapshot_id', 'resource_id'], unique=False)

    op.create_table('stg_view_configurations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('config_id', sa.BigInteger(), nullable=False),
    sa.Column('collection_id', sa.BigInteger(), nullable=True),
    sa.Column('total_target_count', sa.Integer(), nullable=True),
    sa.Column('os_platform_name', sa.String(length=64), nullable=True),
    sa.Column('collection_platform_id', sa.SmallInteger(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_view_configurations_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_view_configurations')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_view_configurations_page_seq')
    )
    with op.batch_alter_table('stg_view_configurations', schema=None) as batch_op:
        batch_op.create_index('ix_stg_view_configurations_natural_key', ['snapshot_id', 'config_id'], unique=False)

    op.create_table('stg_vulnerabilities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=64), nullable=False),
    sa.Column('parent_key', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('cve_id', sa.String(length=32), nullable=False),
    sa.Column('cvss_score', sa.Float(), nullable=True),
    sa.Column('cvss_severity', sa.String(length=16), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('published_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_stg_vulnerabilities_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stg_vulnerabilities')),
    sa.UniqueConstraint('snapshot_id', 'endpoint', 'parent_key', 'page', 'seq', name='uq_stg_vulnerabilities_page_seq')
    )
    with op.batch_alter_table('stg_vulnerabilities', schema=None) as batch_op:
        batch_op.create_index('ix_stg_vulnerabilities_natural_key', ['snapshot_id', 'cve_id'], unique=False)

    op.create_table('system_health_metrics',
    sa.Column('total_systems', sa.Integer(), nullable=False),
    sa.Column('healthy', sa.Integer(), nullable=False),
    sa.Column('vulnerable', sa.Integer(), nullable=False),
    sa.Column('highly_vulnerable', sa.Integer(), nullable=False),
    sa.Column('health_unknown', sa.Integer(), nullable=False),
    sa.Column('live', sa.Integer(), nullable=False),
    sa.Column('down', sa.Integer(), nullable=False),
    sa.Column('live_unknown', sa.Integer(), nullable=False),
    sa.Column('scan_succeeded', sa.Integer(), nullable=False),
    sa.Column('scan_failed', sa.Integer(), nullable=False),
    sa.Column('scan_in_progress', sa.Integer(), nullable=False),
    sa.Column('not_scanned', sa.Integer(), nullable=False),
    sa.Column('stale_agents', sa.Integer(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_value', sa.String(length=255), nullable=False),
    sa.CheckConstraint("scope IS NULL OR scope IN ('total', 'category', 'platform', 'security', 'organisation', 'os', 'cve')", name=op.f('ck_system_health_metrics_scope_domain')),
    sa.CheckConstraint('stale_agents <= total_systems', name=op.f('ck_system_health_metrics_stale_le_total')),
    sa.CheckConstraint('total_systems = healthy + vulnerable + highly_vulnerable + health_unknown', name=op.f('ck_system_health_metrics_health_sum')),
    sa.CheckConstraint('total_systems = live + down + live_unknown', name=op.f('ck_system_health_metrics_live_sum')),
    sa.CheckConstraint('total_systems = scan_succeeded + scan_failed + scan_in_progress + not_scanned', name=op.f('ck_system_health_metrics_scan_sum')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_system_health_metrics_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_system_health_metrics')),
    sa.UniqueConstraint('snapshot_id', 'scope', 'scope_value', name='uq_system_health_metrics_scope')
    )
    with op.batch_alter_table('system_health_metrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_system_health_metrics_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('system_patch_states',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('resource_id', sa.BigInteger(), nullable=False),
    sa.Column('patch_id', sa.BigInteger(), nullable=False),
    sa.Column('install_status', sa.SmallInteger(), nullable=False),
    sa.Column('approval_status', sa.SmallInteger(), nullable=True),
    sa.Column('deployment_status', sa.SmallInteger(), nullable=True),
    sa.Column('install_error_code', sa.Integer(), nullable=True),
    sa.Column('installed_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deploy_remarks', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint('approval_status IS NULL OR approval_status IN (0, 211, 212)', name=op.f('ck_system_patch_states_approval_status_domain')),
    sa.CheckConstraint('install_status IS NULL OR install_status IN (201, 202, 206)', name=op.f('ck_system_patch_states_install_status_domain')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_system_patch_states_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_system_patch_states_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_system_patch_states_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_system_patch_states')),
    sa.UniqueConstraint('source_id', 'resource_id', 'patch_id', 'valid_from_snapshot_id', name='uq_system_patch_states_version')
    )
    with op.batch_alter_table('system_patch_states', schema=None) as batch_op:
        batch_op.create_index('ix_system_patch_states_current_open', ['source_id', 'install_status', 'resource_id', 'patch_id'], unique=False, sqlite_where=sa.text('valid_to_snapshot_id IS NULL AND install_status IN (202, 206)'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL AND install_status IN (202, 206)'))
        batch_op.create_index('ix_system_patch_states_source_id_install_status', ['source_id', 'install_status'], unique=False)
        batch_op.create_index('ix_system_patch_states_source_id_patch_id', ['source_id', 'patch_id'], unique=False)
        batch_op.create_index('ix_system_patch_states_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_system_patch_states_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_system_patch_states_current', ['source_id', 'resource_id', 'patch_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('systems',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('resource_id', sa.BigInteger(), nullable=False),
    sa.Column('resource_name', sa.String(length=255), nullable=True),
    sa.Column('domain_netbios_name', sa.String(length=255), nullable=True),
    sa.Column('branch_office_id', sa.BigInteger(), nullable=True),
    sa.Column('branch_office_name', sa.String(length=255), nullable=True),
    sa.Column('customer_id', sa.BigInteger(), nullable=True),
    sa.Column('customer_name', sa.String(length=255), nullable=True),
    sa.Column('ip_address', sa.String(length=255), nullable=True),
    sa.Column('mac_address', sa.String(length=255), nullable=True),
    sa.Column('os_name', sa.String(length=255), nullable=True),
    sa.Column('os_platform', sa.SmallInteger(), nullable=True),
    sa.Column('os_platform_name', sa.String(length=64), nullable=True),
    sa.Column('os_language', sa.String(length=64), nullable=True),
    sa.Column('service_pack', sa.String(length=255), nullable=True),
    sa.Column('agent_version', sa.String(length=64), nullable=True),
    sa.Column('agent_installed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agent_installation_status', sa.SmallInteger(), nullable=True),
    sa.Column('agent_last_contact_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agent_last_bootup_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('computer_live_status', sa.SmallInteger(), nullable=True),
    sa.Column('resource_health_status', sa.SmallInteger(), nullable=True),
    sa.Column('scan_status', sa.SmallInteger(), nullable=True),
    sa.Column('last_scan_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_successful_scan_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_patched_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('missing_ms_patches', sa.Integer(), nullable=True),
    sa.Column('missing_tp_patches', sa.Integer(), nullable=True),
    sa.Column('missing_driver_patches', sa.Integer(), nullable=True),
    sa.Column('missing_bios_patches', sa.Integer(), nullable=True),
    sa.Column('installed_ms_patches', sa.Integer(), nullable=True),
    sa.Column('installed_tp_patches', sa.Integer(), nullable=True),
    sa.Column('installed_driver_patches', sa.Integer(), nullable=True),
    sa.Column('installed_bios_patches', sa.Integer(), nullable=True),
    sa.Column('critical_patch_count', sa.Integer(), nullable=True),
    sa.Column('important_patch_count', sa.Integer(), nullable=True),
    sa.Column('moderate_patch_count', sa.Integer(), nullable=True),
    sa.Column('low_patch_count', sa.Integer(), nullable=True),
    sa.Column('reboot_required', sa.Boolean(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint('agent_installation_status IS NULL OR agent_installation_status IN (21, 22, 23, 24, 29)', name=op.f('ck_systems_agent_installation_status_domain')),
    sa.CheckConstraint('computer_live_status IS NULL OR computer_live_status IN (1, 2, 3)', name=op.f('ck_systems_computer_live_status_domain')),
    sa.CheckConstraint('os_platform IS NULL OR os_platform IN (1, 2, 3)', name=op.f('ck_systems_os_platform_domain')),
    sa.CheckConstraint('resource_health_status IS NULL OR resource_health_status IN (0, 1, 2, 3)', name=op.f('ck_systems_resource_health_status_domain')),
    sa.CheckConstraint('scan_status IS NULL OR scan_status IN (226, 227, 228, 229)', name=op.f('ck_systems_scan_status_domain')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_systems_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_systems_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_systems_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_systems')),
    sa.UniqueConstraint('source_id', 'resource_id', 'valid_from_snapshot_id', name='uq_systems_version')
    )
    with op.batch_alter_table('systems', schema=None) as batch_op:
        batch_op.create_index('ix_systems_source_id_branch_office_name', ['source_id', 'branch_office_name'], unique=False)
        batch_op.create_index('ix_systems_source_id_os_platform_name', ['source_id', 'os_platform_name'], unique=False)
        batch_op.create_index('ix_systems_source_id_resource_health_status', ['source_id', 'resource_health_status'], unique=False)
        batch_op.create_index('ix_systems_source_id_resource_name', ['source_id', 'resource_name'], unique=False)
        batch_op.create_index('ix_systems_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_systems_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_systems_current', ['source_id', 'resource_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('time_to_patch_metrics',
    sa.Column('severity', sa.SmallInteger(), nullable=True),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('mean_hours', sa.Float(), nullable=True),
    sa.Column('median_hours', sa.Float(), nullable=True),
    sa.Column('p90_hours', sa.Float(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('severity IS NULL OR severity IN (0, 1, 2, 3, 4)', name=op.f('ck_time_to_patch_metrics_severity_domain')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_time_to_patch_metrics_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_to_patch_metrics')),
    sa.UniqueConstraint('snapshot_id', 'severity', name='uq_time_to_patch_metrics_severity')
    )
    with op.batch_alter_table('time_to_patch_metrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_to_patch_metrics_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('view_configurations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('config_id', sa.BigInteger(), nullable=False),
    sa.Column('collection_id', sa.BigInteger(), nullable=True),
    sa.Column('total_target_count', sa.Integer(), nullable=True),
    sa.Column('os_platform_name', sa.String(length=64), nullable=True),
    sa.Column('collection_platform_id', sa.SmallInteger(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_view_configurations_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_view_configurations_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_view_configurations_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_view_configurations')),
    sa.UniqueConstraint('source_id', 'config_id', 'valid_from_snapshot_id', name='uq_view_configurations_version')
    )
    with op.batch_alter_table('view_configurations', schema=None) as batch_op:
        batch_op.create_index('ix_view_configurations_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_view_configurations_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_view_configurations_current', ['source_id', 'config_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('vulnerabilities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('valid_from_snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_to_snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('cve_id', sa.String(length=32), nullable=False),
    sa.Column('cvss_score', sa.Float(), nullable=True),
    sa.Column('cvss_severity', sa.String(length=16), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('published_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_vulnerabilities_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_from_snapshot_id'], ['snapshots.id'], name=op.f('fk_vulnerabilities_valid_from_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['valid_to_snapshot_id'], ['snapshots.id'], name=op.f('fk_vulnerabilities_valid_to_snapshot_id_snapshots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vulnerabilities')),
    sa.UniqueConstraint('source_id', 'cve_id', 'valid_from_snapshot_id', name='uq_vulnerabilities_version')
    )
    with op.batch_alter_table('vulnerabilities', schema=None) as batch_op:
        batch_op.create_index('ix_vulnerabilities_source_id_cvss_score', ['source_id', 'cvss_score'], unique=False)
        batch_op.create_index('ix_vulnerabilities_valid_from', ['valid_from_snapshot_id'], unique=False)
        batch_op.create_index('ix_vulnerabilities_valid_to', ['valid_to_snapshot_id'], unique=False)
        batch_op.create_index('uq_vulnerabilities_current', ['source_id', 'cve_id'], unique=True, sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))

    op.create_table('vulnerability_metrics',
    sa.Column('cves_exposed', sa.Integer(), nullable=False),
    sa.Column('systems_exposed', sa.Integer(), nullable=False),
    sa.Column('pairs_exposed', sa.Integer(), nullable=False),
    sa.Column('known_exploited_cves', sa.Integer(), nullable=False),
    sa.Column('max_cvss', sa.Float(), nullable=True),
    sa.Column('mean_cvss', sa.Float(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_value', sa.String(length=255), nullable=False),
    sa.CheckConstraint("scope IS NULL OR scope IN ('total', 'category', 'platform', 'security', 'organisation', 'os', 'cve')", name=op.f('ck_vulnerability_metrics_scope_domain')),
    sa.CheckConstraint('max_cvss IS NULL OR (max_cvss >= 0 AND max_cvss <= 10)', name=op.f('ck_vulnerability_metrics_max_cvss_range')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_vulnerability_metrics_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vulnerability_metrics')),
    sa.UniqueConstraint('snapshot_id', 'scope', 'scope_value', name='uq_vulnerability_metrics_scope')
    )
    with op.batch_alter_table('vulnerability_metrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vulnerability_metrics_snapshot_id'), ['snapshot_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('vulnerability_metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vulnerability_metrics_snapshot_id'))

    op.drop_table('vulnerability_metrics')
    with op.batch_alter_table('vulnerabilities', schema=None) as batch_op:
        batch_op.drop_index('uq_vulnerabilities_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_vulnerabilities_valid_to')
        batch_op.drop_index('ix_vulnerabilities_valid_from')
        batch_op.drop_index('ix_vulnerabilities_source_id_cvss_score')

    op.drop_table('vulnerabilities')
    with op.batch_alter_table('view_configurations', schema=None) as batch_op:
        batch_op.drop_index('uq_view_configurations_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_view_configurations_valid_to')
        batch_op.drop_index('ix_view_configurations_valid_from')

    op.drop_table('view_configurations')
    with op.batch_alter_table('time_to_patch_metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_to_patch_metrics_snapshot_id'))

    op.drop_table('time_to_patch_metrics')
    with op.batch_alter_table('systems', schema=None) as batch_op:
        batch_op.drop_index('uq_systems_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_systems_valid_to')
        batch_op.drop_index('ix_systems_valid_from')
        batch_op.drop_index('ix_systems_source_id_resource_name')
        batch_op.drop_index('ix_systems_source_id_resource_health_status')
        batch_op.drop_index('ix_systems_source_id_os_platform_name')
        batch_op.drop_index('ix_systems_source_id_branch_office_name')

    op.drop_table('systems')
    with op.batch_alter_table('system_patch_states', schema=None) as batch_op:
        batch_op.drop_index('uq_system_patch_states_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_system_patch_states_valid_to')
        batch_op.drop_index('ix_system_patch_states_valid_from')
        batch_op.drop_index('ix_system_patch_states_source_id_patch_id')
        batch_op.drop_index('ix_system_patch_states_source_id_install_status')
        batch_op.drop_index('ix_system_patch_states_current_open', sqlite_where=sa.text('valid_to_snapshot_id IS NULL AND install_status IN (202, 206)'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL AND install_status IN (202, 206)'))

    op.drop_table('system_patch_states')
    with op.batch_alter_table('system_health_metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_system_health_metrics_snapshot_id'))

    op.drop_table('system_health_metrics')
    with op.batch_alter_table('stg_vulnerabilities', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_vulnerabilities_natural_key')

    op.drop_table('stg_vulnerabilities')
    with op.batch_alter_table('stg_view_configurations', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_view_configurations_natural_key')

    op.drop_table('stg_view_configurations')
    with op.batch_alter_table('stg_systems', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_systems_natural_key')

    op.drop_table('stg_systems')
    with op.batch_alter_table('stg_system_patch_states', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_system_patch_states_natural_key')

    op.drop_table('stg_system_patch_states')
    with op.batch_alter_table('stg_som_computers', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_som_computers_natural_key')

    op.drop_table('stg_som_computers')
    with op.batch_alter_table('stg_patches', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_patches_natural_key')

    op.drop_table('stg_patches')
    with op.batch_alter_table('stg_patch_vulnerabilities', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_patch_vulnerabilities_natural_key')

    op.drop_table('stg_patch_vulnerabilities')
    with op.batch_alter_table('stg_patch_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_patch_groups_natural_key')

    op.drop_table('stg_patch_groups')
    with op.batch_alter_table('stg_health_policies', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_health_policies_natural_key')

    op.drop_table('stg_health_policies')
    with op.batch_alter_table('stg_deployment_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_deployment_tasks_natural_key')

    op.drop_table('stg_deployment_tasks')
    with op.batch_alter_table('stg_deployment_policies', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_deployment_policies_natural_key')

    op.drop_table('stg_deployment_policies')
    with op.batch_alter_table('stg_branch_offices', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_branch_offices_natural_key')

    op.drop_table('stg_branch_offices')
    with op.batch_alter_table('stg_approval_settings', schema=None) as batch_op:
        batch_op.drop_index('ix_stg_approval_settings_natural_key')

    op.drop_table('stg_approval_settings')
    with op.batch_alter_table('som_computers', schema=None) as batch_op:
        batch_op.drop_index('uq_som_computers_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_som_computers_valid_to')
        batch_op.drop_index('ix_som_computers_valid_from')
        batch_op.drop_index('ix_som_computers_source_id_branch_office_name')

    op.drop_table('som_computers')
    with op.batch_alter_table('severity_metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_severity_metrics_snapshot_id'))

    op.drop_table('severity_metrics')
    with op.batch_alter_table('server_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_server_summaries_snapshot_id'))

    op.drop_table('server_summaries')
    with op.batch_alter_table('patches', schema=None) as batch_op:
        batch_op.drop_index('uq_patches_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_patches_valid_to')
        batch_op.drop_index('ix_patches_valid_from')
        batch_op.drop_index('ix_patches_source_id_vendor_name')
        batch_op.drop_index('ix_patches_source_id_severity')
        batch_op.drop_index('ix_patches_source_id_bulletin_id')

    op.drop_table('patches')
    with op.batch_alter_table('patch_vulnerabilities', schema=None) as batch_op:
        batch_op.drop_index('uq_patch_vulnerabilities_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_patch_vulnerabilities_valid_to')
        batch_op.drop_index('ix_patch_vulnerabilities_valid_from')
        batch_op.drop_index('ix_patch_vulnerabilities_source_id_cve_id')

    op.drop_table('patch_vulnerabilities')
    with op.batch_alter_table('patch_metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patch_metrics_snapshot_id'))

    op.drop_table('patch_metrics')
    with op.batch_alter_table('patch_groups', schema=None) as batch_op:
        batch_op.drop_index('uq_patch_groups_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_patch_groups_valid_to')
        batch_op.drop_index('ix_patch_groups_valid_from')

    op.drop_table('patch_groups')
    with op.batch_alter_table('health_policies', schema=None) as batch_op:
        batch_op.drop_index('uq_health_policies_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_health_policies_valid_to')
        batch_op.drop_index('ix_health_policies_valid_from')

    op.drop_table('health_policies')
    op.drop_table('extraction_locks')
    with op.batch_alter_table('extraction_gaps', schema=None) as batch_op:
        batch_op.drop_index('ix_extraction_gaps_source_status')
        batch_op.drop_index('ix_extraction_gaps_snapshot')

    op.drop_table('extraction_gaps')
    op.drop_table('extraction_checkpoints')
    op.drop_table('endpoint_runs')
    with op.batch_alter_table('deployment_tasks', schema=None) as batch_op:
        batch_op.drop_index('uq_deployment_tasks_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_deployment_tasks_valid_to')
        batch_op.drop_index('ix_deployment_tasks_valid_from')
        batch_op.drop_index('ix_deployment_tasks_source_id_task_modified_time')

    op.drop_table('deployment_tasks')
    with op.batch_alter_table('deployment_policies', schema=None) as batch_op:
        batch_op.drop_index('uq_deployment_policies_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_deployment_policies_valid_to')
        batch_op.drop_index('ix_deployment_policies_valid_from')

    op.drop_table('deployment_policies')
    with op.batch_alter_table('compliance_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_checks_snapshot_id'))
        batch_op.drop_index('ix_compliance_checks_outcome')

    op.drop_table('compliance_checks')
    with op.batch_alter_table('branch_offices', schema=None) as batch_op:
        batch_op.drop_index('uq_branch_offices_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_branch_offices_valid_to')
        batch_op.drop_index('ix_branch_offices_valid_from')
        batch_op.drop_index('ix_branch_offices_source_id_branch_office_name')

    op.drop_table('branch_offices')
    with op.batch_alter_table('approval_settings', schema=None) as batch_op:
        batch_op.drop_index('uq_approval_settings_current', sqlite_where=sa.text('valid_to_snapshot_id IS NULL'), postgresql_where=sa.text('valid_to_snapshot_id IS NULL'))
        batch_op.drop_index('ix_approval_settings_valid_to')
        batch_op.drop_index('ix_approval_settings_valid_from')

    op.drop_table('approval_settings')
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.drop_index('uq_snapshots_open', sqlite_where=sa.text("status = 'in_progress'"), postgresql_where=sa.text("status = 'in_progress'"))
        batch_op.drop_index('ix_snapshots_source_status')
        batch_op.drop_index('ix_snapshots_source_started')

    op.drop_table('snapshots')
    op.drop_table('sources')
    op.drop_table('known_exploited_vulnerabilities')
