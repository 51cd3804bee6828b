"""Arbitrary JSON never crashes the envelope parser or the record models with anything but a
classified error (issue 9): a hostile or broken server can make pages fail, never the run."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmp_intel.api.envelope import Envelope, EnvelopeError, EnvelopeKind, decode_json, parse
from pmp_intel.api.errors import ErrorType
from pmp_intel.endpoints import registry

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "--",
            "NA",
            "-1",
            "1695877950000",
            "dc.common.IMPORTANT",
            "Critical",
            "201",
            "211",
            "2e400",
            "1e-9",
            "true",
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
#: Examples per property: a quick run by default, ``PMP_INTEL_FUZZ_EXAMPLES=2000`` for a deep one.
EXAMPLES = int(os.environ.get("PMP_INTEL_FUZZ_EXAMPLES", "50"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(document=json_values, kind=st.sampled_from(list(EnvelopeKind)))
def test_envelope_parser_classifies_anything(document: Any, kind: EnvelopeKind) -> None:
    try:
        envelope = parse(document, kind, ("allsystems",))
    except EnvelopeError as exc:
        error_type = exc.error_type
    else:
        assert isinstance(envelope, Envelope)
        assert isinstance(envelope.records, list)
        return
    assert isinstance(error_type, ErrorType)


@FUZZ
@given(body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_body_decoding_classifies_anything(body: bytes) -> None:
    try:
        decode_json(body, "text/plain;charset=UTF-8")
    except EnvelopeError as exc:
        error_type = exc.error_type
    else:
        return
    assert isinstance(error_type, ErrorType)


@pytest.mark.parametrize("name", registry.names())
def test_record_models_report_never_raise(name: str) -> None:
    endpoint = registry.get(name)
    keys = [*endpoint.model.model_fields, "resource.name", "patch.patchid", "patches"]

    @FUZZ
    @given(
        records=st.lists(
            st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), json_values, max_size=8)
            | json_values,
            max_size=4,
        )
    )
    def check(records: list[Any]) -> None:
        valid, invalid = endpoint.parse_records(records)
        assert len(valid) + len(invalid) == len(records)
        for parsed in valid:
            rows = list(endpoint.rows(parsed, parent="95000010000001"))
            assert all(
                isinstance(entity, str) and isinstance(values, dict) for entity, values in rows
            )

    check()
