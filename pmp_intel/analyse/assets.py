"""Asset classes of systems, as SQL expressions over the ``systems`` table.

Servers versus workstations come from ``os_name`` / ``os_platform_name``; internet-facing
systems from configuration (organisation, name glob, OS glob, explicit names or resource ids).
Nothing is configured by default, so by default no system is internet-facing and the
internet-facing controls have no visibility; they are "not applicable" only when the
configuration declares ``none = true`` (docs/essential-eight.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, func, literal, or_

from pmp_intel.analyse.config import ComplianceConfig, InternetFacing


class SystemClass(StrEnum):
    """Asset class of a system for the OS strategy."""

    INTERNET_FACING = "internet_facing"
    SERVER = "server"
    WORKSTATION = "workstation"


def glob_to_like(pattern: str) -> str:
    """A case-folded shell glob as a LIKE pattern with ``\\`` as the escape character."""
    out = []
    for char in pattern.lower():
        if char in "\\%_":
            out.append("\\" + char)
        elif char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        else:
            out.append(char)
    return "".join(out)


def matches_any(column: ColumnElement[Any], patterns: Sequence[str]) -> ColumnElement[bool]:
    """``lower(column)`` LIKE any of the globs (false when there are none)."""
    if not patterns:
        return false()
    lowered = func.lower(func.coalesce(column, literal("")))
    return or_(*(lowered.like(glob_to_like(p), escape="\\") for p in patterns))


def is_server(columns: Any, config: ComplianceConfig) -> ColumnElement[bool]:
    """A system whose OS name (or platform name) matches the server patterns."""
    return or_(
        matches_any(columns.os_name, config.server_os_patterns),
        matches_any(columns.os_platform_name, config.server_os_patterns),
    )


def is_internet_facing(columns: Any, rules: InternetFacing) -> ColumnElement[bool]:
    """A system matching any internet-facing rule."""
    if not rules.configured:
        return false()
    clauses: list[ColumnElement[bool]] = []
    if rules.organisations:
        clauses.append(
            func.lower(columns.branch_office_name).in_([o.lower() for o in rules.organisations])
        )
    if rules.name_patterns:
        clauses.append(matches_any(columns.resource_name, rules.name_patterns))
    if rules.os_patterns:
        clauses.append(
            or_(
                matches_any(columns.os_name, rules.os_patterns),
                matches_any(columns.os_platform_name, rules.os_patterns),
            )
        )
    ids = [int(s) for s in rules.systems if isinstance(s, int) or str(s).isdigit()]
    names = [str(s).lower() for s in rules.systems if not (isinstance(s, int) or str(s).isdigit())]
    if ids:
        clauses.append(columns.resource_id.in_(ids))
    if names:
        clauses.append(func.lower(columns.resource_name).in_(names))
    return or_(*clauses)
