"""Structured logs (design.md §3): JSON lines for cron and machines, text for people.

Every event is one line with ``timestamp`` (UTC ISO 8601), ``level``, ``event_type``,
``snapshot_id`` and the event's own fields. Log through :func:`log_event`; the formatter
masks every secret registered with :func:`pmp_intel.api.redact.register_secret` in the
finished line, so no code path can leak one by accident.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import IO, Any

from pmp_intel.api.redact import SECRET_MASK, registered_secrets
from pmp_intel.settings import LogFormat

LOGGER_NAME = "pmp_intel"
_EVENT_ATTR = "pmp_event"
_RESERVED = ("timestamp", "level", "event_type", "snapshot_id", "message")


def mask_secrets(text: str) -> str:
    """``text`` with every registered secret replaced by a mask."""
    for secret in sorted(registered_secrets(), key=len, reverse=True):
        text = text.replace(secret, SECRET_MASK)
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return str(value)


def event_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record carries (empty for plain log calls)."""
    fields = getattr(record, _EVENT_ATTR, None)
    return dict(fields) if isinstance(fields, Mapping) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = event_fields(record)
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "event_type": fields.pop("event_type", None) or "log",
            "snapshot_id": fields.pop("snapshot_id", None),
            "message": record.getMessage(),
        }
        payload.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            payload["error"] = f"{type(exc).__name__}: {exc}"
        return mask_secrets(json.dumps(payload, default=_json_default, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """``LEVEL event_type message key=value …`` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = event_fields(record)
        event_type = fields.pop("event_type", "log")
        fields.pop("snapshot_id", None)
        tail = " ".join(
            f"{key}={_json_default(value) if not isinstance(value, int | float | str) else value}"
            for key, value in fields.items()
            if value is not None and key != "response_sample"
        )
        line = f"{record.levelname:<7} {event_type:<24} {record.getMessage()} {tail}".rstrip()
        return mask_secrets(line)


def get_logger(name: str | None = None) -> logging.Logger:
    """A logger under the ``pmp_intel`` hierarchy."""
    return logging.getLogger(LOGGER_NAME if not name else f"{LOGGER_NAME}.{name}")


def log_event(
    logger: logging.Logger,
    level: int,
    event_type: str,
    message: str = "",
    **fields: Any,
) -> None:
    """Log one structured event (``fields`` become top-level JSON keys)."""
    for reserved in ("timestamp", "level", "message"):
        if reserved in fields:
            fields[f"{reserved}_"] = fields.pop(reserved)
    logger.log(
        level, message or event_type, extra={_EVENT_ATTR: {"event_type": event_type, **fields}}
    )


def configure_logging(
    log_format: LogFormat = LogFormat.AUTO,
    *,
    level: int = logging.INFO,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send pmp-intel's logs to ``stream`` (stderr) as JSON or text; returns the handler.

    ``auto`` means JSON unless the stream is a terminal. Calling it again replaces the
    handler it installed before.
    """
    target = stream if stream is not None else sys.stderr
    if log_format is LogFormat.AUTO:
        log_format = (
            LogFormat.TEXT if getattr(target, "isatty", lambda: False)() else LogFormat.JSON
        )
    handler = logging.StreamHandler(target)
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else TextFormatter())
    handler.set_name("pmp-intel")
    logger = logging.getLogger(LOGGER_NAME)
    for existing in list(logger.handlers):
        if existing.get_name() == "pmp-intel":
            logger.removeHandler(existing)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler
