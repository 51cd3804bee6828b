"""A fast path for validating wire records, with the result of ``Model.model_validate``.

Through pydantic, a record costs a Python call per field (the ``BeforeValidator`` coercers
of :mod:`pmp_intel.endpoints.coerce`) on top of pydantic-core's own work, and one dcapi
systemreport page nests thousands of patch states. Those coercers already return the final
value (:data:`~pmp_intel.endpoints.coerce.FINAL_VALIDATORS`: pydantic hands it back
unchanged), so a :class:`FastPlan` matches the keys exactly as the model does
(:meth:`PMPRecord._match <pmp_intel.endpoints.base.PMPRecord._match>`), calls the coercers
directly and assembles the model as ``model_construct`` would.

A plan only answers when it is sure. A value it does not know how to take, a coercer error
(outside an optional code, which goes to ``extra`` as in the model), a missing required
field or a failing after-validator makes :meth:`FastPlan.build` return None, and the caller
runs ``model_validate``, which gives pydantic's own result or error: an invalid record is
still reported exactly as before. Only models made of what a plan understands get one
(:func:`plan_for`); the others always go through pydantic.

Plans and their caches (wire key → step, short string → converted value) are filled as
records come, from any thread: every write is a single dict assignment of a value that
does not depend on who wrote it, so a race costs a repeated look-up, never a wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, get_args, get_origin

from pydantic import BeforeValidator
from pydantic.fields import FieldInfo

from pmp_intel.endpoints.coerce import FINAL_VALIDATORS, CodeOf

if TYPE_CHECKING:
    from pmp_intel.endpoints.base import PMPRecord

__all__ = ["FastPlan", "base_non_null_check", "plan_for"]

Converter = Callable[[Any], Any]

#: Defaults a plan may share between records (pydantic would not copy these either).
_IMMUTABLE_DEFAULTS = (type(None), bool, int, float, str)
#: Distinct wire keys remembered per plan (a hostile server cannot grow it further).
_STEPS_LIMIT = 1024
#: Results remembered per field, and the longest wire string remembered.
_MEMO_LIMIT = 512
_MEMO_TEXT = 64
#: Marks a wire key not looked up yet (a None step means "to ``extra``").
_UNSEEN: Any = object()
_new = object.__new__
_set = object.__setattr__


class _Unsure(Exception):
    """The fast path cannot tell what pydantic would do with a value."""


def _lax_int(value: Any) -> int:
    """A plain ``int`` field: ints, and ASCII digit strings (which pydantic's lax mode
    reads the same way); anything else is left to pydantic."""
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    raise _Unsure


def _exact_str(value: Any) -> str:
    """A plain ``str`` field: strings as they are; anything else is left to pydantic."""
    if type(value) is str:
        return value
    raise _Unsure


def _memoizable(convert: Converter) -> bool:
    """Whether ``convert``'s result depends on the value alone and is immutable."""
    return convert in FINAL_VALIDATORS or convert in (_lax_int, _exact_str)


def _list_of(item: Converter) -> Converter:
    def convert(value: Any) -> list[Any]:
        if type(value) is not list:
            raise _Unsure
        return [item(v) for v in value]

    return convert


def _records_of(model: type[PMPRecord]) -> Converter | None:
    """A ``list[Model]`` field: a list of JSON objects, each built by ``model``'s plan."""
    plan = model.fast_plan()
    if plan is None:
        return None
    build = plan.build_or_raise

    def convert(value: Any) -> list[PMPRecord]:
        if type(value) is not list:
            raise _Unsure
        records = []
        for item in value:
            if type(item) is not dict:
                raise _Unsure
            records.append(build(item))
        return records

    return convert


def _before(first: Converter, then: Converter) -> Converter:
    def convert(value: Any) -> Any:
        return then(first(value))

    return convert


def _plain_converter(annotation: Any) -> Converter | None:
    """The converter for a field type without validators of its own, or None."""
    from pmp_intel.endpoints.base import PMPRecord  # here: base imports this module

    if annotation is int:
        return _lax_int
    if annotation is str:
        return _exact_str
    if get_origin(annotation) is list:
        (item_type,) = get_args(annotation)
        if isinstance(item_type, type) and issubclass(item_type, PMPRecord):
            return _records_of(item_type)
        item = _plain_converter(item_type)
        return None if item is None else _list_of(item)
    return None


