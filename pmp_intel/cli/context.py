"""What every command gets: settings built from the environment plus its flags, and the
consoles to print to."""

from __future__ import annotations

import argparse
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from pmp_intel.settings import Settings

if TYPE_CHECKING:  # rich and the engine are loaded when a command first prints or queries
    from rich.console import Console
    from sqlalchemy import Engine


def settings_error_line(exc: ValidationError) -> str:
    """One line naming each invalid setting and why, never echoing its value (it may be a
    secret)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        problems.append(f"{name}: {error['msg']}")
    return "invalid configuration: " + "; ".join(problems)


def database_error_line(exc: SQLAlchemyError) -> str:
    """One line for a database failure: the driver's first line, never the statement or its
    parameters (they may hold inventory data)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    first = text.splitlines()[0] if text else type(original).__name__
    return f"database error: {first}"


class CommandContext:
    """Settings, consoles and the database engine for one CLI invocation."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    @cached_property
    def out(self) -> Console:
        """Standard output as a rich console."""
        from rich.console import Console

        return Console(file=sys.stdout, highlight=False, soft_wrap=True)

    @cached_property
    def err(self) -> Console:
        """Standard error as a rich console."""
        from rich.console import Console

        return Console(file=sys.stderr, highlight=False, soft_wrap=True)

    def setting_overrides(self) -> dict[str, Any]:
        """Flags that override configuration (only those given on the command line)."""
        overrides: dict[str, Any] = {}
        for name in ("database_url",):
            value = getattr(self.args, name, None)
            if value is not None:
                overrides[name] = value
        return overrides

    @cached_property
    def settings(self) -> Settings:
        """Settings from flags, environment, ``.env`` and ``pmp-intel.toml``."""
        return Settings(**self.setting_overrides())

    @cached_property
    def engine(self) -> Engine:
        """The engine of the configured database (created on first use)."""
        from pmp_intel.store.engine import create_db_engine

        return create_db_engine(settings=self.settings)

    def error(self, message: str) -> None:
        """Print the one error line of a failed command."""
        self.err.print(f"pmp-intel: error: {message}", markup=False)
