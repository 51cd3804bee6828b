"""Rows straight from wire records, for the extractor's staging.

An endpoint's rows come from its validated records (:meth:`Endpoint.rows
<pmp_intel.endpoints.base.Endpoint.rows>` of ``Model.model_validate(wire)``). The extractor
needs the rows alone, and building a model per record is most of the work of a page: a
dcapi systemreport page nests about 2,000 patch states. A :class:`RowPlan` gives, for a
wire record, the row that ``record.columns(names, rename)`` would give for the validated
record, from the same key matching and converters as the model's
:class:`~pmp_intel.endpoints.fast.FastPlan`, without building the model.

Like the fast path it answers only when sure. It has no plan for a model whose
after-validators are anything but its declared :attr:`~PMPRecord.non_null` fields, and
:meth:`RowPlan.row` returns None wherever :meth:`FastPlan.build` would (a value it cannot
take, a missing required field) and for a ``non_null`` field that is None; the caller then
validates the record the ordinary way, which gives the same rows or pydantic's own error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pmp_intel.endpoints.base import PMPRecord, RowLayout, non_null_error
from pmp_intel.endpoints.fast import FastPlan, base_non_null_check

__all__ = ["RowPlan"]


class RowPlan:
    """How to turn one model's wire records into rows of some columns (see the module
    docstring); make one with :meth:`of`."""

    def __init__(self, plan: FastPlan, layout: RowLayout) -> None:
        self.plan = plan
        self.layout = layout
        self.non_null = plan.model.non_null
        #: Positions of the code fields among the columns: the only ones a converter
        #: fills with an enum, stored as its int.
        codes = plan.model._code_cache
        self.codes = tuple(i for i, name in enumerate(layout.fields) if name in codes)

    @classmethod
    def of(
        cls,
        model: type[PMPRecord],
        names: Iterable[str],
        rename: Mapping[str, str] | None = None,
    ) -> RowPlan | None:
        """The plan for ``model``'s rows of ``names`` (after ``rename``, as in
        :meth:`PMPRecord.columns`), or None when its records need the model."""
        plan = model.fast_plan()
        if plan is None or any(check is not base_non_null_check() for check in plan.after):
            return None
        return cls(plan, model._layout(names, rename))

    def row(self, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """The row of wire record ``data``, or None when unsure."""
        try:
            return self.row_or_raise(data)
        except Exception:  # whatever it is, the model decides
            return None

    def row_or_raise(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`row`, raising when unsure."""
        plan = self.plan
        values, extra = plan.values_or_raise(data)
        if not values.keys() >= plan.required:
            raise LookupError("a required field is missing")  # pydantic reports it
        state = {**plan.template, **values}
        for name, factory in plan.factories:
            if name not in values:
                state[name] = factory()  # type: ignore[call-arg]
        if self.non_null and non_null_error(self.non_null, state) is not None:
            raise ValueError("a non-null field is None")  # pydantic reports it
        if "extra" in extra:
            extra = plan.model._merge_extra(extra)
        layout = self.layout
        got = layout.read(state)
        if self.codes:
            got = list(got)  # type: ignore[assignment]
            for i in self.codes:
                value = got[i]
                if value is not None:
                    got[i] = int(value)  # type: ignore[index]
        row = dict(zip(layout.columns, got, strict=True))
        row["extra"] = layout.extra(state, extra)
        return row
