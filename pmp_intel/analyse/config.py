"""What PMP does not know, supplied by configuration with safe defaults (docs/essential-eight.md).

Load it from a TOML file named by ``PMP_INTEL_COMPLIANCE_CONFIG`` (or pass a path)::

    [internet_facing]
    organisations = ["DMZ Hosting"]
    name_patterns = ["WEB-*", "*-EDGE-*"]
    systems = ["MAIL01", 95000011194313]
    # or, to declare deliberately that the estate has no internet-facing system:
    # none = true

    [[applications]]
    name = "Contoso Notes"
    class = "office_suite"
    patterns = ["*contoso notes*"]
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pmp_intel.analyse.errors import ComplianceConfigError
from pmp_intel.store.models import ControlOutcome

#: Environment variable naming the compliance configuration file.
CONFIG_ENV = "PMP_INTEL_COMPLIANCE_CONFIG"

#: Classes an application entry may have (E8 "office/browser/email/PDF/security" group,
#: online services, the operating system itself, drivers, firmware, or anything else).
APP_CLASSES = (
    "operating_system",
    "office_suite",
    "web_browser",
    "browser_extension",
    "email_client",
    "pdf_software",
    "security_product",
    "online_service",
    "driver",
    "firmware",
    "other",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class InternetFacing(_Strict):
    """Which systems are internet-facing. A system matching any rule counts (whatever its OS).

    Patterns are shell globs (``*``, ``?``), matched case-insensitively. ``systems`` holds
    resource names or PMP ``resource_id`` numbers. PMP has no internet-facing flag, so with
    no rule the internet-facing controls have no visibility; ``none = true`` declares that
    the estate deliberately has no internet-facing system (those controls: not applicable).
    """

    organisations: list[str] = Field(default_factory=list)
    name_patterns: list[str] = Field(default_factory=list)
    os_patterns: list[str] = Field(default_factory=list)
    systems: list[str | int] = Field(default_factory=list)
    none: bool = False

    @model_validator(mode="after")
    def _none_means_no_rules(self) -> InternetFacing:
        if self.none and self.configured:
            raise ValueError("none = true declares no internet-facing system: give no rules")
        return self

    @property
    def configured(self) -> bool:
        """Whether any rule is set (no rule: no system is internet-facing)."""
        return bool(self.organisations or self.name_patterns or self.os_patterns or self.systems)


class ApplicationEntry(_Strict):
    """One product → class rule. ``vendors`` globs match ``vendor_name``; ``patterns`` globs
    match the patch name or description; ``platforms`` restricts to windows/mac/linux. An
    empty list matches anything; at least one of vendors/patterns must be given."""

    name: str
    app_class: str = Field(alias="class")
    vendors: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    platforms: list[str] = Field(default_factory=list)

    @field_validator("app_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        if value not in APP_CLASSES:
            raise ValueError(f"unknown class {value!r}; expected one of {', '.join(APP_CLASSES)}")
        return value


class ComplianceConfig(_Strict):
    """Everything the checker (and the calculator's categories) needs beyond PMP's data."""

    internet_facing: InternetFacing = Field(default_factory=InternetFacing)
    #: Globs on ``os_name`` / ``os_platform_name`` that make a system a server.
    server_os_patterns: list[str] = Field(
        default_factory=lambda: [
            "*server*",
            "*red hat enterprise linux*",
            "*centos*",
            "*rocky linux*",
            "*almalinux*",
            "*oracle linux*",
            "*suse linux enterprise server*",
        ]
    )
    #: Extra product rules, checked before the shipped table (so they can override it).
    applications: list[ApplicationEntry] = Field(default_factory=list)
    #: Extra TOML files of ``[[applications]]`` rules, also checked before the shipped table.
    application_files: list[Path] = Field(default_factory=list)
    #: PMP ``patch_type`` codes meaning driver / firmware (undocumented by the vendor, so none
    #: by default: drivers and BIOS are recognised from ``update_name`` and the patch text).
    driver_patch_types: list[int] = Field(default_factory=list)
    firmware_patch_types: list[int] = Field(default_factory=list)
    #: Vendor severities that count as "assessed as critical by vendors".
    critical_severities: list[int] = Field(default_factory=lambda: [4])
    #: Treat unrated (0 / NULL) severity as critical. Off: unrated counts as non-critical.
    unrated_is_critical: bool = False
    #: Use the imported CISA KEV catalogue as "a working exploit exists".
    use_kev: bool = True
    #: ASD gives no day counts; these are the usual readings.
    two_weeks_days: float = 14.0
    one_month_days: float = 30.0
    #: A control with no violations is effective only if at least this share of its in-scope
    #: pairs could be judged (release time, and install time when installed, are known).
    min_visibility_pct: float = Field(95.0, ge=0.0, le=100.0)
    #: Missing pairs of patches PMP marks superseded are covered by their successor's pair.
    ignore_superseded_missing: bool = True
    #: ISM-1808: the vulnerability database must have been updated within this many hours.
    db_update_max_age_hours: float = 24.0
    #: ISM-1807: extraction history looked at when proving fortnightly asset discovery.
    discovery_lookback_days: float = 28.0
    #: Report, besides ASD's strict rule, what a "≥ N % compliant" policy would give.
    threshold_pct: float | None = Field(None, ge=0.0, le=100.0)
    #: Systems and patches listed per failing control.
    worst_items: int = Field(10, ge=1, le=100)
    #: Outcomes supplied from other evidence for controls PMP cannot assess (ISM id → outcome).
    attestations: dict[str, ControlOutcome] = Field(default_factory=dict)

    @classmethod
    def from_toml(cls, path: str | Path) -> ComplianceConfig:
        """Read a configuration file; one clear error if it is missing or invalid."""
        file = Path(path).expanduser()
        try:
            data: dict[str, Any] = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ComplianceConfigError(f"compliance config {file} does not exist") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ComplianceConfigError(f"compliance config {file}: {exc}") from None
        files = data.get("application_files", [])
        if isinstance(files, list):
            data["application_files"] = [
                str(f if Path(f).is_absolute() else file.parent / f) for f in files
            ]
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise ComplianceConfigError(f"compliance config {file}: {problems}") from None

    @classmethod
    def load(cls, path: str | Path | None = None) -> ComplianceConfig:
        """``path``, else the file named by ``PMP_INTEL_COMPLIANCE_CONFIG``, else defaults."""
        chosen = path or os.environ.get(CONFIG_ENV)
        return cls.from_toml(chosen) if chosen else cls()
