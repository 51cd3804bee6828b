"""Optional endpoints absent on most servers (pmp-api.md §4 "Not found"): a 404 is reported
as "not supported by this server", never a crash. ``vulnerabilities`` lives in
:mod:`pmp_intel.endpoints.vulnerabilities`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pmp_intel.endpoints.base import Endpoint, PMPRecord
from pmp_intel.endpoints.coerce import OptStr
from pmp_intel.endpoints.policies import DEPLOYMENT_TASK_COLUMNS, DeploymentTaskRecord
from pmp_intel.endpoints.registry import register

PATCH_GROUP_COLUMNS = frozenset({"group_id", "group_name"})


class PatchGroupRecord(PMPRecord):
    """A patch group."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "group_id": ("patch_group_id", "patchgroup_id", "id"),
        "group_name": ("patch_group_name", "patchgroup_name", "name"),
    }

    group_id: int
    group_name: OptStr = None


@register
class DeploymentTasks(Endpoint):
    """``/api/1.4/patch/deploymenttasks`` (optional)."""

    name = "deploymenttasks"
    path = "patch/deploymenttasks"
    record_key = "deploymenttasks"
    alt_record_keys = ("deployment_tasks",)
    optional = True
    model = DeploymentTaskRecord
    entity = "deployment_task"
    entity_columns = DEPLOYMENT_TASK_COLUMNS


@register
class PatchGroups(Endpoint):
    """``/api/1.4/patch/patchgroups`` (optional)."""

    name = "patchgroups"
    path = "patch/patchgroups"
    record_key = "patchgroups"
    alt_record_keys = ("patch_groups",)
    optional = True
    model = PatchGroupRecord
    entity = "patch_group"
    entity_columns = PATCH_GROUP_COLUMNS
