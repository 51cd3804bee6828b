"""``pmp-intel metrics``: (being built)."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``metrics`` command (not available yet)."""
