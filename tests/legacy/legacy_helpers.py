"""Helpers of the legacy-import tests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Engine, inspect, text

from pmp_intel.legacy.report import ImportReport
from pmp_intel.legacy.revision import REPORT_ATTRIBUTE
from pmp_intel.store import migrate

ZONE = "Australia/Brisbane"


def upgrade_with_legacy(engine: Engine, directory: Path | None, **x_args: str) -> ImportReport:
    """``alembic upgrade head`` with ``legacy_dir`` (the path the CLI and users take)."""
    if directory is not None:
        x_args["legacy_dir"] = str(directory)
    x_args.setdefault("legacy_timezone", ZONE)
    config = migrate.alembic_config(engine, **x_args)
    command.upgrade(config, "head")
    report = config.attributes.get(REPORT_ATTRIBUTE)
    assert isinstance(report, ImportReport)
    return report


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for before/after comparisons."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for name in sorted(inspect(connection).get_table_names()):
            rows = connection.execute(text(f'SELECT * FROM "{name}"')).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def checksums(directory: Path) -> dict[str, tuple[str, int, int]]:
    """sha256, size and mtime of every file in ``directory``."""
    out = {}
    for path in sorted(directory.iterdir()):
        stat = path.stat()
        out[path.name] = (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            stat.st_size,
            stat.st_mtime_ns,
        )
    return out


Scalar = Callable[[str], Any]


def scalar(engine: Engine) -> Scalar:
    """``q(sql)`` → the first column of the first row."""

    def run(sql: str) -> Any:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()

    return run
