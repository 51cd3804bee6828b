"""A logging handler that keeps every record, for tests that scan what was logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class Capture(logging.Handler):
    """Keeps every formatted record (message and traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def capturing_every_logger() -> Iterator[Capture]:
    """Capture every record of every logger, at DEBUG, for the block."""
    handler = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
