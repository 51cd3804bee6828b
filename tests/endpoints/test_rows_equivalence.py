"""The fast validation path (pmp_intel.endpoints.fast) and the row layouts give exactly what
pydantic's ``model_validate`` and the plain field-by-field ``columns()`` give: same records
(field order, types, fields set), same rows, same errors, for simulator estates and for
odd values (sentinels, labels, unknown codes, junk, competing keys)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from enum import Enum, IntEnum
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from pmp_intel.endpoints import BUILTIN_ORDER, registry
from pmp_intel.endpoints.base import Endpoint, PMPRecord, RecordRows
from pmp_intel.testing import simulated_pmp

#: Values tried in place of every wire value.
ODD_VALUES: list[Any] = [
    None, "", "--", "NA", "n/a", " none ", -1, "-1", 0, "0", " 12 ", "12.0", 12.0, 1.5, "1.5",
    True, False, "true", "off", "abc", "+5", "1_000", "١٢", "-12", 10**20, float("inf"),
    "Critical", "dc.common.IMPORTANT", "Installed", "Missing", "9999", 9999, "2023-09-28T05:12:30Z",
    1695877950000, "1695877950000", 1695877950, "CVE-2024-1111, cve-2024-2222", [1, 2], [],
    {"a": 1}, [{"cve_id": "CVE-2024-1"}], ["CVE-2024-3"], [{"patch_id": 5}],
]


def canon(value: Any) -> Any:
    """A type-tagged, order-sensitive form: equal only when the values are identical."""
    if isinstance(value, BaseModel):
        return ("model", type(value).__name__, canon(value.__dict__),
                sorted(value.model_fields_set), value.__pydantic_extra__,
                value.__pydantic_private__)
    if isinstance(value, Enum):
        return ("enum", type(value).__name__, value.value)
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), repr(value.tzinfo))
    if isinstance(value, dict):
        return ("dict", [(k, canon(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [canon(v) for v in value])
    return (type(value).__name__, value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def reference_columns(record: PMPRecord, names: Any, rename: Any = None) -> dict[str, Any]:
    """``PMPRecord.columns`` as it was written before the layouts: field by field."""
    rename = rename or {}
    wanted = set(names)
    row: dict[str, Any] = {}
    leftovers: dict[str, Any] = {}
    for name in type(record).model_fields:
        if name == "extra":
            continue
        value = getattr(record, name)
        column = rename.get(name, name)
        if column in wanted:
            row[column] = int(value) if isinstance(value, IntEnum) else value
        elif value is not None and name not in record.describes_others:
            leftovers[name] = _jsonable(value)
    extra = {**leftovers, **record.extra}
    row["extra"] = extra or None
    return row


def outcome(call: Any) -> Any:
    """What a validation gives: the record, or the error (message for pydantic's)."""
    try:
        return ("ok", canon(call()))
    except ValidationError as exc:
        return ("invalid", str(exc.errors(include_input=False, include_url=False)))
    except Exception as exc:  # compared with the other path, not swallowed
        return ("raised", type(exc).__name__, str(exc))


def staged(endpoint: Endpoint, raw: list[Any]) -> tuple[list[Any], list[Any]]:
    """What the extractor stages from ``raw`` read through ``endpoint``: the rows (from
    :class:`RecordRows` or from each record's ``rows()``) and the invalid records."""
    valid, invalid = endpoint.parse_records(copy.deepcopy(raw))
    rows = [
        (entity, canon(row))
        for record in valid
        for entity, row in (
            record.rows if isinstance(record, RecordRows) else endpoint.rows(record)
        )
    ]
    return rows, [(i.index, i.errors) for i in invalid]


def assert_staging_matches(endpoint: Endpoint, raw: list[Any]) -> None:
    """The staging copy's rows straight from the wire equal the model path's rows, and
    its invalid records (index, pydantic's message) are the same."""
    staging = endpoint.for_staging()
    if staging is endpoint:
        return
    assert outcome(lambda: staged(staging, raw)) == outcome(lambda: staged(endpoint, raw)), (
        endpoint.name,
        raw,
    )


def assert_same_as_pydantic(endpoint: Endpoint, raw: dict[str, Any]) -> None:
    model = endpoint.model
    fast = outcome(lambda: model.from_wire(copy.deepcopy(raw)))
    reference = outcome(lambda: model.model_validate(copy.deepcopy(raw)))
    assert fast == reference, (endpoint.name, raw)
    assert_staging_matches(endpoint, [raw])
    if fast[0] == "ok":
        record = model.from_wire(raw)
        assert canon(record.columns(endpoint.entity_columns, endpoint.renames)) == canon(
            reference_columns(record, endpoint.entity_columns, endpoint.renames)
        )
        for nested in _nested_records(record):
            assert canon(nested.columns(endpoint.entity_columns)) == canon(
                reference_columns(nested, endpoint.entity_columns)
            )


def _nested_records(record: PMPRecord) -> Iterator[PMPRecord]:
    for value in record.__dict__.values():
        if isinstance(value, list):
            yield from (v for v in value if isinstance(v, PMPRecord))


def mutations(raw: dict[str, Any], model: type[PMPRecord]) -> Iterator[dict[str, Any]]:
    """``raw`` with each value replaced by each odd value (nested objects too), with
    competing keys (aliases, dotted forms) added, and with an ``extra`` key."""
    for key, value in raw.items():
        for odd in ODD_VALUES:
            yield {**raw, key: odd}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in mutations(value[0], model):
                yield {**raw, key: [inner, *value[1:]]}
            yield {**raw, key: [*value, "not an object"]}
    for name, aliases in model.aliases.items():
        for wire in (name.replace("_", "."), *aliases):
            for odd in ("--", "7", "Critical"):
                yield {**raw, wire: odd}
                yield {wire: odd, **raw}
    for extra in ({"a": 1}, 5, None):
        yield {**raw, "extra": extra}


@pytest.fixture(scope="module")
def estates() -> dict[bool, dict[str, list[dict[str, Any]]]]:
    """Wire records of every endpoint of a small estate, typed and stringly."""
    found: dict[bool, dict[str, list[dict[str, Any]]]] = {}
    for stringly in (False, True):
        with simulated_pmp(systems=40, seed=7, stringly=stringly) as pmp:
            systems = list(pmp.records("allsystems"))
            patches = list(pmp.records("allpatches"))
            found[stringly] = {}
            for endpoint in registry:
                if not endpoint.paging.fan_out:
                    found[stringly][endpoint.name] = list(pmp.records(endpoint.name))[:300]
                    continue
                parents = systems if endpoint.parent_endpoint == "allsystems" else patches
                records: list[dict[str, Any]] = []
                for parent in parents[:5]:
                    key = {endpoint.parent_param: parent[endpoint.parent_field or ""]}
                    records += list(pmp.records(endpoint.name, **key))
                found[stringly][endpoint.name] = records
    return found


@pytest.mark.parametrize("stringly", [False, True], ids=["typed", "stringly"])
@pytest.mark.parametrize("name", BUILTIN_ORDER)
def test_estate_records_and_rows_match_pydantic(
    estates: dict[bool, dict[str, list[dict[str, Any]]]], name: str, stringly: bool
) -> None:
    endpoint = registry.get(name)
    raw = estates[stringly][name]
    valid, invalid = endpoint.parse_records(raw)
    assert invalid == []
    reference = [endpoint.model.model_validate(r) for r in raw]
    assert [canon(r) for r in valid] == [canon(r) for r in reference]
    assert_staging_matches(endpoint, raw)
    for item in raw[:3]:
        assert_same_as_pydantic(endpoint, item)


@pytest.mark.parametrize("name", BUILTIN_ORDER)
def test_odd_values_give_what_pydantic_gives(
    estates: dict[bool, dict[str, list[dict[str, Any]]]], name: str
) -> None:
    endpoint = registry.get(name)
    raw = estates[False][name] or estates[True][name]
    assert raw, f"the simulator's estate has no {name} record to mutate"
    for mutated in mutations(raw[0], endpoint.model):
        assert_same_as_pydantic(endpoint, mutated)


def test_invalid_records_keep_their_index_and_pydantic_message() -> None:
    endpoint = registry.get("dcapi_systemreport")
    good = {"resource_id": 5, "patches": [{"patch_id": 1, "patch_status": "Installed"}]}
    bad_nested = {"resource_id": 6, "patches": [{"patch_id": 1, "patch_status": "299"}]}
    missing = {"patches": []}
    valid, invalid = endpoint.parse_records([good, bad_nested, "x", missing, good])
    assert [r.resource_id for r in valid] == [5, 5]
    assert [i.index for i in invalid] == [1, 2, 3]
    for item in (bad_nested, missing):
        with pytest.raises(ValidationError) as caught:
            endpoint.model.model_validate(item)
        assert any(str(e["loc"][0]) in next(i.errors for i in invalid if i.raw is item)
                   for e in caught.value.errors())


def test_absurd_timestamps_are_reported_not_raised() -> None:
    from pmp_intel.endpoints import registry

    endpoint = registry.get("allpatches")
    good = {"patch_id": 1, "patch_released_time": 1695877950000}
    records, invalid = endpoint.parse_records(
        [good, {"patch_id": 2, "patch_released_time": 10**20},
         {"patch_id": 3, "patch_released_time": str(10**400)}]
    )
    assert [r.patch_id for r in records] == [1]
    assert [bad.index for bad in invalid] == [1, 2]
    assert all("out of range" in bad.errors or "timestamp" in bad.errors for bad in invalid)


def test_staging_copies_skip_the_model_only_where_they_may() -> None:
    """Fan-out and summary endpoints are staged from their records; the others get a copy
    that stages rows straight from the wire (the dcapi states through their own plan)."""
    for endpoint in registry:
        staging = endpoint.for_staging()
        keeps_records = endpoint.parent_param is not None or (
            type(endpoint).summary_columns is not Endpoint.summary_columns
        )
        assert (staging is endpoint) == keeps_records, endpoint.name
    dcapi = registry.get("dcapi_systemreport").for_staging()
    wire = {"resource_id": 5, "patches": [{"patch_id": 1, "patch_status": "Installed"}]}
    assert dcapi.wire_rows(wire) is not None
    (record,), invalid = dcapi.parse_records([wire])
    assert invalid == []
    assert isinstance(record, RecordRows)
    (entity, row), = record.rows
    assert (entity, row["resource_id"], row["install_status"]) == ("system_patch_state", 5, 201)
    # competing keys for the patch list: the model ranks them, the rows are the same
    both = {**wire, "patch_list": [{"patch_id": 2, "patch_status": "Missing"}]}
    assert dcapi.wire_rows(both) is None
    assert_staging_matches(registry.get("dcapi_systemreport"), [both])
