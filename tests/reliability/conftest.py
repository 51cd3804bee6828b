"""Fixtures shared by the reliability suites."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from pmp_intel.logs import LOGGER_NAME


@pytest.fixture(autouse=True)
def _cli_log_handler_removed() -> Iterator[None]:
    """The CLI logs to the stderr pytest captured; detach it before that stream closes."""
    yield
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if h.get_name() == "pmp-intel"]:
        logger.removeHandler(handler)
