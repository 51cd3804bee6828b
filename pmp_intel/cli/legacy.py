"""``pmp-intel legacy``: (being built)."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``legacy`` command (not available yet)."""
