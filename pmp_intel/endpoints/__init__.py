"""Pluggable endpoint clients: one small class per PMP endpoint, in a registry.

    from pmp_intel.endpoints import registry
    endpoint = registry.get("allsystems")
    for outcome in client.iter_pages(endpoint):
        ...

Registry names (a public contract): summary, allsystems, scandetails, allpatches,
allpatchdetails, systemreport, supportedpatches, installedpatches, missingpatches,
deploymentpolicies, viewconfig, healthpolicy, approvalsettings, dbupdatestatus, apdtasks,
som_computers, som_summary, som_remoteoffice, dcapi_patches, dcapi_systemreport,
vulnerabilities, deploymenttasks, patchgroups. Other distributions add endpoints through
the ``pmp_intel.endpoints`` entry-point group (see :mod:`pmp_intel.endpoints.registry`).
"""

from pmp_intel.endpoints import (  # noqa: F401  (importing registers the built-ins)
    optional,
    patches,
    policies,
    som,
    states,
    summary,
    systems,
    vulnerabilities,
)
from pmp_intel.endpoints.base import Endpoint, PagingStyle, PMPRecord, Row
from pmp_intel.endpoints.registry import (
    ENTRY_POINT_GROUP,
    EndpointRegistry,
    UnknownEndpointError,
    get_endpoint,
    register,
    registry,
)

#: Registration order of the built-ins as the extractor should run them: parents before
#: fan-outs (allsystems before systemreport, allpatches before allpatchdetails).
BUILTIN_ORDER = (
    "summary", "allsystems", "scandetails", "allpatches", "allpatchdetails", "systemreport",
    "supportedpatches", "installedpatches", "missingpatches", "deploymentpolicies",
    "viewconfig", "healthpolicy", "approvalsettings", "dbupdatestatus", "apdtasks",
    "som_computers", "som_summary", "som_remoteoffice", "dcapi_patches",
    "dcapi_systemreport", "vulnerabilities", "deploymenttasks", "patchgroups",
)

registry.reorder(BUILTIN_ORDER)

__all__ = [
    "BUILTIN_ORDER",
    "ENTRY_POINT_GROUP",
    "Endpoint",
    "EndpointRegistry",
    "PMPRecord",
    "PagingStyle",
    "Row",
    "UnknownEndpointError",
    "get_endpoint",
    "register",
    "registry",
]
