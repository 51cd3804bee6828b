"""Estate entities → records in PMP's typed wire shape (pmp-api.md §6).

Records carry what the real server sends: epoch-millisecond times, ``"--"`` for absent values,
``-1``/``"NA"`` sentinels where the samples show them, i18n label keys, and dotted
``table.column`` keys. Stringly mode is applied later (:mod:`pmp_intel.testing.wire`).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from typing import Any

from pmp_intel.testing.catalogue import LANGUAGES, PLATFORM_NAMES, PRODUCTS, TECHNICIANS
from pmp_intel.testing.estate import (
    APPROVED,
    DAY_MS,
    DECLINED,
    DEPLOY_FAILED,
    FAILED,
    HOUR_MS,
    INSTALLED,
    MISSING,
    SCAN_FAILED,
    SCAN_IN_PROGRESS,
    SCAN_NOT_SCANNED,
    SCAN_SUCCESS,
    SYNTHETIC_PATCH_ID_BASE,
    Estate,
    Patch,
    Row,
    System,
)
from pmp_intel.testing.rng import key, label, mix64, unit

Record = dict[str, Any]
NA = "--"

SEVERITY_LABELS = (
    "dc.common.UNRATED",
    "dc.common.LOW",
    "dc.common.MODERATE",
    "dc.common.IMPORTANT",
    "dc.common.CRITICAL",
)
SEVERITY_NAMES = ("Unrated", "Low", "Moderate", "Important", "Critical")
APPROVAL_LABELS = {
    APPROVED: "dc.common.APPROVED",
    0: "dc.common.NOT_APPROVED",
    DECLINED: "dc.common.DECLINED",
}
APPROVAL_IMAGES = {
    APPROVED: "images/approved_icon.gif",
    0: "images/not_approved_icon.gif",
    DECLINED: "images/declined_icon.gif",
}
INSTALL_LABELS = {
    INSTALLED: "dc.common.INSTALLED",
    MISSING: "dc.common.MISSING",
    FAILED: "dc.common.FAILED",
}
INSTALL_IMAGES = {
    INSTALLED: "images/installed.gif",
    MISSING: "images/missing.gif",
    FAILED: "images/failed.gif",
}
SCAN_LABELS = {
    SCAN_SUCCESS: "dc.common.SCANNING_COMPLETED",
    SCAN_FAILED: "dc.common.SCANNING_FAILED",
    SCAN_IN_PROGRESS: "dc.common.SCANNING_IN_PROGRESS",
    SCAN_NOT_SCANNED: "dc.common.NOT_SCANNED",
}
DCAPI_STATUS = {INSTALLED: "Installed", MISSING: "Missing", FAILED: "Failed"}
CVSS_BANDS = ((9.0, "CRITICAL"), (7.0, "HIGH"), (4.0, "MEDIUM"), (0.0, "LOW"))
ESU_REMARK = "Extended Security Updates (ESU) licence not found on this computer"
FAIL_REMARKS = {
    1603: "Fatal error during installation",
    1618: "Another installation is in progress",
    17: "The patch could not be downloaded to the agent",
    2: "Installer file not found",
}
APD_KINDS = ("Monthly", "Weekly", "Critical", "Third Party")
AGENT_DIRS = {
    1: "C:\\Program Files (x86)\\DesktopCentral_Agent\\",
    2: "/Library/ManageEngine/PatchManagerPlus/",
    3: "/usr/local/manageengine/uems_agent/",
}


def cvss_severity(score: float) -> str:
    """CVSS v3 qualitative band of a score."""
    return next(band for floor, band in CVSS_BANDS if score >= floor)


class RecordBuilder:
    """Builds every record type from one estate, with per-version caches of the few
    whole-estate indexes the detail endpoints need."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self._lock = threading.RLock()
        self._version = -1
        self._cache: dict[Any, Any] = {}

    def cached(self, name: Any, build: Any) -> Any:
        """``build()`` once per estate version under ``name``."""
        with self._lock:
            if self._version != self.estate.version:
                self._cache.clear()
                self._version = self.estate.version
            if name not in self._cache:
                self._cache[name] = build()
            return self._cache[name]

    # ------------------------------------------------------------------ systems ---
    def allsystems(self, index: int) -> Record:
        """One ``allsystems`` record."""
        e = self.estate
        s = e.system(index)
        st = e.state(index)
        sev = st.missing_by_severity
        scanned = st.scan_status != SCAN_NOT_SCANNED
        contact = e.last_contact_ms(s)
        scan_time: int | str = self._scan_time(s) if scanned else NA
        last_success: int | str = NA
        if isinstance(scan_time, int):
            last_success = scan_time if st.scan_status == SCAN_SUCCESS else scan_time - DAY_MS
        missing, installed = st.missing, st.installed
        return {
            "resource_id": s.resource_id,
            "resource_name": s.name,
            "domain_netbios_name": s.domain,
            "branch_office_id": s.org.branch_office_id,
            "branch_office_name": s.org.name,
            "customer_id": s.org.customer_id,
            "ip_address": s.ip_address,
            "mac_address": s.mac_address,
            "os_name": s.os.os_name,
            "os_platform": s.os.platform,
            "os_platform_name": PLATFORM_NAMES[s.os.platform],
            "os_language": 1,
            "service_pack": s.os.version,
            "agent_version": s.agent_version,
            "agent_installed_on": s.agent_installed_on,
            "agent_last_contact_time": contact,
            "agent_last_bootup_time": contact - int(unit(s.skey) * 9 * DAY_MS),
            "computer_live_status": st.live_status,
            "resource_health_status": st.health,
            "scan_status": st.scan_status,
            "last_scan_time": scan_time,
            "last_successful_scan": last_success,
            "last_patched_time": st.last_patched,
            "missing_ms_patches": missing["ms"],
            "missing_tp_patches": missing["tp"],
            "missing_driver_patches": missing["driver"],
            "missing_bios_patches": missing["bios"],
            "installed_ms_patches": installed["ms"],
            "installed_tp_patches": installed["tp"],
            "installed_driver_patches": installed["driver"],
            "installed_bios_patches": installed["bios"],
            "total_ms_patches": missing["ms"] + installed["ms"],
            "total_tp_patches": missing["tp"] + installed["tp"],
            "total_driver_patches": missing["driver"] + installed["driver"],
            "total_bios_patches": missing["bios"] + installed["bios"],
            "critical_patch_count": sev[4],
            "important_patch_count": sev[3],
            "moderate_patch_count": sev[2],
            "low_patch_count": sev[1],
            "resourcetorebootdetails.reboot_req_status": st.reboot_required if scanned else NA,
            "description": s.description,
        }

    def _scan_time(self, s: System) -> int:
        h = key(self.estate.seed, label("scan"), s.index, self.estate.now_ms // DAY_MS)
        return max(s.added_ms, self.estate.now_ms - int(unit(h) * 20 * HOUR_MS))

    def scandetails(self, index: int) -> Record:
        """One ``scandetails`` record (pmp-api.md §6d; maia-legacy.md §1.1b column list)."""
        e = self.estate
        s = e.system(index)
        st = e.state(index)
        scanned = st.scan_status != SCAN_NOT_SCANNED
        return {
            "branch_office_name": s.org.name,
            "resource.name": s.name,
            "resource_id": s.resource_id,
            "resource.domain_netbios_name": s.domain,
            "resource_health_status": st.health,
            "description": s.description,
            "branch_office_id": s.org.branch_office_id,
            "os_language": 1,
            "oslanguage.i18n": "dc.common.ENGLISH",
            "oslanguage.languageid": 1,
            "agent_installed_on": s.agent_installed_on,
            "os_name": s.os.os_name,
            "os_platform": s.os.platform,
            "os_platform_name": PLATFORM_NAMES[s.os.platform],
            "pmreshealthstatus.resource_id": s.resource_id,
            "patchstatusdefn.label": SCAN_LABELS[st.scan_status],
            "branchofficedetails.branch_office_id": s.org.branch_office_id,
            "branchmemberresourcerel.resource_id": s.resource_id,
            "patchmgmtosinfo.resource_id": s.resource_id,
            "patchclientscanerror.resource_id": s.resource_id
            if st.scan_status == SCAN_FAILED
            else NA,
            "patch_scan_error_code": 1001 if st.scan_status == SCAN_FAILED else NA,
            "scan_remarks": (
                "dc.db.agent.config.patchscan.success" if st.scan_status == SCAN_SUCCESS else NA
            ),
            "agent_installed_dir": AGENT_DIRS[s.os.platform],
            "agent_version": s.agent_version,
            "agent_last_contact_time": e.last_contact_ms(s),
            "ip_address": s.ip_address,
            "scan_status": st.scan_status,
            "last_scan_time": self._scan_time(s) if scanned else NA,
            "computer_live_status": st.live_status,
            "installation_status": s.installation_status,
        }

    def som_computer(self, s: System) -> Record:
        """One ``som/computers`` record (field names from C1 types.ts and S11)."""
        e = self.estate
        managed = s.managed
        contact = e.last_contact_ms(s) if managed else -1
        return {
            "remarks_args": NA,
            "search_tag": NA,
            "os_platform": s.os.platform,
            "location": NA,
            "agent_uninstalled_on": -1 if s.installation_status != 23 else s.added_ms + DAY_MS,
            "remarks": "dc.db.agent.install.success" if managed else "dc.db.agent.install.failed",
            "logged_on_users": s.owner.split("@")[0] if s.owner != NA else NA,
            "live_status_update_time": e.now_ms - HOUR_MS,
            "kb_url": NA,
            "last_contact_time": contact,
            "service_pack": s.os.version,
            "description": s.description,
            "name": s.name,
            "computer_live_status": e.live_status(s),
            "owner_email_id": s.owner,
            "customer_name": s.org.name,
            "label": (
                "dc.db.som.status.installed_successfully"
                if managed
                else "dc.db.som.status.not_installed"
            ),
            "branch_office_name": s.org.name,
            "last_sync_time": contact,
            "os_version": s.os.version,
            "agent_installed_on": s.agent_installed_on if managed else -1,
            "mac_address": s.mac_address,
            "installation_status": s.installation_status,
            "domain_netbios_name": s.domain,
            "resource_id": s.resource_id,
            "agent_version": s.agent_version if managed else NA,
            "ip_address": s.ip_address,
            "os_name": s.os.os_name,
            "agent_executed_on": contact,
            "os_platform_name": PLATFORM_NAMES[s.os.platform],
            "owner": s.owner,
            "agent_upgraded_on": -1,
            "customer_id": s.org.customer_id,
            "full_name": s.name,
            "resource_name": s.name,
        }

    # ------------------------------------------------------------------ patches ---
    def _patch_common(self, p: Patch) -> Record:
        e = self.estate
        approval = e.approval(p)
        downloaded = approval == APPROVED and e.now_ms - p.released_ms > DAY_MS
        return {
            "update_id": p.update_id,
            "bulletin_id": p.bulletin_id,
            "patch_noreboot": p.product.noreboot,
            "update_name": p.product.update_name,
            "platform": p.product.platform,
            "platform_name": PLATFORM_NAMES[p.product.platform],
            "patch_released_time": p.released_ms,
            "patch_uninstall_status": p.product.uninstall,
            "download_status": 221 if downloaded else NA,
            "severity": p.severity,
            "patch_id": p.patch_id,
            "patch_name": p.name,
            "patch_description": p.description,
            "vendor_name": p.product.vendor,
        }

    def allpatches(self, pid: int, counts: list[int]) -> Record:
        """One ``allpatches`` record; ``counts`` = systems installed / missing / failed."""
        e = self.estate
        p = e.patch(pid)
        assert p is not None
        approval = e.approval(p)
        newer = e.superseded_by(p)
        record = self._patch_common(p)
        record.update(
            {
                "updated_time": p.released_ms + 6 * HOUR_MS,
                "installed": counts[0],
                "missing": counts[1],
                "failed": counts[2],
                "sqnumber": p.version,
                "patch_status_label": NA,
                "patch_status_image": NA,
                "patch_size": p.size,
                "status_id": approval,
                "status_label": APPROVAL_LABELS[approval],
                "status_image": APPROVAL_IMAGES[approval],
                "first_name": "DC-SYSTEM-USER" if approval else NA,
                "superceded_by": newer if newer is not None else "NA",
                "severity_name": SEVERITY_LABELS[p.severity],
                "ro_failure_count": NA,
                "ro_yettodownload_count": NA,
                "ro_success_count": NA,
                "image_name": APPROVAL_IMAGES[approval],
                "label": APPROVAL_LABELS[approval],
                "patch_supported_time": p.released_ms + 4 * HOUR_MS,
                "patch.patchid": p.patch_id,
            }
        )
        return record

    def patch_aggregate(self, pid: int, counts: list[int]) -> Record:
        """One ``installedpatches`` / ``missingpatches`` record (a per-patch aggregate)."""
        p = self.estate.patch(pid)
        assert p is not None
        record = self._patch_common(p)
        record.update(
            {
                "installed": counts[0],
                "missing": counts[1],
                "failed": counts[2],
                "severity_name": SEVERITY_LABELS[p.severity],
            }
        )
        return record

    def _row_fields(self, p: Patch, row: Row) -> Record:
        _, status, h, installed_time, error, deploy = row
        approval = self.estate.approval(p)
        task = self.apd_task_name(h)
        if error == 18:
            remarks = ESU_REMARK
        elif status == FAILED:
            remarks = FAIL_REMARKS.get(error, "Installation failed")
        elif status == INSTALLED:
            remarks = "dc.db.config.status.succeeded"
        else:
            remarks = NA
        return {
            "affected_patch_status": status,
            "installstatusdefn.label": INSTALL_LABELS[status],
            "affectedpatchstatusdefn.image_name": INSTALL_IMAGES[status],
            "install_error_code": error,
            "deploy_remarks": remarks,
            "deploy_remarks_args": NA,
            "deployment_status": deploy or NA,
            "installed_time": installed_time if status == INSTALLED else NA,
            "patch_status": approval,
            "collection.collection_name": task if status != MISSING or deploy else NA,
            "configstatusdefn.label": (
                "dc.db.config.status.failed"
                if deploy == DEPLOY_FAILED
                else "dc.db.config.status.succeeded"
                if deploy
                else NA
            ),
            "configstatusdefn.image_name": NA,
            "patch_type": PRODUCT_PATCH_TYPE[p.product.category],
            "pmseverity.name": SEVERITY_NAMES[p.severity],
        }

    def systemreport(self, index: int, row: Row) -> Record:
        """One ``systemreport`` record: a patch on one system (pmp-api.md §6e)."""
        p = self.estate.patch(row[0])
        assert p is not None
        s = self.estate.system(index)
        record = self._patch_common(p)
        record.update(self._row_fields(p, row))
        record.update(
            {
                "installpatchstatus.patch_id": p.patch_id,
                "customerpatchstatus.patch_id": p.patch_id,
                "patchstorestatusdefn.label": "dc.common.DOWNLOADED"
                if record["download_status"] == 221
                else NA,
                "patch_updated_time": p.released_ms + 6 * HOUR_MS,
                "resource_id": s.resource_id,
            }
        )
        return record

    def allpatchdetails(self, index: int, row: Row) -> Record:
        """One ``allpatchdetails`` record: one system's state for a patch (pmp-api.md §6f)."""
        e = self.estate
        p = e.patch(row[0])
        assert p is not None
        s = e.system(index)
        record = self._row_fields(p, row)
        record.update(
            {
                "branch_office_name": s.org.name,
                "patch_updated_time": p.released_ms + 6 * HOUR_MS,
                "resource.name": s.name,
                "resource.resource_id": s.resource_id,
                "resource_id": s.resource_id,
                "resource.domain_netbios_name": s.domain,
                "sqnumber": p.version,
                "os_language": 1,
                "oslanguage.i18n": "dc.common.ENGLISH",
                "bulletin_id": p.bulletin_id,
                "update_name": p.product.update_name,
                "patch_released_time": p.released_ms,
                "patch_size": p.size,
                "patch_uninstall_status": p.product.uninstall,
                "service_pack": s.os.version,
                "approvestatusdefn.image_name": APPROVAL_IMAGES[e.approval(p)],
                "resourcemacip.resource_id": s.resource_id,
                "ip_address": s.ip_address,
                "deployer.first_name": TECHNICIANS[row[2] % len(TECHNICIANS)]
                if row[1] != MISSING
                else NA,
                "agent_version": s.agent_version,
                "user_id": 1 + row[2] % len(TECHNICIANS),
                "os_name": s.os.os_name,
                "patch_id": p.patch_id,
            }
        )
        return record

    def supported(self, position: int, applicable: list[int]) -> Record:
        """The ``position``-th ``supportedpatches`` record (applicable ones first, by id)."""
        e = self.estate
        if position < len(applicable):
            p = e.patch(applicable[position])
            assert p is not None
            newer = e.superseded_by(p)
            return {
                "patch_id": p.patch_id,
                "update_id": p.update_id,
                "bulletin_id": p.bulletin_id,
                "patch_name": p.name,
                "patch_description": p.description,
                "vendor_name": p.product.vendor,
                "platform_name": PLATFORM_NAMES[p.product.platform],
                "severity": p.severity,
                "patch_lang": "en",
                "patch_released_time": p.released_ms,
                "patch_updated_time": p.released_ms + 6 * HOUR_MS,
                "is_superceded": 1 if newer is not None else 0,
            }
        j = position - len(applicable)
        h = key(e.seed, label("supported"), j)
        product = PRODUCTS[h % len(PRODUCTS)]
        released = e.synthetic_released_ms(j)
        lang = LANGUAGES[(h >> 20) % len(LANGUAGES)] if len(product.flavours) > 1 else "en"
        return {
            "patch_id": SYNTHETIC_PATCH_ID_BASE + j,
            "update_id": (h >> 8) % 10,
            "bulletin_id": f"{product.bulletin}-{(h >> 12) % 1000:03d}",
            "patch_name": f"{product.title.lower().replace(' ', '')}-{(h >> 24) % 100000}.exe",
            "patch_description": f"{product.title} update {(h >> 24) % 100000}",
            "vendor_name": product.vendor,
            "platform_name": PLATFORM_NAMES[product.platform],
            "severity": (h >> 40) % 5,
            "patch_lang": lang[:2],
            "patch_released_time": released,
            "patch_updated_time": released + 6 * HOUR_MS,
            "is_superceded": 1 if (h >> 50) % 4 else 0,
        }

    def dcapi_patch(self, pid: int, counts: list[int]) -> Record:
        """One ``/dcapi/threats/patches`` record, with the CVEs the patch fixes."""
        p = self.estate.patch(pid)
        assert p is not None
        return {
            "patch_id": p.patch_id,
            "patchname": p.name,
            "bulletinid": p.bulletin_id,
            "vendor_name": p.product.vendor,
            "severity": SEVERITY_NAMES[p.severity],
            "platform": PLATFORM_NAMES[p.product.platform],
            "patch_released_time": p.released_ms,
            "cve_ids": ",".join(cve for cve, _ in p.cves) or NA,
            "cvss_score": max((score for _, score in p.cves), default=NA),
            "vulnerabilities": [self._cve(p, cve, score) for cve, score in p.cves],
            "missing_systems": counts[1] + counts[2],
            "installed_systems": counts[0],
        }

    @staticmethod
    def _cve(p: Patch, cve: str, score: float) -> Record:
        return {
            "cve_id": cve,
            "cvss_score": score,
            "cvss_severity": cvss_severity(score),
            "published_time": p.released_ms - 2 * DAY_MS,
            "description": f"Vulnerability in {p.product.title} fixed by {p.bulletin_id}",
        }

    def dcapi_system(self, index: int) -> Record:
        """One ``/dcapi/threats/systemreport/patches`` record: a system and its patches."""
        e = self.estate
        s = e.system(index)
        patches = []
        for row in e.state(index).rows:
            p = e.patch(row[0])
            assert p is not None
            patches.append(
                {
                    "patch_id": p.patch_id,
                    "patchname": p.name,
                    "severity": SEVERITY_NAMES[p.severity],
                    "patch_status": DCAPI_STATUS[row[1]],
                    "bulletinid": p.bulletin_id,
                    "vendor_name": p.product.vendor,
                    "installed_time": row[3] if row[1] == INSTALLED else NA,
                }
            )
        return {"resource_id": s.resource_id, "resource_name": s.name, "patches": patches}

    # ----------------------------------------------------------- configuration ---
    def policies(self) -> list[Record]:
        """Every deployment policy (``template_id`` is the key)."""
        return self.cached("policies", self._policies)  # type: ignore[no-any-return]

    def _policies(self) -> list[Record]:
        e = self.estate
        rng = random.Random(key(e.seed, label("policies")))
        schedules = ("Weekend", "Weekday", "Daily", "Patch Tuesday +7", "Monthly", "Out of hours")
        records = []
        for i in range(e.config.policy_count):
            org = e.orgs[i % len(e.orgs)] if i >= 3 else None
            kind = rng.choice(("Workstations", "Servers", "Critical Servers", "Pilot", "Laptops"))
            name = (
                f"{org.abbreviation} - {kind} - {rng.choice(schedules)}"
                if org
                else (
                    "Deploy any time at the earliest",
                    "Deploy during Weekend",
                    "Force reboot after deployment",
                )[i]
            )
            created = e.start_ms - int(rng.uniform(30, 1500) * DAY_MS)
            period = int(rng.uniform(20, 400) * DAY_MS)
            modified = created + (e.now_ms - created) // period * period
            user = rng.randrange(len(TECHNICIANS))
            records.append(
                {
                    "template_id": 30001 + i * 3,
                    "template_name": name,
                    "user_id": user + 1,
                    "first_name": TECHNICIANS[user],
                    "customer_id": org.customer_id if org else NA,
                    "creation_time": created,
                    "modified_time": modified,
                    "is_template_alive": rng.random() > 0.05,
                    "set_as_default": i == 0,
                    "scriptaction.platform_id": 1 if "Mac" not in name else 2,
                    "usertodeploytemplaterel.modified_by": user + 1,
                    "modifieduser.first_name": TECHNICIANS[user],
                }
            )
        return records

    def view_configs(self) -> list[Record]:
        """Every view configuration (``config_id`` is the key)."""
        return self.cached("viewconfig", self._view_configs)  # type: ignore[no-any-return]

    def _view_configs(self) -> list[Record]:
        e = self.estate
        rng = random.Random(key(e.seed, label("viewconfig")))
        records = []
        for i in range(e.config.view_config_count):
            platform = 1 if rng.random() < 0.93 else rng.choice((2, 3))
            records.append(
                {
                    "config_id": 6001 + i * 2,
                    "collection_id": 9001 + i * 5,
                    "total_target_count": rng.randint(1, max(2, e.config.systems // 10)),
                    "os_platform_name": PLATFORM_NAMES[platform],
                    "collection_platform_id": platform,
                }
            )
        return records

    def apd_task_name(self, h: int) -> str:
        """Name of the APD task a deployment ran under (picked by the row hash)."""
        tasks = self.apd_tasks()
        return str(tasks[h % len(tasks)]["task_name"]) if tasks else NA

    def apd_tasks(self) -> list[Record]:
        """Every APD task; all values strings, as in the documented sample (pmp-api.md §6n)."""
        return self.cached("apd", self._apd_tasks)  # type: ignore[no-any-return]

    def _apd_tasks(self) -> list[Record]:
        e = self.estate
        rng = random.Random(key(e.seed, label("apd")))
        policies = self.policies()
        records = []
        for i in range(e.config.apd_task_count):
            org = e.orgs[i % len(e.orgs)]
            platform = 1 if rng.random() < 0.9 else 2
            created = e.start_ms - int(rng.uniform(10, 900) * DAY_MS)
            user = rng.randrange(len(TECHNICIANS))
            policy = rng.choice(policies)
            records.append(
                {
                    "task_name": f"{org.abbreviation} APD {rng.choice(APD_KINDS)} {i + 1}",
                    "total_target": str(rng.randint(1, 60)),
                    "task_id": str(601 + i * 4),
                    "os_platform_name": PLATFORM_NAMES[platform],
                    "collection_id": str(312 + i * 7),
                    "collection_status": "2" if rng.random() < 0.9 else "5",
                    "user_id": str(user + 1),
                    "task_modified_time": str(created + int(rng.uniform(0, 30) * DAY_MS)),
                    "scheduler_class_id": NA,
                    "template_id": str(policy["template_id"]) if rng.random() < 0.8 else NA,
                    "task_type": "18",
                    "task_creation_time": str(created),
                    "first_name": TECHNICIANS[user],
                    "os_platform_id": str(platform),
                    "remarks": str(312 + i * 7),
                }
            )
        return records

    def remote_offices(self) -> list[Record]:
        """One ``som/remoteoffice`` record per customer organisation."""
        counts = self.org_counts()
        e = self.estate
        records = []
        for org in e.orgs:
            records.append(
                {
                    "ds_status": NA,
                    "error_code_kb_url": NA,
                    "remarks": NA,
                    "colorquality_type": 1,
                    "agent_arc_loc": NA,
                    "updated_time": str(e.now_ms - DAY_MS),
                    "has_masteragent": False,
                    "ds_port": NA,
                    "is_https": "true",
                    "proxy_username": NA,
                    "polling_int": "90",
                    "last_contact_time": str(e.now_ms - HOUR_MS),
                    "is_proxy": "false",
                    "branch_office_id": org.branch_office_id,
                    "agent_comm_branch_office_id": str(org.branch_office_id),
                    "ds_dns_name": NA,
                    "ds_https_port": NA,
                    "branch_office_customer_id": org.customer_id,
                    "proxy_port_number": NA,
                    "proxy_details_branch_office_id": NA,
                    "error_kb_url": NA,
                    "customer_name": org.name,
                    "compression_type": 2,
                    "error_code": NA,
                    "ds_version": NA,
                    "managed_computers": counts.get(org.index, 0),
                    "proxy_server_name": NA,
                    "branch_office_name": org.name,
                    "ds_sync_status": NA,
                    "data_transfer_rate": NA,
                    "resource_id": str(org.branch_office_id),
                    "ds_ipaddress": NA,
                    "branch_office_desc": f"Customer {org.name}",
                    "resource_name": org.name,
                    "customer_id": org.customer_id,
                }
            )
        return records

    def org_counts(self) -> dict[int, int]:
        """Present managed systems per organisation index."""

        def build() -> dict[int, int]:
            counts: dict[int, int] = {}
            for index in self.estate.present():
                org = self.estate.system(index).org.index
                counts[org] = counts.get(org, 0) + 1
            return counts

        return self.cached("org_counts", build)  # type: ignore[no-any-return]

    def holders(self, pi: int, fi: int) -> list[int]:
        """Present systems that have flavour ``fi`` of product ``pi`` (for allpatchdetails)."""

        def build() -> dict[tuple[int, int], list[int]]:
            index: dict[tuple[int, int], list[int]] = {}
            for i in self.estate.present():
                for pair in self.estate.products(self.estate.system(i)):
                    index.setdefault(pair, []).append(i)
            return index

        table: dict[tuple[int, int], list[int]] = self.cached("holders", build)
        return table.get((pi, fi), [])

    # ---------------------------------------------------------------- objects ---
    def summary(self) -> Record:
        """The ``summary`` object, derived from the same pass as every per-patch count."""
        e = self.estate
        agg = e.aggregates()
        by_severity = [0, 0, 0, 0, 0]
        for pid in agg.missing_sorted:
            p = e.patch(pid)
            assert p is not None
            by_severity[p.severity] += 1
        year_ago = e.now_ms - 365 * DAY_MS
        synthetic_new = 0
        synthetic = e.config.synthetic_supported
        if synthetic:
            span = e.start_ms - e.synthetic_released_ms(synthetic - 1)
            synthetic_new = min(synthetic, round(synthetic * (e.now_ms - year_ago) / max(1, span)))
        applicable_new = 0
        for pid in agg.counts:
            patch = e.patch(pid)
            if patch is not None and patch.released_ms >= year_ago:
                applicable_new += 1
        unscanned = agg.scan.get(SCAN_NOT_SCANNED, 0)
        return {
            "patch_summary": {
                "installed_patches": len(agg.installed_sorted),
                "applicable_patches": len(agg.counts),
                "new_patches": synthetic_new + applicable_new,
                "missing_patches": len(agg.missing_sorted),
            },
            "missing_patch_severity_summary": {
                "critical_count": by_severity[4],
                "important_count": by_severity[3],
                "moderate_count": by_severity[2],
                "low_count": by_severity[1],
                "unrated_count": by_severity[0],
                "total_count": sum(by_severity),
            },
            "system_summary": {
                "total_systems": agg.systems,
                "healthy_systems": agg.health[1],
                "moderately_vulnerable_systems": agg.health[2],
                "highly_vulnerable_systems": agg.health[3],
                "health_unknown_systems": agg.health[0],
            },
            "patch_scan_summary": {
                "scanned_systems": agg.systems - unscanned,
                "unscanned_system_count": unscanned,
                "scan_success_count": agg.scan.get(SCAN_SUCCESS, 0),
                "scan_failure_count": agg.scan.get(SCAN_FAILED, 0),
            },
            "vulnerability_db_summary": self.db_status(summary=True),
            "apd_summary": {"number_of_apd_tasks": len(self.apd_tasks())},
        }

    def db_status(self, summary: bool = False) -> Record:
        """The vulnerability-database update status (``dbupdatestatus`` / summary part)."""
        e = self.estate
        day = e.now_ms // DAY_MS
        last = day * DAY_MS + int(unit(mix64(e.seed ^ day)) * 6 * HOUR_MS)
        if last > e.now_ms:
            last -= DAY_MS
        record: Record = {
            "last_db_update_status": "Success",
            "last_db_update_time": last,
            "is_auto_db_update_disabled": True,
            "db_update_in_progress": False,
        }
        if not summary:
            record["next_db_update_time"] = last + DAY_MS
        return record

    def som_summary(self) -> Record:
        """The ``som/summary`` object (shape of the PMP S11 sample)."""
        e = self.estate
        statuses: dict[int, int] = {}
        buckets = {
            "equal_3_day": 0,
            "4_day_to_7_day": 0,
            "8_day_to_15_day": 0,
            "16_day_to_30_day": 0,
            "greater_30_day": 0,
        }
        for s in self.som_systems():
            statuses[s.installation_status] = statuses.get(s.installation_status, 0) + 1
            if not s.managed:
                continue
            days = (e.now_ms - e.last_contact_ms(s)) / DAY_MS
            if days > 30:
                buckets["greater_30_day"] += 1
            elif days > 15:
                buckets["16_day_to_30_day"] += 1
            elif days > 7:
                buckets["8_day_to_15_day"] += 1
            elif days > 3:
                buckets["4_day_to_7_day"] += 1
            elif days >= 2:
                buckets["equal_3_day"] += 1
        return {
            "installation_status_summary": {
                "total": sum(statuses.values()),
                "yet_to_install": statuses.get(21, 0),
                "installed": statuses.get(22, 0),
                "uninstallation_failed": 0,
                "uninstalled": statuses.get(23, 0),
                "installation_failed": statuses.get(29, 0),
            },
            "last_contact_time_summary": buckets,
        }

    def som_systems(self) -> Iterable[System]:
        """Every computer SoM lists: present managed systems, then the agentless ones."""
        e = self.estate
        for index in e.present():
            yield e.system(index)
        for j in range(e.unmanaged_count()):
            yield e.unmanaged(j)


PRODUCT_PATCH_TYPE = {"ms": 0, "tp": 1, "driver": 2, "bios": 3}
