"""Systems, patches, per-system patch state, branch offices and SoM computers."""

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
from pmp_intel.store.models.codes import (
    AgentInstallationStatus,
    ApprovalStatus,
    HealthStatus,
    InstallStatus,
    LiveStatus,
    Platform,
    ScanStatus,
    Severity,
    domain,
)


class SystemFields(EntityFields):
    """A managed computer, from allsystems (plus scandetails' scan fields)."""

    __natural_key__ = ("resource_id",)
    __domains__: ClassVar[Domains] = {
        "os_platform": domain(Platform),
        "resource_health_status": domain(HealthStatus),
        "computer_live_status": domain(LiveStatus),
        "scan_status": domain(ScanStatus),
        "agent_installation_status": domain(AgentInstallationStatus),
    }
    __lookup_indexes__ = (
        ("source_id", "branch_office_name"),
        ("source_id", "resource_health_status"),
        ("source_id", "os_platform_name"),
        ("source_id", "resource_name"),
    )
    __volatile__ = (
        "agent_last_contact_time",
        "agent_last_bootup_time",
        "computer_live_status",
        "last_scan_time",
    )

    resource_id: Mapped[int] = mapped_column(BigInteger)
    resource_name: Mapped[str | None] = mapped_column(String(255))
    domain_netbios_name: Mapped[str | None] = mapped_column(String(255))
    branch_office_id: Mapped[int | None] = mapped_column(BigInteger)
    branch_office_name: Mapped[str | None] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_name: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str | None] = mapped_column(String(255))
    mac_address: Mapped[str | None] = mapped_column(String(255))
    os_name: Mapped[str | None] = mapped_column(String(255))
    os_platform: Mapped[int | None] = mapped_column(SmallInteger)
    os_platform_name: Mapped[str | None] = mapped_column(String(64))
    os_language: Mapped[str | None] = mapped_column(String(64))
    service_pack: Mapped[str | None] = mapped_column(String(255))
    agent_version: Mapped[str | None] = mapped_column(String(64))
    agent_installed_on: Mapped[datetime | None]
    agent_installation_status: Mapped[int | None] = mapped_column(SmallInteger)
    agent_last_contact_time: Mapped[datetime | None]
    agent_last_bootup_time: Mapped[datetime | None]
    computer_live_status: Mapped[int | None] = mapped_column(SmallInteger)
    resource_health_status: Mapped[int | None] = mapped_column(SmallInteger)
    scan_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_scan_time: Mapped[datetime | None]
    last_successful_scan_time: Mapped[datetime | None]
    last_patched_time: Mapped[datetime | None]
    missing_ms_patches: Mapped[int | None] = mapped_column(Integer)
    missing_tp_patches: Mapped[int | None] = mapped_column(Integer)
    missing_driver_patches: Mapped[int | None] = mapped_column(Integer)
    missing_bios_patches: Mapped[int | None] = mapped_column(Integer)
    installed_ms_patches: Mapped[int | None] = mapped_column(Integer)
    installed_tp_patches: Mapped[int | None] = mapped_column(Integer)
    installed_driver_patches: Mapped[int | None] = mapped_column(Integer)
    installed_bios_patches: Mapped[int | None] = mapped_column(Integer)
    critical_patch_count: Mapped[int | None] = mapped_column(Integer)
    important_patch_count: Mapped[int | None] = mapped_column(Integer)
    moderate_patch_count: Mapped[int | None] = mapped_column(Integer)
    low_patch_count: Mapped[int | None] = mapped_column(Integer)
    reboot_required: Mapped[bool | None] = mapped_column(Boolean)
    description: Mapped[str | None] = mapped_column(Text)


class System(HistoryMixin, SystemFields, Base):
    """History of systems (natural key: ``resource_id``)."""

    __tablename__ = "systems"


class StagedSystem(StagingMixin, SystemFields, Base):
    """Systems written by the extractor, awaiting the snapshot's merge."""

    __tablename__ = "stg_systems"


class PatchFields(EntityFields):
    """A patch applicable in the estate, from allpatches (key ``patch_id``, never
    ``update_id``, which repeats)."""

    __natural_key__ = ("patch_id",)
    __domains__: ClassVar[Domains] = {
        "platform": domain(Platform),
        "severity": domain(Severity),
        "approval_status": domain(ApprovalStatus),
    }
    __lookup_indexes__ = (
        ("source_id", "severity"),
        ("source_id", "bulletin_id"),
        ("source_id", "vendor_name"),
    )

    patch_id: Mapped[int] = mapped_column(BigInteger)
    update_id: Mapped[int | None] = mapped_column(BigInteger)
    bulletin_id: Mapped[str | None] = mapped_column(String(128))
    patch_name: Mapped[str | None] = mapped_column(String(512))
    patch_description: Mapped[str | None] = mapped_column(Text)
    #: PMP's category text: "Security Updates", "Third Party Updates", …
    update_name: Mapped[str | None] = mapped_column(String(128))
    patch_type: Mapped[int | None] = mapped_column(SmallInteger)
    vendor_name: Mapped[str | None] = mapped_column(String(255))
    platform: Mapped[int | None] = mapped_column(SmallInteger)
    platform_name: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[int | None] = mapped_column(SmallInteger)
    approval_status: Mapped[int | None] = mapped_column(SmallInteger)
    download_status: Mapped[int | None] = mapped_column(SmallInteger)
    patch_noreboot: Mapped[int | None] = mapped_column(SmallInteger)
    uninstall_supported: Mapped[bool | None] = mapped_column(Boolean)
    patch_size: Mapped[int | None] = mapped_column(BigInteger)
    patch_released_time: Mapped[datetime | None]
    patch_updated_time: Mapped[datetime | None]
    patch_supported_time: Mapped[datetime | None]
    superseded_by: Mapped[str | None] = mapped_column(String(128))
    is_superseded: Mapped[bool | None] = mapped_column(Boolean)


