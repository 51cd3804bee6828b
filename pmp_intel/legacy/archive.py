"""Copy the legacy originals into an archive folder with a checksum manifest.

Originals are never moved or deleted. Each archive run gets its own time-stamped folder, so
an earlier archive is never overwritten; every copy is verified against the checksum taken
before the import, which also proves the original was not changed by it. The folder is
filled under a ``.partial`` name and renamed when its manifest is written: a run killed
while copying leaves an obviously unfinished folder, never one that looks complete, and a
later run (which finds the files already imported) archives them again.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pmp_intel.legacy.errors import LegacyImportError
from pmp_intel.legacy.files import file_sha256
from pmp_intel.legacy.report import ImportReport

MANIFEST = "MANIFEST.json"


def archive_originals(directory: Path, archive: Path, report: ImportReport) -> Path:
    """Copy the files the import read from ``directory`` into a new folder under
    ``archive``; returns that folder. Raises :class:`LegacyImportError` if a copy does not
    match the checksum recorded when the import read the original."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = archive.expanduser() / f"pmp_legacy_{stamp}"
    target = final.with_name(final.name + ".partial")
    target.mkdir(parents=True, exist_ok=False, mode=0o700)
    entries: list[dict[str, Any]] = []
    for info in report.files:
        source = directory / info["file"]
        copy = target / info["file"]
        shutil.copy2(source, copy)
        copy.chmod(0o600)
        digest = file_sha256(copy)
        if digest != info["sha256"]:
            raise LegacyImportError(
                f"{source}: changed while it was being imported or archived "
                f"(sha256 {info['sha256'][:12]}… before, {digest[:12]}… now)"
            )
        entries.append(
            {"file": info["file"], "bytes": info["bytes"], "sha256": digest, "from": str(source)}
        )
    manifest = {
        "archived_at": datetime.now(UTC).isoformat(),
        "source_directory": str(directory),
        "files": entries,
        "import": {
            "source": report.source_name,
            "snapshot_ids": report.snapshot_ids,
            "totals": report.totals(),
        },
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
    target.rename(final)
    return final


def is_archived(archive: Path, report: ImportReport) -> bool:
    """True when a finished archive under ``archive`` holds exactly the files (names and
    checksums) of ``report``."""
    wanted = {(f["file"], f["sha256"]) for f in report.files}
    for manifest in archive.expanduser().glob(f"pmp_legacy_*/{MANIFEST}"):
        if manifest.parent.name.endswith(".partial"):
            continue
        try:
            files = json.loads(manifest.read_text())["files"]
            held = {(entry["file"], entry["sha256"]) for entry in files}
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not one of ours, or damaged: it proves nothing
        if held == wanted:
            return True
    return False
