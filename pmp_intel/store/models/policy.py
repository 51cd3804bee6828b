"""Deployment policies, APD tasks, patch groups, view configurations, health and approval
settings."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import BigInteger, Boolean, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pmp_intel.store.models.base import (
    Base,
    Domains,
    EntityFields,
    HistoryMixin,
    StagingMixin,
)


class DeploymentPolicyFields(EntityFields):
    """A deployment policy template (``deploymentpolicies``; key ``template_id``)."""

    __natural_key__ = ("template_id",)

    template_id: Mapped[int] = mapped_column(BigInteger)
    template_name: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    creation_time: Mapped[datetime | None]
    modified_time: Mapped[datetime | None]
    is_template_alive: Mapped[bool | None] = mapped_column(Boolean)
    set_as_default: Mapped[bool | None] = mapped_column(Boolean)


class DeploymentPolicy(HistoryMixin, DeploymentPolicyFields, Base):
    """History of deployment policies."""

    __tablename__ = "deployment_policies"


class StagedDeploymentPolicy(StagingMixin, DeploymentPolicyFields, Base):
    """Deployment policies awaiting the merge."""

    __tablename__ = "stg_deployment_policies"


class DeploymentTaskFields(EntityFields):
    """An automated patch deployment (APD) task (``apdTaskListdetails``; key ``task_id``)."""

    __natural_key__ = ("task_id",)
    __lookup_indexes__ = (("source_id", "task_modified_time"),)

    task_id: Mapped[int] = mapped_column(BigInteger)
    task_name: Mapped[str | None] = mapped_column(String(255))
    task_type: Mapped[int | None] = mapped_column(SmallInteger)
    collection_id: Mapped[int | None] = mapped_column(BigInteger)
    collection_status: Mapped[int | None] = mapped_column(SmallInteger)
    os_platform_id: Mapped[int | None] = mapped_column(SmallInteger)
    os_platform_name: Mapped[str | None] = mapped_column(String(64))
    total_target: Mapped[int | None] = mapped_column(Integer)
    template_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(255))
    task_creation_time: Mapped[datetime | None]
    task_modified_time: Mapped[datetime | None]
    remarks: Mapped[str | None] = mapped_column(Text)


class DeploymentTask(HistoryMixin, DeploymentTaskFields, Base):
    """History of APD tasks."""

    __tablename__ = "deployment_tasks"


class StagedDeploymentTask(StagingMixin, DeploymentTaskFields, Base):
    """APD tasks awaiting the merge."""

    __tablename__ = "stg_deployment_tasks"


class PatchGroupFields(EntityFields):
    """A patch group (optional ``patchgroups`` endpoint, absent on most servers)."""

    __natural_key__ = ("group_id",)

    group_id: Mapped[int] = mapped_column(BigInteger)
    group_name: Mapped[str | None] = mapped_column(String(255))


class PatchGroup(HistoryMixin, PatchGroupFields, Base):
    """History of patch groups."""

    __tablename__ = "patch_groups"


class StagedPatchGroup(StagingMixin, PatchGroupFields, Base):
    """Patch groups awaiting the merge."""

    __tablename__ = "stg_patch_groups"


class ViewConfigurationFields(EntityFields):
    """A view configuration (``viewconfig``; key ``config_id``)."""

    __natural_key__ = ("config_id",)

    config_id: Mapped[int] = mapped_column(BigInteger)
    collection_id: Mapped[int | None] = mapped_column(BigInteger)
    total_target_count: Mapped[int | None] = mapped_column(Integer)
    os_platform_name: Mapped[str | None] = mapped_column(String(64))
    collection_platform_id: Mapped[int | None] = mapped_column(SmallInteger)


class ViewConfiguration(HistoryMixin, ViewConfigurationFields, Base):
    """History of view configurations."""

    __tablename__ = "view_configurations"


class StagedViewConfiguration(StagingMixin, ViewConfigurationFields, Base):
    """View configurations awaiting the merge."""

    __tablename__ = "stg_view_configurations"


class HealthPolicyFields(EntityFields):
    """Thresholds that make a system vulnerable / highly vulnerable (one per source)."""

    __domains__: ClassVar[Domains] = {}

    vulnerable_critical: Mapped[int | None] = mapped_column(Integer)
    vulnerable_important: Mapped[int | None] = mapped_column(Integer)
    vulnerable_moderate: Mapped[int | None] = mapped_column(Integer)
    vulnerable_low: Mapped[int | None] = mapped_column(Integer)
    highly_vulnerable_critical: Mapped[int | None] = mapped_column(Integer)
    highly_vulnerable_important: Mapped[int | None] = mapped_column(Integer)
    highly_vulnerable_moderate: Mapped[int | None] = mapped_column(Integer)
    highly_vulnerable_low: Mapped[int | None] = mapped_column(Integer)
    consider_only_approved_patches: Mapped[bool | None] = mapped_column(Boolean)


class HealthPolicy(HistoryMixin, HealthPolicyFields, Base):
    """History of the health policy (one current row per source)."""

    __tablename__ = "health_policies"


class StagedHealthPolicy(StagingMixin, HealthPolicyFields, Base):
    """The health policy awaiting the merge."""

    __tablename__ = "stg_health_policies"


class ApprovalSettingFields(EntityFields):
    """How patches get approved (one per source)."""

    __domains__: ClassVar[Domains] = {
        "patch_approval": ("automatic", "manual"),
    }

    patch_approval: Mapped[str | None] = mapped_column(String(16))


class ApprovalSetting(HistoryMixin, ApprovalSettingFields, Base):
    """History of the approval setting (one current row per source)."""

    __tablename__ = "approval_settings"


class StagedApprovalSetting(StagingMixin, ApprovalSettingFields, Base):
    """The approval setting awaiting the merge."""

    __tablename__ = "stg_approval_settings"
