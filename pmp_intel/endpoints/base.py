"""The endpoint base class and the record model base class.

An endpoint is one small class: name, path and API version, record key, paging style,
default on/off, a pydantic record model, the entity its records map onto, and
:meth:`Endpoint.rows` (record → ``(entity, columns)`` pairs, column names exactly those of
the entity's ``*Fields`` class in :mod:`pmp_intel.store.models`).

Record models (:class:`PMPRecord`) normalise at the boundary: wire keys are matched to
fields by name, by declared alias, or with dots replaced by underscores
(``"resource.name"`` → ``resource_name``); values are coerced by the annotated types of
:mod:`pmp_intel.endpoints.coerce`; an optional code field holding an unknown code becomes
None with its raw value kept in ``extra``; every wire field the model does not declare is
kept in ``extra`` under its wire key, never dropped.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pmp_intel.api.paginate import InvalidRecord, PagingStyle
from pmp_intel.endpoints.coerce import CodeOf, parse_code
from pmp_intel.endpoints.fast import FastPlan, plan_for

if TYPE_CHECKING:
    from pmp_intel.endpoints.rowplan import RowPlan

__all__ = ["Endpoint", "PMPRecord", "PagingStyle", "RecordRows", "Row"]

#: Distinct wire keys remembered per model (a hostile server cannot grow it further).
_RESOLVED_LIMIT = 1024

#: One row for the extractor: (entity name, column → value).
Row = tuple[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RecordRows:
    """A valid record already turned into its rows (pages of :meth:`Endpoint.for_staging`)."""

    rows: list[Row]


#: Values :func:`_jsonable` returns as they are.
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
#: Marks a wire key not looked up yet (None means "no field").
_UNSEEN: Any = object()
#: ``(names, renames)`` layouts remembered per model for :meth:`PMPRecord.columns`.
_LAYOUT_LIMIT = 64


class RowLayout:
    """For :meth:`PMPRecord.columns` of one model, names and renames: which fields are
    columns (read in one C call), and which go to ``extra`` when set."""

    __slots__ = ("columns", "fields", "leftover", "read")

    def __init__(self, pairs: tuple[tuple[str, str], ...], leftover: tuple[str, ...]) -> None:
        self.fields = fields = tuple(field for field, _ in pairs)
        self.columns = tuple(column for _, column in pairs)
        self.leftover = leftover
        self.read: Callable[[dict[str, Any]], tuple[Any, ...]]
        if len(fields) > 1:
            self.read = itemgetter(*fields)
        else:  # itemgetter of one key returns the value, not a 1-tuple
            self.read = lambda values: tuple(values[f] for f in fields)

    def row(self, values: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        """The row of a record whose fields hold ``values`` and whose ``extra`` is
        ``extra``."""
        row = dict(
            zip(
                self.columns,
                [int(v) if isinstance(v, IntEnum) else v for v in self.read(values)],
                strict=True,
            )
        )
        row["extra"] = self.extra(values, extra)
        return row

    def extra(self, values: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any] | None:
        """The row's ``extra``: the set fields that are not columns (as JSON values), then
        the record's own ``extra``; None when empty."""
        if self.leftover:
            leftovers = {
                name: _jsonable(values[name])
                for name in self.leftover
                if values[name] is not None
            }
            extra = {**leftovers, **extra}
        return dict(extra) if extra else None


def _jsonable(value: Any) -> Any:
    if type(value) in _JSON_SCALARS:
        return value
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


def non_null_error(non_null: Mapping[str, str], values: Mapping[str, Any]) -> str | None:
    """The error of the first :attr:`PMPRecord.non_null` field that is None in ``values``
    (a missing key counts as None), or None when all are set."""
    for name, error in non_null.items():
        if values.get(name) is None:
            return error
    return None