def _field_converter(info: FieldInfo) -> Converter | None:
    """How the fast path fills one field, or None when it cannot."""
    if info.alias is not None or info.validation_alias is not None:
        return None
    validators = [m for m in info.metadata if isinstance(m, BeforeValidator)]
    if any(not isinstance(m, BeforeValidator | CodeOf) for m in info.metadata):
        return None  # constraints, other validator kinds: pydantic's business
    if not validators:
        return _plain_converter(info.annotation)
    if len(validators) > 1:
        return None
    func = validators[0].func
    if func in FINAL_VALIDATORS:
        return func if FINAL_VALIDATORS[func] == info.annotation else None
    then = _plain_converter(info.annotation)
    return None if then is None else _before(func, then)  # type: ignore[arg-type]


#: How one wire key is taken: (field, converter, optional code, memo of the field), or
#: None for ``extra``.
Step = tuple[str, Converter, bool, dict[str, Any] | None] | None


class FastPlan:
    """How to validate one model's records without pydantic (see the module docstring)."""

    def __init__(
        self,
        model: type[PMPRecord],
        converters: dict[str, tuple[Converter, bool]],
        after: list[Callable[[Any], Any]],
    ) -> None:
        self.model = model
        #: Field → (converter, optional code: an unknown value goes to ``extra``).
        self.converters = converters
        #: The model's after-validators, in pydantic's order.
        self.after = after
        fields = {n: f for n, f in model.model_fields.items() if n != "extra"}
        self.required = frozenset(n for n, f in fields.items() if f.is_required())
        #: Every field in declaration order (the ``__dict__`` order pydantic produces),
        #: with its default; fields with a default factory are filled per record.
        self.template: dict[str, Any] = {"extra": None}
        self.template.update({n: f.default for n, f in fields.items()})
        self.factories = [
            (n, f.default_factory) for n, f in fields.items() if f.default_factory is not None
        ]
        #: Wire key → :data:`Step`, filled as keys are met (bounded like the model's own).
        self.steps: dict[str, Step] = {}
        #: Field → results for short wire strings seen before (labels, names and numeric
        #: strings repeat endlessly): only for converters whose results depend on the
        #: value alone and are immutable, so that records may share them.
        self.memos: dict[str, dict[str, Any]] = {
            name: {} for name, (convert, _) in converters.items() if _memoizable(convert)
        }

    def build(self, data: Mapping[str, Any]) -> PMPRecord | None:
        """The model ``model_validate(data)`` would return, or None when unsure."""
        try:
            return self.build_or_raise(data)
        except Exception:  # whatever it is, pydantic decides
            return None

    def build_or_raise(self, data: Mapping[str, Any]) -> PMPRecord:
        """:meth:`build`, raising when unsure (a nested record makes its parent unsure)."""
        return self._assemble(*self.values_or_raise(data))

    def values_or_raise(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The converted field values a record would hold (the fields on the wire only)
        and its unknown wire fields (the start of ``extra``); raises when unsure."""
        model = self.model
        data = model.prepare(data)
        steps = self.steps
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        rejected: list[tuple[str, Any]] | None = None
        for raw_key, raw in data.items():
            key = raw_key if type(raw_key) is str else str(raw_key)
            step = steps.get(key, _UNSEEN)
            if step is _UNSEEN:
                step = self._learn(key)
            if step is None:
                extra[key] = raw
                continue
            name, convert, optional_code, memo = step
            if name in values:  # two wire keys for one field: rank them as the model does
                return self._convert_matched(data)
            if memo is not None and type(raw) is str:
                value = memo.get(raw, _UNSEEN)
                if value is not _UNSEEN:
                    values[name] = value
                    continue
            else:
                memo = None
            try:
                value = convert(raw)
            except ValueError:
                if not optional_code:
                    raise
                rejected = [*(rejected or ()), (key, raw)]
                value = None
            else:
                if memo is not None and len(memo) < _MEMO_LIMIT and len(raw) <= _MEMO_TEXT:
                    memo[raw] = value
            values[name] = value
        if rejected:  # unknown codes join ``extra`` after the unknown keys (_normalise)
            extra.update(rejected)
        return values, extra

    def _learn(self, key: str) -> Step:
        target = self.model._resolve(key)
        if target is None:
            step = None
        else:
            name = target[0]
            step = (name, *self.converters[name], self.memos.get(name))
        if len(self.steps) < _STEPS_LIMIT:
            self.steps[key] = step
        return step

    def _convert_matched(
        self, data: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The two-step form for records with competing keys: the model's own ranking
        (:meth:`PMPRecord._match`), then the converters."""
        chosen, extra = self.model._match(data)
        values: dict[str, Any] = {}
        for name, (_, key, raw) in chosen.items():
            convert, optional_code = self.converters[name]
            if optional_code:
                try:
                    values[name] = convert(raw)
                except ValueError:
                    extra[key] = raw
                    values[name] = None
            else:
                values[name] = convert(raw)
        return values, extra

    def _assemble(self, values: dict[str, Any], extra: dict[str, Any]) -> PMPRecord:
        """The model from converted field values, as pydantic would return it."""
        if not values.keys() >= self.required:
            raise _Unsure  # pydantic reports the missing field
        values["extra"] = self.model._merge_extra(extra) if "extra" in extra else extra
        state = {**self.template, **values}
        for name, factory in self.factories:
            if name not in values:
                state[name] = factory()  # type: ignore[call-arg]
        # What ``BaseModel.model_construct`` does for a model without aliases, private
        # attributes or extra fields (plan_for checks that): 4 attributes, no copies.
        record = _new(self.model)
        _set(record, "__dict__", state)
        _set(record, "__pydantic_fields_set__", set(values))
        _set(record, "__pydantic_extra__", None)
        _set(record, "__pydantic_private__", None)
        for check in self.after:
            record = check(record)
        return record


def base_non_null_check() -> Callable[[Any], Any]:
    """The after-validator every record inherits (its :attr:`~PMPRecord.non_null` check),
    which the fast paths reproduce without calling it."""
    from pmp_intel.endpoints.base import PMPRecord  # here: base imports this module

    check: Callable[[Any], Any] = (
        PMPRecord.__pydantic_decorators__.model_validators["_check_non_null"].func
    )
    return check


def plan_for(model: type[PMPRecord]) -> FastPlan | None:
    """A plan for ``model``, or None when its records must go through pydantic."""
    from pmp_intel.endpoints.base import PMPRecord  # here: base imports this module

    if (
        model.model_config != PMPRecord.model_config
        or model.__private_attributes__
        or model.__pydantic_post_init__ is not None
        or model.__pydantic_root_model__
        or model.__new__ is not object.__new__
    ):
        return None
    decorators = model.__pydantic_decorators__
    if decorators.field_validators or decorators.validators or decorators.root_validators:
        return None
    after: list[Callable[[Any], Any]] = []
    for name, decorator in decorators.model_validators.items():
        if name == "_check_non_null" and decorator.func is base_non_null_check():
            if model.non_null:  # a no-op without fields to check
                after.append(decorator.func)
        elif decorator.info.mode == "after":
            after.append(decorator.func)
        elif not (decorator.info.mode == "before" and name == "_normalise"):
            return None
    if getattr(model._normalise, "__func__", None) is not PMPRecord._normalise.__func__:
        return None
    own_extra = model.model_fields.get("extra")
    if own_extra is None or own_extra.annotation != dict[str, Any] or own_extra.metadata:
        return None
    converters: dict[str, tuple[Converter, bool]] = {}
    for name, info in model.model_fields.items():
        if name == "extra":
            continue
        shared_default = not info.is_required() and info.default_factory is None
        if shared_default and not isinstance(info.default, _IMMUTABLE_DEFAULTS):
            return None
        convert = _field_converter(info)
        if convert is None:
            return None
        optional_code = name in model._code_cache and not info.is_required()
        converters[name] = (convert, optional_code)
    return FastPlan(model, converters, after)
