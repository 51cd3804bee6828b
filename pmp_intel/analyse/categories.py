"""Patch categories (for metrics) and Essential Eight patch classes (for compliance).

PMP has no E8 category field, so each patch is placed from its ``update_name``, ``patch_type``,
``vendor_name``, name and description through a product table: the shipped
``data/applications.toml`` plus the user's rules (checked first). Patches are few (thousands,
not millions), so this runs in Python and the result is joined in SQL.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pmp_intel.analyse.config import ApplicationEntry, ComplianceConfig
from pmp_intel.analyse.errors import ComplianceConfigError
from pmp_intel.store.models import Platform, Severity


class PatchCategory(StrEnum):
    """Metric categories of a patch (``patch_metrics`` scope ``category``)."""

    OS = "os"
    MICROSOFT_APPLICATION = "microsoft_application"
    THIRD_PARTY = "third_party"
    DRIVER = "driver"
    BIOS = "bios"
    UNKNOWN = "unknown"


class PatchClass(StrEnum):
    """Essential Eight class of a patch (before the system it is on is considered)."""

    OS = "os"
    #: Office suites, web browsers and extensions, email clients, PDF software, security products.
    OFFICE = "office"
    ONLINE_SERVICE = "online_service"
    OTHER_APP = "other_app"
    DRIVER = "driver"
    FIRMWARE = "firmware"


#: Application classes of the E8 "office/browser/email/PDF/security products" group.
OFFICE_GROUP = frozenset(
    {
        "office_suite",
        "web_browser",
        "browser_extension",
        "email_client",
        "pdf_software",
        "security_product",
    }
)

_CLASS_OF_APP = {
    "operating_system": PatchClass.OS,
    "online_service": PatchClass.ONLINE_SERVICE,
    "driver": PatchClass.DRIVER,
    "firmware": PatchClass.FIRMWARE,
    "other": PatchClass.OTHER_APP,
    **dict.fromkeys(OFFICE_GROUP, PatchClass.OFFICE),
}

_PLATFORMS = {int(p): p.name.lower() for p in Platform}


@dataclass(frozen=True, slots=True)
class PatchFacts:
    """The fields of one patch that classification and the rules read."""

    patch_id: int
    vendor_name: str | None = None
    patch_name: str | None = None
    patch_description: str | None = None
    update_name: str | None = None
    patch_type: int | None = None
    platform: int | None = None
    platform_name: str | None = None
    severity: int | None = None
    released: datetime | None = None
    superseded: bool = False


@dataclass(frozen=True, slots=True)
class Classification:
    """Where one patch falls: metric category, security flag, platform, E8 class."""

    category: PatchCategory
    security: bool
    platform: str
    app_class: str
    patch_class: PatchClass
    matched_rule: str | None


def _lower(value: str | None) -> str:
    return (value or "").strip().lower()


def _any_glob(patterns: Sequence[str], *texts: str) -> bool:
    return any(fnmatchcase(text, pattern.lower()) for pattern in patterns for text in texts)


class ApplicationTable:
    """Ordered product rules; the first matching rule gives a patch its class."""

    def __init__(self, entries: Iterable[ApplicationEntry]) -> None:
        self.entries = tuple(entries)

    @staticmethod
    def shipped() -> tuple[ApplicationEntry, ...]:
        """The table shipped in ``pmp_intel/analyse/data/applications.toml``."""
        text = resources.files("pmp_intel.analyse").joinpath("data/applications.toml")
        return _entries(tomllib.loads(text.read_text(encoding="utf-8")), "shipped table")

    @classmethod
    def from_config(cls, config: ComplianceConfig) -> ApplicationTable:
        """User rules (inline, then files), then the shipped table."""
        entries: list[ApplicationEntry] = list(config.applications)
        for path in config.application_files:
            entries.extend(_load_file(path))
        entries.extend(cls.shipped())
        return cls(entries)

    def match(self, vendor: str, text: str, platform: str) -> ApplicationEntry | None:
        """The first rule matching a lower-cased vendor, name/description and platform."""
        for entry in self.entries:
            if entry.platforms and platform not in {p.lower() for p in entry.platforms}:
                continue
            if entry.vendors and not _any_glob(entry.vendors, vendor):
                continue
            if entry.patterns and not _any_glob(entry.patterns, text):
                continue
            if not entry.vendors and not entry.patterns:
                continue
            return entry
        return None


def _entries(data: dict[str, Any], where: str) -> tuple[ApplicationEntry, ...]:
    try:
        return tuple(ApplicationEntry.model_validate(e) for e in data.get("applications", []))
    except ValidationError as exc:
        message = exc.errors()[0]["msg"]
        raise ComplianceConfigError(f"application rules in {where}: {message}") from None


def _load_file(path: Path) -> tuple[ApplicationEntry, ...]:
    try:
        data = tomllib.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ComplianceConfigError(f"application rules file {path}: {exc}") from None
    return _entries(data, str(path))


class PatchClassifier:
    """Classifies patches; build once per run (the product table is parsed once)."""

    def __init__(self, config: ComplianceConfig | None = None) -> None:
        self.config = config or ComplianceConfig()
        self.table = ApplicationTable.from_config(self.config)
        self._driver_types = frozenset(self.config.driver_patch_types)
        self._firmware_types = frozenset(self.config.firmware_patch_types)

    def platform_of(self, facts: PatchFacts) -> str:
        """``windows`` / ``mac`` / ``linux`` / ``unknown``."""
        if facts.platform in _PLATFORMS:
            return _PLATFORMS[facts.platform]
        name = _lower(facts.platform_name)
        return name if name in _PLATFORMS.values() else "unknown"

    def classify(self, facts: PatchFacts) -> Classification:
        """Category, security flag, platform and E8 class of one patch."""
        platform = self.platform_of(facts)
        vendor = _lower(facts.vendor_name)
        update = _lower(facts.update_name)
        text = f"{_lower(facts.patch_name)} | {_lower(facts.patch_description)}"
        rule: ApplicationEntry | None = None
        if facts.patch_type is not None and facts.patch_type in self._firmware_types:
            app_class = "firmware"
        elif facts.patch_type is not None and facts.patch_type in self._driver_types:
            app_class = "driver"
        elif "bios" in update or "firmware" in update:
            app_class = "firmware"
        elif "driver" in update:
            app_class = "driver"
        else:
            rule = self.table.match(vendor, text, platform)
            app_class = rule.app_class if rule else "other"
        patch_class = _CLASS_OF_APP[app_class]
        if patch_class is PatchClass.OS:
            category = PatchCategory.OS
        elif patch_class is PatchClass.DRIVER:
            category = PatchCategory.DRIVER
        elif patch_class is PatchClass.FIRMWARE:
            category = PatchCategory.BIOS
        elif vendor.startswith("microsoft"):
            category = PatchCategory.MICROSOFT_APPLICATION
        else:
            category = PatchCategory.THIRD_PARTY
        return Classification(
            category=category,
            security=self.is_security(update, facts.severity),
            platform=platform,
            app_class=app_class,
            patch_class=patch_class,
            matched_rule=rule.name if rule else None,
        )

    @staticmethod
    def is_security(update_name: str, severity: int | None) -> bool:
        """PMP's own label decides ("Security Updates" vs "Non Security Updates"); labels that
        say neither (third-party, driver, BIOS) count as security when the vendor rated them."""
        compact = update_name.replace("-", " ")
        if "non security" in compact or "nonsecurity" in compact:
            return False
        if "security" in compact:
            return True
        return severity is not None and severity > int(Severity.UNRATED)
