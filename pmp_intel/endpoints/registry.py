"""The endpoint registry, and discovery of third-party endpoints through entry points.

Built-in endpoints register themselves with :func:`register` when
:mod:`pmp_intel.endpoints` is imported. Other distributions add their own without editing
this library by declaring an entry point in the ``pmp_intel.endpoints`` group::

    [project.entry-points."pmp_intel.endpoints"]
    mytool = "mytool.pmp:MyEndpoint"       # an Endpoint subclass,
    more = "mytool.pmp_endpoints"          # or a module whose import registers them,
    many = "mytool.pmp:endpoints"          # or a callable returning Endpoint subclasses.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import TypeVar

from pmp_intel.endpoints.base import Endpoint

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "pmp_intel.endpoints"

E = TypeVar("E", bound=type[Endpoint])


class UnknownEndpointError(KeyError):
    """No endpoint of that name is registered."""


class EndpointRegistry:
    """Endpoint classes by name; instances are created on :meth:`get`."""

    def __init__(self, group: str | None = ENTRY_POINT_GROUP) -> None:
        self._classes: dict[str, type[Endpoint]] = {}
        self._group = group
        self._discovered = group is None
        self._lock = threading.RLock()
        #: Entry points that failed to load: name → error text.
        self.load_errors: dict[str, str] = {}

    def register(self, cls: E, *, replace: bool = False) -> E:
        """Add an endpoint class (usable as a decorator)."""
        if not (inspect.isclass(cls) and issubclass(cls, Endpoint)):
            raise TypeError(f"{cls!r} is not an Endpoint subclass")
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{cls.__name__} has no name")
        with self._lock:
            existing = self._classes.get(name)
            if existing is not None and existing is not cls and not replace:
                raise ValueError(f"endpoint {name!r} is already registered by {existing!r}")
            self._classes[name] = cls
        return cls

    def reorder(self, names: Iterable[str]) -> None:
        """Put ``names`` first, in that order (others keep their order after them)."""
        with self._lock:
            first = [n for n in names if n in self._classes]
            rest = [n for n in self._classes if n not in first]
            self._classes = {n: self._classes[n] for n in (*first, *rest)}

    def discover(self) -> list[str]:
        """Load the entry points of the group once; returns the names they added."""
        with self._lock:
            if self._discovered or self._group is None:
                return []
            self._discovered = True
            before = set(self._classes)
            for entry in entry_points(group=self._group):
                self._load(entry)
            return sorted(set(self._classes) - before)

    def _load(self, entry: EntryPoint) -> None:
        try:
            target = entry.load()
            for cls in _endpoint_classes(target):
                self.register(cls)
        except Exception as exc:
            self.load_errors[entry.name] = f"{type(exc).__name__}: {exc}"
            log.warning("endpoint entry point %r failed to load: %s", entry.name, exc)

    def get(self, name: str) -> Endpoint:
        """An instance of the endpoint called ``name``."""
        self.discover()
        with self._lock:
            cls = self._classes.get(name)
        if cls is None:
            raise UnknownEndpointError(
                f"unknown endpoint {name!r}; known: {', '.join(self.names())}"
            )
        return cls()

    def names(self) -> list[str]:
        """Every registered name, in registration order."""
        self.discover()
        with self._lock:
            return list(self._classes)

    def default_names(self) -> list[str]:
        """Names of the endpoints read by default."""
        return [n for n in self.names() if self._classes[n].default_enabled]

    def select(self, names: Iterable[str] | None = None) -> list[Endpoint]:
        """Instances for ``names`` (all defaults when None), in registry order."""
        if names is None:
            return [self.get(n) for n in self.default_names()]
        wanted = list(dict.fromkeys(names))
        for name in wanted:
            if name not in self:
                raise UnknownEndpointError(
                    f"unknown endpoint {name!r}; known: {', '.join(self.names())}"
                )
        return [self.get(n) for n in self.names() if n in wanted]

    def __contains__(self, name: object) -> bool:
        self.discover()
        return name in self._classes

    def __iter__(self) -> Iterator[Endpoint]:
        return iter([self.get(n) for n in self.names()])

    def __len__(self) -> int:
        return len(self.names())


def _endpoint_classes(target: object) -> list[type[Endpoint]]:
    if inspect.isclass(target) and issubclass(target, Endpoint):
        return [target]
    if isinstance(target, ModuleType):
        return []  # importing the module registered its endpoints
    if callable(target):
        produced = target()
        if isinstance(produced, Iterable):
            return [c for c in produced if inspect.isclass(c) and issubclass(c, Endpoint)]
    raise TypeError("entry point is neither an Endpoint subclass, a module nor a factory")


#: The default registry: built-in endpoints plus entry points.
registry = EndpointRegistry()


def register(cls: E) -> E:
    """Class decorator: add ``cls`` to the default registry."""
    return registry.register(cls)


def get_endpoint(name: str) -> Endpoint:
    """An instance of the endpoint ``name`` from the default registry."""
    return registry.get(name)


EndpointFactory = Callable[[], Iterable[type[Endpoint]]]
