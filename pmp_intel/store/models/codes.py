"""PMP's numeric codes (pmp-api.md §5b) as enums; the database enforces the same domains."""

from __future__ import annotations

from enum import IntEnum


class Severity(IntEnum):
    """Vendor severity of a patch."""

    UNRATED = 0
    LOW = 1
    MODERATE = 2
    IMPORTANT = 3
    CRITICAL = 4


class InstallStatus(IntEnum):
    """State of one patch on one system (``affected_patch_status`` / ``patchstatusfilter``)."""

    INSTALLED = 201
    MISSING = 202
    FAILED = 206


class ApprovalStatus(IntEnum):
    """Approval state of a patch (EC / C2 convention: 0 not approved, 211, 212)."""

    NOT_APPROVED = 0
    APPROVED = 211
    DECLINED = 212


class HealthStatus(IntEnum):
    """``resource_health_status``."""

    UNKNOWN = 0
    HEALTHY = 1
    VULNERABLE = 2
    HIGHLY_VULNERABLE = 3


class LiveStatus(IntEnum):
    """``computer_live_status``."""

    LIVE = 1
    DOWN = 2
    UNKNOWN = 3


class ScanStatus(IntEnum):
    """``scan_status``."""

    FAILED = 226
    IN_PROGRESS = 227
    SUCCESS = 228
    NOT_SCANNED = 229


class AgentInstallationStatus(IntEnum):
    """``installation_status`` of the agent."""

    NOT_INSTALLED = 21
    INSTALLED = 22
    UNINSTALLED = 23
    YET_TO_UNINSTALL = 24
    INSTALLATION_FAILURE = 29


class Platform(IntEnum):
    """``os_platform`` / ``platform``."""

    WINDOWS = 1
    MAC = 2
    LINUX = 3


def domain(enum: type[IntEnum]) -> tuple[int, ...]:
    """The values of ``enum``, for a CHECK constraint."""
    return tuple(int(member) for member in enum)
