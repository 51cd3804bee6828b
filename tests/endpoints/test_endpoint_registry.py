"""The registry and entry-point discovery."""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from pmp_intel.endpoints import BUILTIN_ORDER, Endpoint, EndpointRegistry, PMPRecord, registry
from pmp_intel.endpoints.coerce import OptStr
from pmp_intel.endpoints.registry import UnknownEndpointError

# The package attribute ``registry`` is the default registry object, not the module.
registry_module = importlib.import_module("pmp_intel.endpoints.registry")


class WidgetRecord(PMPRecord):
    """A third-party record."""

    widget_id: int
    label: OptStr = None


class Widgets(Endpoint):
    """A third-party endpoint."""

    name = "widgets"
    path = "widgets/all"
    record_key = "widgets"
    model = WidgetRecord


class Gadgets(Widgets):
    """Another one."""

    name = "gadgets"


def gadget_factory() -> list[type[Endpoint]]:
    return [Gadgets]


class FakeEntryPoint:
    def __init__(self, name: str, target: Any) -> None:
        self.name = name
        self._target = target

    def load(self) -> Any:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def test_builtins_in_contract_order() -> None:
    assert registry.names()[: len(BUILTIN_ORDER)] == list(BUILTIN_ORDER)
    assert registry.get("apdtasks").url_path == "/api/1.3/patch/apdTaskListdetails"
    assert registry.get("dcapi_systemreport").url_path == "/dcapi/threats/systemreport/patches"
    assert registry.get("som_computers").url_path == "/api/1.4/som/computers"
    assert "supportedpatches" not in registry.default_names()


def test_unknown_names() -> None:
    with pytest.raises(UnknownEndpointError, match="known: summary"):
        registry.get("nope")
    with pytest.raises(UnknownEndpointError):
        registry.select(["allsystems", "nope"])
    assert [e.name for e in registry.select(["systemreport", "allsystems"])] == [
        "allsystems", "systemreport"]


def test_entry_points_add_endpoints_without_editing_the_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = [FakeEntryPoint("widgets", Widgets), FakeEntryPoint("gadgets", gadget_factory),
             FakeEntryPoint("broken", ImportError("missing dependency"))]
    groups: list[str] = []

    def fake_entry_points(group: str) -> list[Any]:
        groups.append(group)
        return found

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    local = EndpointRegistry()
    assert local.discover() == ["gadgets", "widgets"]
    assert groups == ["pmp_intel.endpoints"]
    assert local.get("widgets").url_path == "/api/1.4/widgets/all"
    assert "broken" in local.load_errors
    assert "missing dependency" in local.load_errors["broken"]
    assert local.discover() == []  # once only


def test_duplicate_names_are_refused_unless_replaced() -> None:
    local = EndpointRegistry(group=None)
    local.register(Widgets)
    local.register(Widgets)  # same class: idempotent

    class Impostor(Widgets):
        name = "widgets"

    with pytest.raises(ValueError, match="already registered"):
        local.register(Impostor)
    local.register(Impostor, replace=True)
    assert isinstance(local.get("widgets"), Impostor)
    with pytest.raises(TypeError):
        local.register(int)  # type: ignore[type-var]


def test_real_entry_point_objects_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint("widgets", f"{__name__}:Widgets", "pmp_intel.endpoints")
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [ep])
    local = EndpointRegistry()
    assert local.names() == ["widgets"]
    [record], [] = local.get("widgets").parse_records([{"widget_id": "3", "label": "--"}])
    assert record.widget_id == 3
    assert record.label is None
