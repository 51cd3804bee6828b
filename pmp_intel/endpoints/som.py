"""Scope of management: ``som/computers`` and ``som/remoteoffice`` (pmp-api.md §4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pmp_intel.endpoints.base import Endpoint, PMPRecord
from pmp_intel.endpoints.coerce import AgentStatusCode, EpochMs, LiveStatusCode, OptInt, OptStr
from pmp_intel.endpoints.registry import register

SOM_COMPUTER_COLUMNS = frozenset({
    "resource_id", "resource_name", "domain_name", "customer_name", "branch_office_name",
    "os_name", "os_version", "os_platform_name", "service_pack", "ip_address", "mac_address",
    "agent_installed_on", "installation_status", "computer_live_status", "last_contact_time",
})
BRANCH_OFFICE_COLUMNS = frozenset({"branch_office_id", "branch_office_name", "customer_id"})


class SomComputerRecord(PMPRecord):
    """A computer of the agent inventory."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "domain_name": ("domain_netbios_name", "resource.domain_netbios_name"),
        "last_contact_time": ("agent_last_contact_time",),
        "installation_status": ("agent_installation_status",),
        "resource_id": ("resource.resource_id",),
        "resource_name": ("resource.name",),
    }

    resource_id: int
    resource_name: OptStr = None
    domain_name: OptStr = None
    customer_name: OptStr = None
    branch_office_name: OptStr = None
    os_name: OptStr = None
    os_version: OptStr = None
    os_platform_name: OptStr = None
    service_pack: OptStr = None
    ip_address: OptStr = None
    mac_address: OptStr = None
    agent_installed_on: EpochMs = None
    installation_status: AgentStatusCode = None
    computer_live_status: LiveStatusCode = None
    last_contact_time: EpochMs = None


class RemoteOfficeRecord(PMPRecord):
    """A branch (remote) office."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "branch_office_id": (
            "remote_office_id", "office_id", "branchofficedetails.branch_office_id"
        ),
        "branch_office_name": ("remote_office_name", "office_name"),
    }

    branch_office_id: int
    branch_office_name: OptStr = None
    customer_id: OptInt = None


@register
class SomComputers(Endpoint):
    """``/api/1.4/som/computers`` (list key ``computers``)."""

    name = "som_computers"
    path = "som/computers"
    record_key = "computers"
    model = SomComputerRecord
    entity = "som_computer"
    entity_columns = SOM_COMPUTER_COLUMNS


@register
class SomRemoteOffice(Endpoint):
    """``/api/1.4/som/remoteoffice`` (needs the SOM.READ scope on cloud)."""

    name = "som_remoteoffice"
    path = "som/remoteoffice"
    record_key = "remoteoffice"
    model = RemoteOfficeRecord
    entity = "branch_office"
    entity_columns = BRANCH_OFFICE_COLUMNS
