"""Import a CISA Known Exploited Vulnerabilities catalogue (the public JSON format) into
``known_exploited_vulnerabilities``. The checker treats a patch as having "a working exploit"
when one of its CVEs is in the catalogue with ``dateAdded`` on or before the snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select

from pmp_intel.analyse.errors import KevFormatError
from pmp_intel.analyse.sql import Bind, table_of, transaction
from pmp_intel.store.models import KnownExploitedVulnerability

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class KevImportResult:
    """What an import did."""

    catalog_version: str | None
    entries: int
    added: int
    updated: int
    total_in_database: int


def sample_path() -> Path:
    """The small sample catalogue shipped for tests and the demo."""
    return Path(str(resources.files("pmp_intel.analyse").joinpath("data/kev_sample.json")))


def _date(value: Any, field: str, cve: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise KevFormatError(f"{cve}: {field} {value!r} is not a YYYY-MM-DD date") from None


def parse_catalogue(document: Any) -> tuple[str | None, list[dict[str, Any]]]:
    """Catalogue version and rows for ``known_exploited_vulnerabilities`` from a parsed file."""
    if not isinstance(document, dict) or not isinstance(document.get("vulnerabilities"), list):
        raise KevFormatError(
            "not a CISA KEV catalogue: expected an object with a 'vulnerabilities' list"
        )
    version = document.get("catalogVersion")
    rows: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(document["vulnerabilities"]):
        if not isinstance(entry, dict) or not str(entry.get("cveID") or "").strip():
            raise KevFormatError(f"vulnerabilities[{index}] has no cveID")
        cve = str(entry["cveID"]).strip().upper()
        ransomware = str(entry.get("knownRansomwareCampaignUse") or "").strip().lower()
        rows[cve] = {
            "cve_id": cve,
            "vendor_project": entry.get("vendorProject"),
            "product": entry.get("product"),
            "vulnerability_name": entry.get("vulnerabilityName"),
            "date_added": _date(entry.get("dateAdded"), "dateAdded", cve),
            "due_date": _date(entry.get("dueDate"), "dueDate", cve),
            "known_ransomware_use": {"known": True, "unknown": False}.get(ransomware),
            "catalog_version": None if version is None else str(version)[:64],
        }
    return (None if version is None else str(version)), list(rows.values())


def read_catalogue(path: str | Path) -> tuple[str | None, list[dict[str, Any]]]:
    """Parse a catalogue file; one clear error if it cannot be read or is not a catalogue."""
    file = Path(path).expanduser()
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KevFormatError(f"{file} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KevFormatError(f"{file} is not readable JSON: {exc}") from None
    return parse_catalogue(document)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def import_kev(bind: Bind, path: str | Path, *, replace: bool = False) -> KevImportResult:
    """Load a catalogue: entries are upserted by CVE (``replace`` first empties the table).
    Importing the same file twice changes nothing."""
    version, rows = read_catalogue(path)
    table = table_of(KnownExploitedVulnerability)
    cves = [r["cve_id"] for r in rows]
    with transaction(bind) as conn:
        if replace:
            conn.execute(delete(table))
            existing: set[str] = set()
        else:
            existing = set()
            for chunk in _chunks(cves):
                existing.update(
                    conn.execute(select(table.c.cve_id).where(table.c.cve_id.in_(chunk))).scalars()
                )
            for chunk in _chunks(sorted(existing)):
                conn.execute(delete(table).where(table.c.cve_id.in_(chunk)))
        if rows:
            conn.execute(insert(table), rows)
        total = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return KevImportResult(
        catalog_version=version,
        entries=len(rows),
        added=len(rows) - len(existing),
        updated=len(existing),
        total_in_database=int(total),
    )
