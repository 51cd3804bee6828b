"""Per-field "newest observation wins" merging, in Python, of the small entities seen in
several legacy tables (policies, settings, SoM computers); systems, patches and states merge
in SQL (:mod:`pmp_intel.legacy.observations`, :mod:`pmp_intel.legacy.states`)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

OLDEST = float("-inf")

# slot layout: [extra, extra_when, winner_when, winner_account, values..., times...]
_EXTRA, _EXTRA_WHEN, _WIN_WHEN, _WIN_ACCOUNT, _FIRST = 0, 1, 2, 3, 4


def _compact(value: Any) -> Any:
    """Short strings repeat across tens of thousands of records: share one copy."""
    if isinstance(value, str) and len(value) <= 48:
        return sys.intern(value)
    return value


class FieldMerger:
    """Observations of entities, merged field by field: for every column the value of the
    newest observation that has one wins (ties go to the later observation). Each entity
    also remembers which accounted table its newest observation came from, for the
    report's imported/merged split.

    One flat list per entity keeps the memory small."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self._width = len(self.columns)
        self._position = {name: _FIRST + i for i, name in enumerate(self.columns)}
        self._slots: dict[Hashable, list[Any]] = {}

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, key: object) -> bool:
        return key in self._slots

    def observe(
        self,
        key: Hashable,
        when: float,
        fields: dict[str, Any],
        extra: dict[str, Any] | None = None,
        account: int | None = None,
    ) -> None:
        """Record one observation of ``key`` made at ``when`` (epoch seconds; ``OLDEST`` if
        unknown). ``account`` is the report entry of the table it came from (None: a filler
        source that does not count as an observation of its own)."""
        slot = self._slots.get(key)
        width = self._width
        if slot is None:
            slot = [None, OLDEST, OLDEST, None, *([None] * width), *([OLDEST] * width)]
            self._slots[key] = slot
        position = self._position
        for name, value in fields.items():
            if value is None:
                continue
            i = position[name]
            if slot[i] is None or when >= slot[i + width]:
                slot[i] = _compact(value)
                slot[i + width] = when
        if extra:
            kept = slot[_EXTRA]
            if kept is None:
                slot[_EXTRA] = {k: _compact(val) for k, val in extra.items()}
                slot[_EXTRA_WHEN] = when
            elif when >= slot[_EXTRA_WHEN]:
                kept.update({k: _compact(val) for k, val in extra.items()})
                slot[_EXTRA_WHEN] = when
            else:
                for name, value in extra.items():
                    kept.setdefault(name, _compact(value))
        if account is not None and (slot[_WIN_ACCOUNT] is None or when >= slot[_WIN_WHEN]):
            slot[_WIN_WHEN] = when
            slot[_WIN_ACCOUNT] = account

    def fill(self, key: Hashable, fields: dict[str, Any]) -> None:
        """Fill columns of an existing entity that no observation gave a value."""
        slot = self._slots.get(key)
        if slot is None:
            return
        for name, value in fields.items():
            i = self._position.get(name)
            if i is not None and slot[i] is None and value is not None:
                slot[i] = value

    def winners(self) -> Counter[int]:
        """Report entry → number of entities whose newest observation it holds."""
        return Counter(
            slot[_WIN_ACCOUNT] for slot in self._slots.values() if slot[_WIN_ACCOUNT] is not None
        )

    def items(self) -> Iterator[tuple[Hashable, dict[str, Any], dict[str, Any] | None]]:
        """``(key, columns, extra)`` of every entity."""
        end = _FIRST + self._width
        for key, slot in self._slots.items():
            extra = slot[_EXTRA]
            yield (
                key,
                dict(zip(self.columns, slot[_FIRST:end], strict=True)),
                (dict(extra) if extra else None),
            )

    def get(self, key: Hashable, column: str) -> Any:
        """The merged value of one column of one entity (None if unknown)."""
        slot = self._slots.get(key)
        return None if slot is None else slot[self._position[column]]
