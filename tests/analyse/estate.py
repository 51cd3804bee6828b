"""Hand-built estates for the analysis tests (factory-boy, flushed into the test session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from factories import (
    PatchFactory,
    ServerSummaryFactory,
    SnapshotFactory,
    SourceFactory,
    SystemFactory,
    SystemPatchStateFactory,
)

from pmp_intel.store import models as m

NOW = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
_ids = count(1)

CHROME = {
    "vendor_name": "Google",
    "update_name": "Third Party Updates",
    "patch_name": "ChromeSetup.exe",
    "patch_description": "Google Chrome (137.0.7151.56)",
}
SEVEN_ZIP = {
    "vendor_name": "Igor Pavlov",
    "update_name": "Third Party Updates",
    "patch_name": "7z2409-x64.exe",
    "patch_description": "7-Zip 24.09 (x64)",
}
WINDOWS_CU = {
    "vendor_name": "Microsoft",
    "update_name": "Security Updates",
    "patch_name": "windows10.0-kb5058411-x64.msu",
    "patch_description": "2025-05 Cumulative Update for Windows Server 2022 (KB5058411)",
}
WINDOWS_11_CU = {
    "vendor_name": "Microsoft",
    "update_name": "Security Updates",
    "patch_name": "windows11.0-kb5058405-x64.msu",
    "patch_description": "2025-05 Cumulative Update for Windows 11 Version 23H2 (KB5058405)",
}
WORD = {
    "vendor_name": "Microsoft",
    "update_name": "Security Updates",
    "patch_name": "word2016-kb5002700-fullfile-x86-glb.exe",
    "patch_description": "Security Update for Microsoft Word 2016 (KB5002700) 32-Bit Edition",
}
INTEL_DRIVER = {
    "vendor_name": "Intel",
    "update_name": "Driver Updates",
    "patch_name": "igfx-31.0.101.5522.cab",
    "patch_description": "Intel Graphics Driver 31.0.101.5522",
}
DELL_BIOS = {
    "vendor_name": "Dell",
    "update_name": "BIOS Updates",
    "patch_name": "Latitude_5440_1.12.0.exe",
    "patch_description": "Dell BIOS Update 1.12.0 for Dell Latitude 5440",
}


@dataclass
class Estate:
    """One source with a current snapshot at :data:`NOW`; helpers add rows to it."""

    source: m.Source
    snapshot: m.Snapshot
    systems: dict[str, m.System] = field(default_factory=dict)
    #: The earlier snapshot (lower id, as snapshot ids grow with time), if any.
    history: m.Snapshot | None = None

    @classmethod
    def create(
        cls,
        *,
        history_days: float | None = 14,
        db_age_hours: float | None = 2,
        baseline: bool = True,
    ) -> Estate:
        """A source; optionally an earlier snapshot (extraction history for ISM-1807), a
        server summary with a fresh vulnerability database (ISM-1808), and a baseline
        workstation whose OS, other-application, driver and firmware patches (non-critical)
        were all applied within a day, so only the office/browser class and internet-facing
        systems are left for a test to decide."""
        source = SourceFactory()
        history = None
        if history_days is not None:
            history = SnapshotFactory(source=source, started_at=NOW - timedelta(days=history_days))
        snapshot = SnapshotFactory(source=source, started_at=NOW)
        if db_age_hours is not None:
            ServerSummaryFactory(
                snapshot=snapshot,
                last_db_update_time=NOW - timedelta(hours=db_age_hours),
                last_db_update_status="Success",
            )
        estate = cls(source, snapshot, history=history)
        if baseline:
            base = estate.system("BASE-01")
            for fields in (WINDOWS_11_CU, SEVEN_ZIP, INTEL_DRIVER, DELL_BIOS):
                estate.state(
                    base, estate.patch(fields, severity=3), installed_after=timedelta(days=1)
                )
        return estate

    def system(
        self, name: str, os_name: str = "Windows 11 Enterprise Edition (x64)", **kwargs: Any
    ) -> m.System:
        """A system current at the snapshot, scanned an hour ago by default."""
        kwargs.setdefault("last_successful_scan_time", NOW - timedelta(hours=1))
        kwargs.setdefault("agent_last_contact_time", NOW - timedelta(hours=1))
        system = SystemFactory(
            valid_from_snapshot=self.snapshot,
            resource_id=10_000_000 + next(_ids),
            resource_name=name,
            os_name=os_name,
            **kwargs,
        )
        self.systems[name] = system
        return system

    def patch(
        self,
        fields: dict[str, Any],
        *,
        released_days_ago: float | None = 20,
        severity: int = 4,
        **kwargs: Any,
    ) -> m.Patch:
        """A patch current at the snapshot, released ``released_days_ago`` before it."""
        released = None if released_days_ago is None else NOW - timedelta(days=released_days_ago)
        return PatchFactory(
            valid_from_snapshot=self.snapshot,
            patch_id=500_000 + next(_ids),
            severity=severity,
            patch_released_time=released,
            **{**fields, **kwargs},
        )

    def state(
        self,
        system: m.System,
        patch: m.Patch,
        status: int = 201,
        *,
        installed_after: timedelta | None = None,
        **kwargs: Any,
    ) -> m.SystemPatchState:
        """The patch on the system; installed ``installed_after`` its release."""
        installed = None
        if installed_after is not None:
            assert patch.patch_released_time is not None
            installed = patch.patch_released_time + installed_after
        return SystemPatchStateFactory(
            valid_from_snapshot=self.snapshot,
            resource_id=system.resource_id,
            patch_id=patch.patch_id,
            install_status=status,
            installed_time=installed,
            **kwargs,
        )
