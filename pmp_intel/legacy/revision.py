"""What Alembic revision 0002 runs: the legacy import on the migration's connection."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from pmp_intel.legacy.archive import archive_originals
from pmp_intel.legacy.importer import DEFAULT_SOURCE, ImportOptions, import_legacy
from pmp_intel.legacy.report import ImportReport

LEGACY_DIR_ENV = "PMP_INTEL_LEGACY_DIR"

#: Where revision 0002 leaves its report for a programmatic caller (the CLI).
REPORT_ATTRIBUTE = "legacy_report"
#: A caller that already inspected the folder (the CLI) passes its findings here.
DISCOVERY_ATTRIBUTE = "legacy_discovery"


def options_from(x_args: dict[str, str]) -> ImportOptions:
    """Import options from the migration's x-arguments."""
    return ImportOptions(
        source_name=x_args.get("legacy_source") or DEFAULT_SOURCE,
        timezone=x_args.get("legacy_timezone") or None,
        dry_run=False,
    )


def legacy_dir_from(x_args: dict[str, str]) -> Path | None:
    """The folder to import: ``-x legacy_dir=…`` first, then the configured
    ``PMP_INTEL_LEGACY_DIR`` (environment, ``.env`` or ``pmp-intel.toml``)."""
    value = x_args.get("legacy_dir") or _configured() or ""
    return Path(value).expanduser() if value.strip() else None


def _configured() -> str | None:
    from pmp_intel.settings import Settings

    try:
        configured = Settings().legacy_dir
    except Exception:  # an unrelated bad setting: the variable itself still counts
        return os.environ.get(LEGACY_DIR_ENV)
    return str(configured) if configured is not None else None


def run_upgrade(
    connection: Connection, x_args: dict[str, str], attributes: dict[str, Any]
) -> ImportReport | None:
    """Import the legacy folder the migration is pointed at, if any, inside the migration's
    transaction (a failure rolls the whole revision back). Returns the report, which is also
    left in ``attributes['legacy_report']``."""
    directory = legacy_dir_from(x_args)
    if directory is None:
        return None
    discovery = attributes.get(DISCOVERY_ATTRIBUTE)
    if discovery is not None and discovery.directory != directory:
        discovery = None
    report = import_legacy(connection, directory, options_from(x_args), discovery=discovery)
    attributes[REPORT_ATTRIBUTE] = report
    report_path = x_args.get("legacy_report")
    if report_path:
        Path(report_path).expanduser().write_text(report.to_json())
    archive = x_args.get("legacy_archive")
    if archive and report.outcome == "imported":
        archive_originals(directory, Path(archive), report)
    return report