class PMPRecord(BaseModel):
    """Base of every record model (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    #: Wire fields the model does not declare, and raw values of unknown codes.
    extra: dict[str, Any] = Field(default_factory=dict)

    #: Field name → extra wire keys that fill it, in order of preference. The field's own
    #: name wins over its dotted form (``a.b`` for ``a_b``), which wins over the aliases.
    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: Fields that describe *another* entity (a per-system patch state repeating the
    #: patch's name and severity): validated, but left out of this entity's rows, because
    #: the other entity's own endpoint stores them once instead of once per pair.
    describes_others: ClassVar[frozenset[str]] = frozenset()
    #: Fields that must not end up None (e.g. a required code given as a sentinel), with
    #: the error to raise when one does. Declared rather than written as a validator, so
    #: that the fast paths (:mod:`pmp_intel.endpoints.fast`) can check it themselves.
    non_null: ClassVar[Mapping[str, str]] = {}
    _wire_cache: ClassVar[dict[str, tuple[str, int]]] = {}
    #: Wire key → field (or None), including dotted forms, filled as keys are met.
    _resolved_keys: ClassVar[dict[str, tuple[str, int] | None]] = {}
    _code_cache: ClassVar[dict[str, tuple[CodeOf, bool]]] = {}
    #: The fast path (:mod:`pmp_intel.endpoints.fast`), built on first use; None: none.
    _plan: ClassVar[Any] = _UNSEEN
    #: ``(names, renames)`` → the field layout of a row (see :meth:`columns`).
    _layouts: ClassVar[dict[Any, RowLayout]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        wire: dict[str, tuple[str, int]] = {}
        codes: dict[str, tuple[CodeOf, bool]] = {}
        for name, info in cls.model_fields.items():
            if name == "extra":
                continue
            wire[name] = (name, 0)
            for position, alias in enumerate(cls.aliases.get(name, ())):
                wire.setdefault(alias, (name, 2 + position))
            for meta in info.metadata:
                if isinstance(meta, CodeOf):
                    codes[name] = (meta, info.is_required())
        cls._wire_cache = wire
        cls._code_cache = codes
        cls._resolved_keys = {}
        cls._plan = _UNSEEN
        cls._layouts = {}

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        chosen, extra = cls._match(cls.prepare(data))
        values: dict[str, Any] = {}
        codes = cls._code_cache
        for name, (_, key, value) in chosen.items():
            code = codes.get(name)
            if code is not None and not code[1]:
                try:
                    parse_code(code[0], value)
                except ValueError:
                    extra[key] = value
                    value = None
            values[name] = value
        values["extra"] = cls._merge_extra(extra)
        return values

    @model_validator(mode="after")
    def _check_non_null(self) -> Self:
        missing = non_null_error(type(self).non_null, self.__dict__)
        if missing is not None:
            raise ValueError(missing)
        return self

    @classmethod
    def _match(
        cls, data: Mapping[str, Any]
    ) -> tuple[dict[str, tuple[int, str, Any]], dict[str, Any]]:
        """Wire keys (of a :meth:`prepare`-d record) matched to fields: field → (rank,
        wire key, value) for the best-ranked key of each field, and every other wire key →
        value (the start of ``extra``)."""
        resolved = cls._resolved_keys
        chosen: dict[str, tuple[int, str, Any]] = {}
        extra: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = raw_key if type(raw_key) is str else str(raw_key)
            target = resolved.get(key, _UNSEEN)
            if target is _UNSEEN:
                target = cls._resolve(key)
            if target is None:
                extra[key] = value
                continue
            name, rank = target
            current = chosen.get(name)
            if current is None:
                chosen[name] = (rank, key, value)
            elif rank < current[0]:
                extra[current[1]] = current[2]
                chosen[name] = (rank, key, value)
            else:
                extra[key] = value
        return chosen, extra

    @classmethod
    def _resolve(cls, key: str) -> tuple[str, int] | None:
        """The field (and rank) a wire key fills, remembered per model."""
        wire = cls._wire_cache
        target = wire.get(key)
        if target is None and "." in key:
            dotted = wire.get(key.replace(".", "_"))
            if dotted is not None:
                target = (dotted[0], 1)
        if len(cls._resolved_keys) < _RESOLVED_LIMIT:
            cls._resolved_keys[key] = target
        return target

    @staticmethod
    def _merge_extra(extra: dict[str, Any]) -> dict[str, Any]:
        """``extra`` with an ``extra`` mapping in the input (a model rebuilt from its own
        dump) merged in."""
        previous = extra.pop("extra", None)
        if isinstance(previous, Mapping):
            return {**previous, **extra}
        if previous is not None:
            extra["extra"] = previous
        return extra

    @classmethod
    def fast_plan(cls) -> FastPlan | None:
        """This model's fast path, or None when its records always go through pydantic."""
        plan = cls.__dict__.get("_plan", _UNSEEN)
        if plan is _UNSEEN:
            cls._plan = None  # a model nesting itself gets no plan, not a loop
            plan = cls._plan = plan_for(cls)
        return plan  # type: ignore[no-any-return]

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        """Validate one wire record: :meth:`model_validate`'s result (or its
        ``ValidationError``), through the fast path when it is sure of it."""
        plan = cls.fast_plan()
        if plan is not None and isinstance(data, Mapping):
            record = plan.build(data)
            if record is not None:
                return record  # type: ignore[return-value]
        return cls.model_validate(data)

    @classmethod
    def prepare(cls, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """Reshape a wire record before matching (e.g. flatten nested objects)."""
        return data

    def columns(
        self, names: Iterable[str], rename: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """A row: the fields in ``names`` (after ``rename``: field → column), enums as
        ints, and every other field plus the unknown wire fields under ``extra``."""
        return type(self)._layout(names, rename).row(self.__dict__, self.extra)

    @classmethod
    def _layout(cls, names: Iterable[str], rename: Mapping[str, str] | None) -> RowLayout:
        """The fields that are columns of the row, as (field, column), and those that
        go to ``extra`` when set (not :attr:`describes_others`), in declaration order."""
        wanted = names if isinstance(names, frozenset) else frozenset(names)
        key = (wanted, tuple(rename.items()) if rename else ())
        layout = cls._layouts.get(key)
        if layout is None:
            rename = rename or {}
            fields = [name for name in cls.model_fields if name != "extra"]
            layout = RowLayout(
                tuple((n, rename.get(n, n)) for n in fields if rename.get(n, n) in wanted),
                tuple(
                    n for n in fields
                    if rename.get(n, n) not in wanted and n not in cls.describes_others
                ),
            )
            if len(cls._layouts) < _LAYOUT_LIMIT:
                cls._layouts[key] = layout
        return layout


class Endpoint:
    """One PMP endpoint. Subclasses set the class attributes; see the module docstring."""

    #: Registry name (a public contract shared with the simulator and the extractor).
    name: ClassVar[str]
    #: Path after the version, e.g. ``patch/allsystems``; or a full path for dcapi.
    path: ClassVar[str]
    #: ``"1.4"`` for ``/api/1.4/…``; None when ``path`` is already absolute (dcapi).
    api_version: ClassVar[str | None] = "1.4"
    #: List or object key in ``message_response`` (first match wins, case-insensitive).
    record_key: ClassVar[str]
    alt_record_keys: ClassVar[tuple[str, ...]] = ()
    paging: ClassVar[PagingStyle] = PagingStyle.PAGED
    #: Read by default in an extraction.
    default_enabled: ClassVar[bool] = True
    #: A 404 means "not supported by this server" rather than a gap.
    optional: ClassVar[bool] = False
    model: ClassVar[type[PMPRecord]]
    #: Entity (key of ``pmp_intel.store.models.ENTITIES``) or None (stored elsewhere).
    entity: ClassVar[str | None] = None
    #: The entity's column names this endpoint fills (a subset of the ``*Fields`` columns).
    entity_columns: ClassVar[frozenset[str]] = frozenset()
    #: When set, this endpoint's rows complement those of the named endpoint for the same
    #: natural key (e.g. scandetails → allsystems): the extractor should let the named
    #: endpoint's non-null values win and use these rows to fill gaps.
    complements: ClassVar[str | None] = None
    #: False when this endpoint's rows may only fill gaps of entities another endpoint
    #: found, never add entities (the ~365,000-record supportedpatches catalogue must not
    #: turn into "patches applicable in the estate").
    creates_entities: ClassVar[bool] = True
    #: Skip this endpoint when the named one is selected and the server supports it
    #: (per-system systemreport gives way to the bulk dcapi systemreport).
    replaced_by: ClassVar[str | None] = None
    #: Field → column renames for :meth:`rows`.
    renames: ClassVar[Mapping[str, str]] = {}
    #: Fan-out: query parameter carrying the parent, and where the parents come from.
    parent_param: ClassVar[str | None] = None
    parent_endpoint: ClassVar[str | None] = None
    parent_field: ClassVar[str | None] = None
    #: Largest page size worth asking for (None: the client's ``page_limit``).
    max_page_size: ClassVar[int | None] = None
    description: ClassVar[str] = ""

    # --- what the client needs (pmp_intel.api.paginate.EndpointSpec) ---------------------
    @property
    def url_path(self) -> str:
        """Path below the base URL."""
        if self.api_version is None:
            return "/" + self.path.lstrip("/")
        return f"/api/{self.api_version}/{self.path.lstrip('/')}"

    @property
    def record_keys(self) -> tuple[str, ...]:
        """The record key and its alternatives."""
        return (self.record_key, *self.alt_record_keys)

    #: Set on the copies :meth:`for_staging` makes: the plan of :meth:`wire_rows`.
    _row_plan: RowPlan | None = None
    _staging: bool = False

    def parse_records(self, raw: list[Any]) -> tuple[list[Any], list[InvalidRecord]]:
        """Validate ``raw`` with :attr:`model`; failures are returned with their index.
        From :meth:`for_staging`'s copy, each valid record comes as its
        :class:`RecordRows`."""
        stage = self._stage if self._staging else None
        valid: list[Any] = []
        invalid: list[InvalidRecord] = []
        for index, item in enumerate(raw):
            if not isinstance(item, Mapping):
                invalid.append(InvalidRecord(index, item, "record is not a JSON object"))
                continue
            try:
                valid.append(self.model.from_wire(item) if stage is None else stage(item))
            except ValidationError as exc:
                invalid.append(InvalidRecord(index, item, _errors(exc)))
        return valid, invalid

    # --- what the extractor needs --------------------------------------------------------
    def for_staging(self) -> Self:
        """A copy whose :meth:`parse_records` turns each valid record straight into its
        rows (:class:`RecordRows`), without its model where :meth:`wire_rows` can: what
        the extractor stages. An endpoint that fans out per parent, or whose records also
        fill the server summary (:meth:`summary_columns`), is returned as it is."""
        if self.parent_param is not None or (
            type(self).summary_columns is not Endpoint.summary_columns
        ):
            return self
        from pmp_intel.endpoints.rowplan import RowPlan  # here: rowplan imports this module

        view = copy.copy(self)
        view._staging = True
        if self.entity is not None and type(self).rows is Endpoint.rows:
            view._row_plan = RowPlan.of(self.model, self.entity_columns, self.renames)
        return view

    def wire_rows(self, item: Mapping[str, Any]) -> list[Row] | None:
        """The rows of wire record ``item`` as :meth:`rows` would give them for its
        validated record, or None when they cannot be had surely without the model. The
        default answers for endpoints that keep the default :meth:`rows` (on
        :meth:`for_staging`'s copy); an endpoint with rows of its own may override it."""
        plan = self._row_plan
        if plan is None or self.entity is None:
            return None
        row = plan.row(item)
        return None if row is None else [(self.entity, row)]

    def _stage(self, item: Mapping[str, Any]) -> RecordRows:
        rows = self.wire_rows(item)
        if rows is None:  # the ordinary way: the model (or its ValidationError), then rows
            rows = list(self.rows(self.model.from_wire(item)))
        return RecordRows(rows)

    def rows(self, record: Any, *, parent: str | None = None) -> Iterable[Row]:
        """The rows ``record`` contributes: ``(entity, columns)`` pairs (none when
        :attr:`entity` is None). ``parent`` is the fan-out parent, when there is one."""
        if self.entity is None:
            return []
        return [(self.entity, record.columns(self.entity_columns, self.renames))]

    def summary_columns(self, record: Any) -> dict[str, Any]:
        """``ServerSummary`` columns this endpoint's record fills (summary-type only)."""
        return {}

    def __repr__(self) -> str:
        return f"<Endpoint {self.name} {self.url_path} {self.paging.value}>"


def _errors(exc: ValidationError) -> str:
    """Validation errors without input values (which may hold personal data)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error.get("loc", ())) or "record"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)
