"""``pmp-intel compliance``: (being built)."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``compliance`` command (not available yet)."""
