"""CVEs: the dcapi threats endpoints and the optional ``vulnerabilities`` endpoint.

``/dcapi/threats/patches`` describes patches with the CVEs they fix;
``/dcapi/threats/systemreport/patches`` lists, per system, the state of its patches
(maia-legacy.md §2.3, §2.6). Both use the dcapi envelope (``metadata.totalRecords``,
``pageLimit``). The CVE list of a record may arrive as a list of ids, a comma-separated
string, or a list of objects; all become :class:`CveRef`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, model_validator

from pmp_intel.endpoints.base import Endpoint, PagingStyle, PMPRecord, Row
from pmp_intel.endpoints.coerce import (
    ApprovalCode,
    DcapiInstallStatusCode,
    EpochMs,
    OptFloat,
    OptInt,
    OptStr,
    SeverityCode,
    is_sentinel,
    to_int,
)
from pmp_intel.endpoints.fast import FastPlan
from pmp_intel.endpoints.registry import register
from pmp_intel.endpoints.rowplan import RowPlan
from pmp_intel.endpoints.states import STATE_COLUMNS

VULNERABILITY_COLUMNS = frozenset(
    {"cve_id", "cvss_score", "cvss_severity", "description", "published_time"}
)
PATCH_VULNERABILITY_COLUMNS = frozenset({"patch_id", "cve_id"})

_CVE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)


class CveRef(PMPRecord):
    """A CVE as referenced from a patch (id plus whatever the server adds)."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "cve_id": ("cve", "cveid", "cve_name", "name", "id"),
        "cvss_score": ("cvss", "cvss_v3_score", "cvss3_score", "base_score", "cvss_base_score"),
        "cvss_severity": ("severity",),
        "published_time": ("published_date", "published_on", "published"),
    }

    cve_id: str
    cvss_score: OptFloat = None
    cvss_severity: OptStr = None
    description: OptStr = None
    published_time: EpochMs = None

    @model_validator(mode="after")
    def _upper(self) -> CveRef:
        if not _CVE.fullmatch(self.cve_id.strip()):
            raise ValueError("not a CVE id")
        object.__setattr__(self, "cve_id", self.cve_id.strip().upper())
        return self


def _cve_list(value: Any) -> list[Any]:
    if is_sentinel(value):
        return []
    if isinstance(value, str):
        return [{"cve_id": m.group(0)} for m in _CVE.finditer(value)]
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if isinstance(item, str):
                items.extend({"cve_id": m.group(0)} for m in _CVE.finditer(item))
            else:
                items.append(item)
        return items
    raise ValueError("not a CVE list")


CveList = Annotated[list[CveRef], BeforeValidator(_cve_list)]


def _int_list(value: Any) -> list[int]:
    if is_sentinel(value):
        return []
    items = value if isinstance(value, list) else re.split(r"[,\s]+", str(value).strip())
    numbers = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("patch_id", item.get("patchid"))
        number = to_int(item)
        if number is not None:
            numbers.append(number)
    return numbers


IntList = Annotated[list[int], BeforeValidator(_int_list)]


def _cve_rows(patch_id: int, cves: Iterable[CveRef]) -> list[Row]:
    rows: list[Row] = []
    for cve in cves:
        rows.append(("vulnerability", cve.columns(VULNERABILITY_COLUMNS)))
        rows.append(
            ("patch_vulnerability", {"patch_id": patch_id, "cve_id": cve.cve_id, "extra": None})
        )
    return rows


class ThreatPatchRecord(PMPRecord):
    """A patch of ``/dcapi/threats/patches`` with the CVEs it fixes."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "patch_id": ("patchid", "id"),
        "patch_name": ("patchname", "name"),
        "bulletin_id": ("bulletinid",),
        "cves": (
            "vulnerabilities",
            "cves_detail",
            "cve_ids",
            "cveids",
            "cve_list",
            "cve",
            "cve_id",
            "cvelist",
        ),
        "patch_released_time": ("released_time", "release_date", "patchreleasedtime"),
    }

    patch_id: int
    patch_name: OptStr = None
    bulletin_id: OptStr = None
    severity: SeverityCode = None
    vendor_name: OptStr = None
    patch_released_time: EpochMs = None
    cves: CveList = Field(default_factory=list)


class ThreatPatchState(PMPRecord):
    """One patch inside a dcapi systemreport record."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "patch_id": ("patchid",),
        "install_status": ("patch_status", "status", "installstatus"),
        "approval_status": ("approvalstatus",),
        "patch_name": ("patchname",),
        "bulletin_id": ("bulletinid",),
    }

    non_null: ClassVar[Mapping[str, str]] = {
        "install_status": "install status (patch_status) is missing",
    }
    describes_others = frozenset({"patch_name", "bulletin_id", "severity", "vendor_name"})

    patch_id: int
    install_status: DcapiInstallStatusCode
    approval_status: ApprovalCode = None
    deployment_status: OptInt = None
    install_error_code: OptInt = None
    installed_time: EpochMs = None
    deploy_remarks: OptStr = None
    patch_name: OptStr = None
    bulletin_id: OptStr = None
    severity: SeverityCode = None
    vendor_name: OptStr = None


