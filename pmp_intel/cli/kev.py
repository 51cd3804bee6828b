"""``pmp-intel kev``: (being built)."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``kev`` command (not available yet)."""
