"""Parsing of PMP response bodies (pmp-api.md §3).

Three success shapes:

* **list** (``/api/1.x``): ``{"message_type", "message_response": {"total", "<key>": [...],
  "limit", "page"}, "message_version", "status": "success"}``. The list key is looked up
  case-insensitively (``apdTaskListdetails`` answers under ``apdtasklistdetails``).
* **object**: ``message_response`` holds one object named after ``message_type``.
* **dcapi**: ``{"metadata": {"page", "pageLimit", "totalRecords", "totalPages"},
  "message_response": {"<key>": [...]}, "status": "success"}``.

Before any JSON parsing an HTML body (a throttle or login page, often with HTTP 200) is
detected. The content type is not trusted: PMP cloud sends JSON as ``text/plain``.
Application errors (``status: "error"`` with ``error_code``/``error_description``, or the
``ErrorCode``/``ErrorMsg`` style) raise :class:`EnvelopeError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pmp_intel.api.errors import TRANSIENT_ERROR_CODES, ErrorType


class EnvelopeKind(StrEnum):
    """Which success shape an endpoint answers with."""

    LIST = "list"
    OBJECT = "object"
    DCAPI = "dcapi"


@dataclass(frozen=True)
class Envelope:
    """The useful part of one successful answer."""

    records: list[Any]
    total: int | None = None
    limit: int | None = None
    page: int | None = None
    total_pages: int | None = None
    message_type: str | None = None
    #: The list key actually found (for diagnostics).
    key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class EnvelopeError(Exception):
    """The body is not a usable success envelope. Messages carry no body text."""

    def __init__(
        self, error_type: ErrorType, detail: str, *, error_code: str | None = None
    ) -> None:
        super().__init__(detail)
        self.error_type = error_type
        self.detail = detail
        self.error_code = error_code


_HTML_MARKERS = (b"<!doctype", b"<html", b"<head", b"<body", b"<title")


def is_html(body: bytes, content_type: str | None = None) -> bool:
    """True when ``body`` is an HTML page rather than JSON."""
    head = body[:512].lstrip().lower()
    if head.startswith((b"{", b"[")):
        return False
    if content_type and "html" in content_type.lower() and head.startswith(b"<"):
        return True
    return any(marker in head for marker in _HTML_MARKERS)


def decode_json(body: bytes, content_type: str | None = None) -> Any:
    """Decode a JSON body whatever its content type says; HTML and junk raise."""
    if is_html(body, content_type):
        raise EnvelopeError(ErrorType.HTML_THROTTLE, "HTML page instead of JSON")
    if not body.strip():
        raise EnvelopeError(ErrorType.INVALID_JSON, "empty body")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        position = getattr(exc, "pos", None)
        raise EnvelopeError(
            ErrorType.INVALID_JSON, f"unparsable or truncated JSON (at byte {position})"
        ) from None


def lookup(mapping: Mapping[str, Any], *keys: str) -> tuple[str, Any] | None:
    """The first of ``keys`` present in ``mapping``, compared case-insensitively."""
    folded = {str(k).lower(): k for k in mapping}
    for key in keys:
        real = folded.get(key.lower())
        if real is not None:
            return real, mapping[real]
    return None


def to_int(value: Any) -> int | None:
    """An integer from a JSON number or numeric string; None when absent or not numeric."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None


def check_error(document: Any) -> None:
    """Raise :class:`EnvelopeError` when ``document`` is an application error envelope."""
    if not isinstance(document, Mapping):
        return
    status = document.get("status")
    found = lookup(document, "error_code", "errorcode")
    is_error = isinstance(status, str) and status.lower() in {"error", "failure", "failed"}
    if not is_error and found is None:
        return
    if not is_error and isinstance(status, str) and status.lower() == "success":
        return
    code = None if found is None else str(found[1])
    error_type = (
        ErrorType.API_ERROR_TRANSIENT
        if code is not None and code.upper() in TRANSIENT_ERROR_CODES
        else ErrorType.API_ERROR
    )
    raise EnvelopeError(error_type, f"error envelope (error_code={code})", error_code=code)


def _records(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise EnvelopeError(ErrorType.UNEXPECTED_SHAPE, f"{where} is not a list")


def parse(document: Any, kind: EnvelopeKind, record_keys: Sequence[str]) -> Envelope:
    """Extract records and paging figures from a decoded body."""
    check_error(document)
    if not isinstance(document, Mapping):
        raise EnvelopeError(ErrorType.UNEXPECTED_SHAPE, "body is not a JSON object")
    message_type = document.get("message_type")
    message_type = message_type if isinstance(message_type, str) else None
    keys = [*record_keys, *([message_type] if message_type else [])]
    response = document.get("message_response")
    if kind is EnvelopeKind.DCAPI:
        return _parse_dcapi(document, response, keys, message_type)
    if not isinstance(response, Mapping):
        raise EnvelopeError(ErrorType.UNEXPECTED_SHAPE, "no message_response object")
    if kind is EnvelopeKind.OBJECT:
        return _parse_object(response, keys, message_type)
    total = to_int(response.get("total"))
    found = lookup(response, *keys)
    if found is None:
        if total == 0:
            return Envelope(
                [],
                total=0,
                limit=to_int(response.get("limit")),
                page=to_int(response.get("page")),
                message_type=message_type,
            )
        raise EnvelopeError(ErrorType.UNEXPECTED_SHAPE, f"list key {keys[0]!r} not found")
    key, value = found
    return Envelope(
        _records(value, key),
        total=total,
        limit=to_int(response.get("limit")),
        page=to_int(response.get("page")),
        message_type=message_type,
        key=key,
    )


def _parse_object(
    response: Mapping[str, Any], keys: Sequence[str], message_type: str | None
) -> Envelope:
    found = lookup(response, *keys)
    if found is not None and isinstance(found[1], Mapping):
        return Envelope([dict(found[1])], message_type=message_type, key=found[0])
    objects = [(k, v) for k, v in response.items() if isinstance(v, Mapping)]
    if len(objects) == 1 and len(response) == 1:
        return Envelope([dict(objects[0][1])], message_type=message_type, key=objects[0][0])
    # An undocumented object (som/summary): the response itself is the record.
    return Envelope([dict(response)], message_type=message_type)


def _parse_dcapi(
    document: Mapping[str, Any], response: Any, keys: Sequence[str], message_type: str | None
) -> Envelope:
    metadata = document.get("metadata")
    meta: Mapping[str, Any] = metadata if isinstance(metadata, Mapping) else {}
    containers: list[Mapping[str, Any]] = []
    if isinstance(response, Mapping):
        containers.append(response)
        meta = meta or response.get("metadata") or {}
    containers.append(document)
    for container in containers:
        found = lookup(container, *keys)
        if found is not None:
            key, value = found
            lookup_total = lookup(meta, "totalRecords", "total")
            lookup_limit = lookup(meta, "pageLimit", "limit")
            lookup_pages = lookup(meta, "totalPages")
            lookup_page = lookup(meta, "page")
            return Envelope(
                _records(value, key),
                total=to_int(lookup_total[1]) if lookup_total else None,
                limit=to_int(lookup_limit[1]) if lookup_limit else None,
                page=to_int(lookup_page[1]) if lookup_page else None,
                total_pages=to_int(lookup_pages[1]) if lookup_pages else None,
                message_type=message_type,
                key=key,
            )
    raise EnvelopeError(ErrorType.UNEXPECTED_SHAPE, f"dcapi list key {keys[0]!r} not found")
