"""Configuration: deployment policies, view configurations, health policy, approval
settings and APD tasks (pmp-api.md §6h–§6l, §6n)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import field_validator

from pmp_intel.endpoints.base import Endpoint, PagingStyle, PMPRecord
from pmp_intel.endpoints.coerce import EpochMs, OptBool, OptInt, OptStr, to_str
from pmp_intel.endpoints.registry import register

DEPLOYMENT_POLICY_COLUMNS = frozenset({
    "template_id", "template_name", "user_id", "created_by", "customer_id", "creation_time",
    "modified_time", "is_template_alive", "set_as_default",
})
DEPLOYMENT_TASK_COLUMNS = frozenset({
    "task_id", "task_name", "task_type", "collection_id", "collection_status",
    "os_platform_id", "os_platform_name", "total_target", "template_id", "user_id",
    "created_by", "task_creation_time", "task_modified_time", "remarks",
})
VIEW_CONFIGURATION_COLUMNS = frozenset({
    "config_id", "collection_id", "total_target_count", "os_platform_name",
    "collection_platform_id",
})
HEALTH_POLICY_COLUMNS = frozenset({
    f"{level}_{severity}"
    for level in ("vulnerable", "highly_vulnerable")
    for severity in ("critical", "important", "moderate", "low")
} | {"consider_only_approved_patches"})
APPROVAL_SETTING_COLUMNS = frozenset({"patch_approval"})


class DeploymentPolicyRecord(PMPRecord):
    """A deployment policy template."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {"created_by": ("first_name",)}

    template_id: int
    template_name: OptStr = None
    user_id: OptInt = None
    created_by: OptStr = None
    customer_id: OptInt = None
    creation_time: EpochMs = None
    modified_time: EpochMs = None
    is_template_alive: OptBool = None
    set_as_default: OptBool = None


class ViewConfigRecord(PMPRecord):
    """A view configuration."""

    config_id: int
    collection_id: OptInt = None
    total_target_count: OptInt = None
    os_platform_name: OptStr = None
    collection_platform_id: OptInt = None


class HealthPolicyRecord(PMPRecord):
    """Thresholds, flattened: ``{"vulnerable": {"critical": …}}`` → ``vulnerable_critical``."""

    vulnerable_critical: OptInt = None
    vulnerable_important: OptInt = None
    vulnerable_moderate: OptInt = None
    vulnerable_low: OptInt = None
    highly_vulnerable_critical: OptInt = None
    highly_vulnerable_important: OptInt = None
    highly_vulnerable_moderate: OptInt = None
    highly_vulnerable_low: OptInt = None
    consider_only_approved_patches: OptBool = None

    @classmethod
    def prepare(cls, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """Flatten the two nested threshold objects."""
        flat: dict[str, Any] = {}
        for key, value in data.items():
            level = str(key).lower()
            if level in {"vulnerable", "highly_vulnerable"} and isinstance(value, Mapping):
                for severity, threshold in value.items():
                    flat[f"{level}_{str(severity).lower()}"] = threshold
            else:
                flat[str(key)] = value
        return flat


class ApprovalSettingRecord(PMPRecord):
    """``patch_approval``: ``automatic`` or ``manual`` (anything else → None, kept in extra)."""

    patch_approval: OptStr = None

    @classmethod
    def prepare(cls, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """Move a value outside the domain to ``extra``."""
        value = data.get("patch_approval")
        text = to_str(value) if not isinstance(value, Mapping | list) else None
        if text is not None and text.lower() in {"automatic", "manual"}:
            return {**data, "patch_approval": text.lower()}
        if "patch_approval" in data and value is not None:
            rest = {k: v for k, v in data.items() if k != "patch_approval"}
            return {**rest, "patch_approval_raw": value}
        return data

    @field_validator("patch_approval")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value


class DeploymentTaskRecord(PMPRecord):
    """An automated patch deployment (APD) task; every value arrives as a string."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "created_by": ("first_name",),
        "task_id": ("taskid",),
        "total_target": ("total_target_count",),
        "task_creation_time": ("created_time",),
    }

    task_id: int
    task_name: OptStr = None
    task_type: OptInt = None
    collection_id: OptInt = None
    collection_status: OptInt = None
    os_platform_id: OptInt = None
    os_platform_name: OptStr = None
    total_target: OptInt = None
    template_id: OptInt = None
    user_id: OptInt = None
    created_by: OptStr = None
    task_creation_time: EpochMs = None
    task_modified_time: EpochMs = None
    remarks: OptStr = None


@register
class DeploymentPolicies(Endpoint):
    """``/api/1.4/patch/deploymentpolicies``."""

    name = "deploymentpolicies"
    path = "patch/deploymentpolicies"
    record_key = "deploymentpolicies"
    alt_record_keys = ("deploymenttemplate",)
    model = DeploymentPolicyRecord
    entity = "deployment_policy"
    entity_columns = DEPLOYMENT_POLICY_COLUMNS


@register
class ViewConfig(Endpoint):
    """``/api/1.4/patch/viewconfig``."""

    name = "viewconfig"
    path = "patch/viewconfig"
    record_key = "viewconfig"
    model = ViewConfigRecord
    entity = "view_configuration"
    entity_columns = VIEW_CONFIGURATION_COLUMNS


@register
class HealthPolicy(Endpoint):
    """``/api/1.4/patch/healthpolicy`` (one object)."""

    name = "healthpolicy"
    path = "patch/healthpolicy"
    record_key = "healthpolicy"
    paging = PagingStyle.SINGLE
    model = HealthPolicyRecord
    entity = "health_policy"
    entity_columns = HEALTH_POLICY_COLUMNS


@register
class ApprovalSettings(Endpoint):
    """``/api/1.4/patch/approvalsettings`` (one object)."""

    name = "approvalsettings"
    path = "patch/approvalsettings"
    record_key = "approvalsettings"
    paging = PagingStyle.SINGLE
    model = ApprovalSettingRecord
    entity = "approval_setting"
    entity_columns = APPROVAL_SETTING_COLUMNS


@register
class ApdTasks(Endpoint):
    """``/api/1.3/patch/apdTaskListdetails`` (list key ``apdtasklistdetails``). PMP's docs
    say "not applicable for cloud"; a 404 there is a gap like any other."""

    name = "apdtasks"
    path = "patch/apdTaskListdetails"
    api_version = "1.3"
    record_key = "apdtasklistdetails"
    alt_record_keys = ("apdTaskListdetails",)
    model = DeploymentTaskRecord
    entity = "deployment_task"
    entity_columns = DEPLOYMENT_TASK_COLUMNS
