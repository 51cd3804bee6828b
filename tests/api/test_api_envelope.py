"""Envelope parsing: list, object, dcapi, errors, HTML and junk bodies."""

from __future__ import annotations

import json

import pytest

from pmp_intel.api.envelope import (
    EnvelopeError,
    EnvelopeKind,
    check_error,
    decode_json,
    is_html,
    parse,
)
from pmp_intel.api.errors import ErrorType


def test_list_envelope_with_numbers_or_strings() -> None:
    doc = {"message_type": "allpatches", "message_response": {
        "total": "1946", "allpatches": [{"patch_id": "1"}], "limit": 25, "page": "1"},
        "message_version": "1.4", "status": "success"}
    env = parse(doc, EnvelopeKind.LIST, ("allpatches",))
    assert env.records == [{"patch_id": "1"}]
    assert (env.total, env.limit, env.page) == (1946, 25, 1)


def test_list_key_is_case_insensitive() -> None:
    doc = {"message_type": "apdTaskListdetails",
           "message_response": {"apdtasklistdetails": [{"task_id": "1"}], "total": 1}}
    env = parse(doc, EnvelopeKind.LIST, ("apdTaskListdetails",))
    assert env.key == "apdtasklistdetails"
    assert len(env.records) == 1


def test_list_key_falls_back_to_message_type() -> None:
    doc = {"message_type": "computers", "message_response": {"computers": [], "total": 0}}
    assert parse(doc, EnvelopeKind.LIST, ("som",)).records == []


def test_missing_list_key_is_unexpected_shape_unless_total_is_zero() -> None:
    with pytest.raises(EnvelopeError) as info:
        parse({"message_response": {"total": 3}}, EnvelopeKind.LIST, ("x",))
    assert info.value.error_type is ErrorType.UNEXPECTED_SHAPE
    assert parse({"message_response": {"total": 0}}, EnvelopeKind.LIST, ("x",)).records == []


def test_object_endpoint() -> None:
    doc = {"message_type": "summary", "message_response": {"summary": {"a": {"b": 1}}}}
    env = parse(doc, EnvelopeKind.OBJECT, ("summary",))
    assert env.records == [{"a": {"b": 1}}]
    assert env.total is None


def test_object_endpoint_without_named_key_uses_the_response() -> None:
    doc = {"message_type": "somsummary", "message_response": {"total_computers": 4, "x": 1}}
    assert parse(doc, EnvelopeKind.OBJECT, ("summary",)).records == [
        {"total_computers": 4, "x": 1}
    ]


def test_dcapi_envelope() -> None:
    doc = {"metadata": {"page": 2, "pageLimit": 30, "totalRecords": 3317, "totalPages": 111},
           "message_response": {"systemreport": [{"resource_id": 1, "patches": []}]},
           "status": "success"}
    env = parse(doc, EnvelopeKind.DCAPI, ("systemreport",))
    assert (env.page, env.limit, env.total, env.total_pages) == (2, 30, 3317, 111)
    assert env.records[0]["resource_id"] == 1


@pytest.mark.parametrize(
    ("doc", "kind", "code"),
    [
        ({"status": "error", "error_code": "10001", "error_description": "bad"},
         ErrorType.API_ERROR, "10001"),
        ({"ErrorCode": "500", "ErrorMsg": "x"}, ErrorType.API_ERROR, "500"),
        ({"error_code": "INTERNAL_ERROR", "error_description": "dc.rest.api_internal_error"},
         ErrorType.API_ERROR_TRANSIENT, "INTERNAL_ERROR"),
    ],
)
def test_error_envelopes(doc: dict[str, object], kind: ErrorType, code: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        check_error(doc)
    assert info.value.error_type is kind
    assert info.value.error_code == code
    assert "bad" not in str(info.value)  # descriptions are not echoed into messages


def test_success_with_error_code_field_is_not_an_error() -> None:
    check_error({"status": "success", "error_code": None, "message_response": {}})


def test_html_detected_before_parsing() -> None:
    page = b"\n  <!DOCTYPE html><html><head><title>Please Wait</title></head></html>"
    assert is_html(page, "text/html")
    assert is_html(b"<html><body>throttled</body></html>", "text/plain;charset=UTF-8")
    assert not is_html(b'{"status":"success"}', "text/html")
    with pytest.raises(EnvelopeError) as info:
        decode_json(page, "text/html")
    assert info.value.error_type is ErrorType.HTML_THROTTLE


def test_text_plain_json_accepted_and_junk_rejected() -> None:
    body = json.dumps({"status": "success"}).encode()
    assert decode_json(body, "text/plain;charset=UTF-8") == {"status": "success"}
    assert decode_json(b"\xef\xbb\xbf" + body, None) == {"status": "success"}
    for junk in (b"", b"   ", b'{"message_response": {"total": 3', b"not json"):
        with pytest.raises(EnvelopeError) as info:
            decode_json(junk, "application/json")
        assert info.value.error_type is ErrorType.INVALID_JSON


def test_non_object_body_is_unexpected_shape() -> None:
    with pytest.raises(EnvelopeError) as info:
        parse([1, 2], EnvelopeKind.LIST, ("x",))
    assert info.value.error_type is ErrorType.UNEXPECTED_SHAPE
    with pytest.raises(EnvelopeError):
        parse({"message_response": {"x": "nope"}}, EnvelopeKind.LIST, ("x",))