class ThreatSystemRecord(PMPRecord):
    """A system of ``/dcapi/threats/systemreport/patches`` with its patches."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "resource_id": ("resourceid", "resid"),
        "resource_name": ("resourcename", "name"),
        "patches": ("patch_list", "patchlist"),
    }

    resource_id: int
    resource_name: OptStr = None
    patches: list[ThreatPatchState] = Field(default_factory=list)


@register
class DcapiPatches(Endpoint):
    """``/dcapi/threats/patches``: patches and their CVEs → vulnerability rows and
    patch → CVE links."""

    name = "dcapi_patches"
    path = "dcapi/threats/patches"
    api_version = None
    record_key = "patches"
    paging = PagingStyle.DCAPI_PAGED
    max_page_size = 100
    model = ThreatPatchRecord
    entity = "patch_vulnerability"
    entity_columns = PATCH_VULNERABILITY_COLUMNS

    def rows(self, record: Any, *, parent: str | None = None) -> Iterable[Row]:
        """A ``vulnerability`` and a ``patch_vulnerability`` row per CVE."""
        return _cve_rows(record.patch_id, record.cves)


@register
class DcapiSystemReport(Endpoint):
    """``/dcapi/threats/systemreport/patches``: per system, the state of its patches →
    one ``system_patch_state`` row per patch."""

    name = "dcapi_systemreport"
    path = "dcapi/threats/systemreport/patches"
    api_version = None
    record_key = "systemreport"
    paging = PagingStyle.DCAPI_PAGED
    #: A system record nests every patch of the system (about 40 on average): 50 systems a
    #: page is ~2,000 states, as much per page as 1,000 flat records of other endpoints.
    max_page_size = 50
    model = ThreatSystemRecord
    entity = "system_patch_state"
    entity_columns = STATE_COLUMNS
    complements = "systemreport"

    def rows(self, record: Any, *, parent: str | None = None) -> Iterable[Row]:
        """One state row per patch of the system."""
        rows: list[Row] = []
        for patch in record.patches:
            row = patch.columns(STATE_COLUMNS)
            row["resource_id"] = record.resource_id
            rows.append(("system_patch_state", row))
        return rows

    def wire_rows(self, item: Mapping[str, Any]) -> list[Row] | None:
        """:meth:`rows` of the validated system, with its patch states taken straight from
        the wire (:mod:`pmp_intel.endpoints.rowplan`); None when unsure of any of it."""
        plans = _system_report_plans()
        if plans is None:
            return None
        system_plan, state_plan = plans
        patches: Any = []
        rest: dict[str, Any] = {}
        found = False
        for key, value in item.items():
            target = ThreatSystemRecord._resolve(key) if type(key) is str else None
            if target is not None and target[0] == "patches":
                if found:  # competing keys for the list: the model ranks them
                    return None
                patches, found = value, True
            else:
                rest[key] = value
        if type(patches) is not list:
            return None
        rows: list[Row] = []
        for patch in patches:
            row = state_plan.row(patch) if type(patch) is dict else None
            if row is None:
                return None
            rows.append(("system_patch_state", row))
        system = system_plan.build(rest)  # the system's own fields, validated
        if system is None:
            return None
        resource_id = system.resource_id  # type: ignore[attr-defined]
        for _, row in rows:
            row["resource_id"] = resource_id
        return rows


@cache
def _system_report_plans() -> tuple[FastPlan, RowPlan] | None:
    """The system's fast plan and its patch states' row plan, or None without them."""
    system_plan = ThreatSystemRecord.fast_plan()
    state_plan = RowPlan.of(ThreatPatchState, STATE_COLUMNS)
    plain = ThreatSystemRecord.prepare.__func__ is PMPRecord.prepare.__func__  # type: ignore[attr-defined]
    if system_plan is None or state_plan is None or not plain:
        return None
    return system_plan, state_plan


class VulnerabilityRecord(CveRef):
    """A record of the optional ``vulnerabilities`` endpoint."""

    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {
        **CveRef.aliases,
        "patch_ids": ("patchids", "patch_id", "patches", "patchid"),
    }

    patch_ids: IntList = Field(default_factory=list)


@register
class Vulnerabilities(Endpoint):
    """``/api/1.4/patch/vulnerabilities``: optional; most servers answer 404 ("not
    supported by this server")."""

    name = "vulnerabilities"
    path = "patch/vulnerabilities"
    record_key = "vulnerabilities"
    optional = True
    model = VulnerabilityRecord
    entity = "vulnerability"
    entity_columns = VULNERABILITY_COLUMNS

    def rows(self, record: Any, *, parent: str | None = None) -> Iterable[Row]:
        """The CVE row, plus a link per patch id it names."""
        rows: list[Row] = [("vulnerability", record.columns(VULNERABILITY_COLUMNS))]
        for patch_id in record.patch_ids:
            rows.append(
                (
                    "patch_vulnerability",
                    {"patch_id": patch_id, "cve_id": record.cve_id, "extra": None},
                )
            )
        return rows