class Patch(HistoryMixin, PatchFields, Base):
    """History of patches (natural key: ``patch_id``)."""

    __tablename__ = "patches"


class StagedPatch(StagingMixin, PatchFields, Base):
    """Patches written by the extractor, awaiting the snapshot's merge."""

    __tablename__ = "stg_patches"


class SystemPatchStateFields(EntityFields):
    """One patch on one system: installed, missing or failed (systemreport / dcapi)."""

    __natural_key__ = ("resource_id", "patch_id")
    __domains__: ClassVar[Domains] = {
        "install_status": domain(InstallStatus),
        "approval_status": domain(ApprovalStatus),
    }
    __lookup_indexes__ = (
        ("source_id", "patch_id"),
        ("source_id", "install_status"),
    )
    #: The current missing / failed pairs alone (a few % of the current pairs): dashboards
    #: read them without touching the installed majority or the history. Queries must spell
    #: the condition literally (``install_status IN (202, 206)``) for SQLite to use it.
    __current_indexes__: ClassVar[dict[str, tuple[tuple[str, ...], str]]] = {
        "open": (
            ("source_id", "install_status", "resource_id", "patch_id"),
            "install_status IN (202, 206)",
        ),
    }

    resource_id: Mapped[int] = mapped_column(BigInteger)
    patch_id: Mapped[int] = mapped_column(BigInteger)
    install_status: Mapped[int] = mapped_column(SmallInteger)
    approval_status: Mapped[int | None] = mapped_column(SmallInteger)
    #: 209 installed, 206 failed, 207 installed/reboot pending, 245 delayed (legacy notes).
    deployment_status: Mapped[int | None] = mapped_column(SmallInteger)
    install_error_code: Mapped[int | None] = mapped_column(Integer)
    installed_time: Mapped[datetime | None]
    deploy_remarks: Mapped[str | None] = mapped_column(Text)


class SystemPatchState(HistoryMixin, SystemPatchStateFields, Base):
    """History of per-system patch state (natural key: ``resource_id``, ``patch_id``)."""

    __tablename__ = "system_patch_states"


class StagedSystemPatchState(StagingMixin, SystemPatchStateFields, Base):
    """Per-system patch states written by the extractor, awaiting the merge."""

    __tablename__ = "stg_system_patch_states"


class BranchOfficeFields(EntityFields):
    """A branch (remote) office: in an MSP estate, one customer organisation."""

    __natural_key__ = ("branch_office_id",)
    __lookup_indexes__ = (("source_id", "branch_office_name"),)

    branch_office_id: Mapped[int] = mapped_column(BigInteger)
    branch_office_name: Mapped[str | None] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(BigInteger)


class BranchOffice(HistoryMixin, BranchOfficeFields, Base):
    """History of branch offices (natural key: ``branch_office_id``)."""

    __tablename__ = "branch_offices"


class StagedBranchOffice(StagingMixin, BranchOfficeFields, Base):
    """Branch offices awaiting the merge."""

    __tablename__ = "stg_branch_offices"


class SomComputerFields(EntityFields):
    """A computer in the agent inventory (``som/computers``): evidence of asset discovery."""

    __natural_key__ = ("resource_id",)
    __domains__: ClassVar[Domains] = {
        "installation_status": domain(AgentInstallationStatus),
        "computer_live_status": domain(LiveStatus),
    }
    __lookup_indexes__ = (("source_id", "branch_office_name"),)
    __volatile__ = ("last_contact_time", "computer_live_status")

    resource_id: Mapped[int] = mapped_column(BigInteger)
    resource_name: Mapped[str | None] = mapped_column(String(255))
    domain_name: Mapped[str | None] = mapped_column(String(255))
    customer_name: Mapped[str | None] = mapped_column(String(255))
    branch_office_name: Mapped[str | None] = mapped_column(String(255))
    os_name: Mapped[str | None] = mapped_column(String(255))
    os_version: Mapped[str | None] = mapped_column(String(128))
    os_platform_name: Mapped[str | None] = mapped_column(String(64))
    service_pack: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str | None] = mapped_column(String(255))
    mac_address: Mapped[str | None] = mapped_column(String(255))
    agent_installed_on: Mapped[datetime | None]
    installation_status: Mapped[int | None] = mapped_column(SmallInteger)
    computer_live_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_contact_time: Mapped[datetime | None]


class SomComputer(HistoryMixin, SomComputerFields, Base):
    """History of the agent inventory (natural key: ``resource_id``)."""

    __tablename__ = "som_computers"


class StagedSomComputer(StagingMixin, SomComputerFields, Base):
    """Agent inventory rows awaiting the merge."""

    __tablename__ = "stg_som_computers"
