"""Records and envelopes on the wire: stringly mode, the 1.4 and dcapi envelopes, JSON text.

Envelope layouts follow pmp-api.md §3 exactly: ``total``, the list, ``limit``, ``page`` inside
``message_response`` (the order of the real capture), then ``message_version`` and ``status``.
"""

from __future__ import annotations

import json
from typing import Any

Record = dict[str, Any]

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def stringify(value: Any) -> Any:
    """Every leaf value as a string, the way EC cloud sends records (pmp-api.md §6a)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    if value is None:
        return "--"
    return str(value)


def wire_record(record: Record, stringly: bool) -> Record:
    """``record`` as it is serialised: typed, or with every value a string."""
    if not stringly:
        return record
    return {k: stringify(v) for k, v in record.items()}


def list_envelope(
    message_type: str,
    list_key: str,
    records: list[Record],
    total: int,
    limit: int,
    page: int,
    version: str,
    *,
    numbers_as_strings: bool = False,
    response_code: bool = False,
) -> Record:
    """The success envelope of a paged list endpoint (pmp-api.md §3a)."""

    def number(n: int) -> int | str:
        return str(n) if numbers_as_strings else n

    body: Record = {
        "message_type": message_type,
        "message_response": {
            "total": number(total),
            list_key: records,
            "limit": number(limit),
            "page": number(page),
        },
        "message_version": version,
        "status": "success",
    }
    if response_code:
        body["response_code"] = 200
    return body


def object_envelope(message_type: str, obj: Record, version: str) -> Record:
    """The success envelope of an object endpoint (pmp-api.md §3b): no total/limit/page."""
    return {
        "message_type": message_type,
        "message_response": {message_type: obj},
        "message_version": version,
        "status": "success",
    }


def dcapi_envelope(
    list_key: str, records: list[Record], page: int, page_limit: int, total: int
) -> Record:
    """The ``/dcapi/`` envelope (maia-legacy.md §2.3, live-verified)."""
    pages = (total + page_limit - 1) // page_limit if page_limit else 0
    return {
        "metadata": {
            "page": page,
            "pageLimit": page_limit,
            "totalRecords": total,
            "totalPages": pages,
        },
        "message_response": {list_key: records},
        "status": "success",
    }


def error_envelope(
    code: str, description: str, message_type: str | None = None, version: str | None = None
) -> Record:
    """An application error: HTTP 200 with top-level ``error_code``/``error_description``
    (pmp-api.md §3c)."""
    body: Record = {}
    if message_type is not None:
        body["message_type"] = message_type
    if version is not None:
        body["message_version"] = version
    body.update({"status": "error", "error_code": code, "error_description": description})
    return body


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return _ENCODER.encode(body).encode("utf-8")
