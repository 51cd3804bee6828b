"""SQLite twins of the converters in :mod:`pmp_intel.legacy.values`.

The bulk tables (systems, patches, per-system reports) are mapped by SQLite itself, next to
the read-only legacy files: every converter a field map uses has an SQL expression here
that returns what the Python converter returns (``None`` ↔ ``NULL``, ``True``/``False`` ↔
``1``/``0``, a datetime ↔ its epoch milliseconds). ``tests/legacy/test_sql_values.py``
checks the two against each other on the values the old tools wrote.

Known differences, on values no Maia tool wrote: numeric text in exponent notation
(``'1e3'``) or with digit separators (``'1_000'``) is not a number here; a JSON ``true``
read as *text* gives ``'1'`` (Python: ``'True'``); floats are printed as SQLite prints them;
ISO times rely on SQLite's date functions once their shape is checked, which differ from
Python's only on values out of range the shape check lets through.

Every builder takes an SQL expression that is cheap to repeat (a column of a materialised
stage), because the expressions refer to their input several times.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from pmp_intel.legacy import mapping as mp
from pmp_intel.legacy import values as v

SqlConverter = Callable[[str], str]

#: What Python's ``str.strip()`` strips, as far as the legacy files go.
_WHITESPACE = "char(32, 9, 10, 11, 12, 13)"
#: The epoch value below which a number is seconds, and the ceiling (year 2200), as in values.py.
SECONDS_CUTOFF = 100_000_000_000
MS_CEILING = 7_258_118_400_000
#: Sorts before every real time (an observation without a time is the oldest).
OLDEST_MS = -(2**62)


def literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


_COLUMN = re.compile(r"\{c:([A-Za-z_][A-Za-z0-9_]*)\}")


def columns_of(template: str, columns: Collection[str], alias: str = "t") -> str:
    """``template`` with every ``{c:name}`` replaced by the column ``alias."name"``, or by
    NULL when the table has no such column (a shape requires only some of its columns)."""
    return _COLUMN.sub(
        lambda m: f"{alias}.{identifier(m[1])}" if m[1] in columns else "NULL", template
    )


def json_path(key: str) -> str:
    """The JSON path of the top-level ``key`` (dots and quotes in keys included)."""
    return literal('$."' + key.replace('"', '\\"') + '"')


_SENTINELS = "(" + ", ".join(literal(s) for s in sorted(v.SENTINELS)) + ")"


def _trim(x: str) -> str:
    return f"trim({x}, {_WHITESPACE})"


def present(x: str) -> str:
    """1 when ``values.clean(x)`` is not None: a value that is not one of PMP's nulls."""
    return (
        f"(CASE typeof({x}) WHEN 'null' THEN 0 WHEN 'text' THEN {_trim(x)} NOT IN {_SENTINELS} "
        f"WHEN 'integer' THEN {x} <> -1 WHEN 'real' THEN {x} <> -1 ELSE 1 END)"
    )


def text(x: str, limit: int | None = None) -> str:
    """``values.to_text``: trimmed text without sentinels (numbers as text)."""
    t = _trim(x)
    out = (
        f"(CASE typeof({x}) WHEN 'text' THEN CASE WHEN {t} IN {_SENTINELS} THEN NULL ELSE {t} END "
        f"WHEN 'integer' THEN CASE WHEN {x} = -1 THEN NULL ELSE CAST({x} AS TEXT) END "
        f"WHEN 'real' THEN CASE WHEN {x} = -1 THEN NULL ELSE CAST({x} AS TEXT) END END)"
    )
    return f"substr({out}, 1, {limit})" if limit is not None else out


def _digits(t: str) -> str:
    """``t`` is a run of digits, optionally signed."""
    return (
        f"(ltrim({t}, '+-') <> '' AND length({t}) - length(ltrim({t}, '+-')) <= 1 "
        f"AND NOT ltrim({t}, '+-') GLOB '*[^0-9]*')"
    )


def _decimal(t: str) -> str:
    """``t`` is an integral decimal such as ``5.0`` (Python's ``int(float(t))``)."""
    unsigned = f"ltrim({t}, '+-')"
    return (
        f"(instr({t}, '.') > 0 AND length({t}) - length({unsigned}) <= 1 "
        f"AND {unsigned} GLOB '*[0-9]*' AND NOT {unsigned} GLOB '*[^0-9.]*' "
        f"AND length({unsigned}) - length(replace({unsigned}, '.', '')) = 1 "
        f"AND CAST({t} AS REAL) = CAST(CAST({t} AS REAL) AS INTEGER))"
    )


def _real_integer(x: str) -> str:
    return (
        f"(CASE WHEN {x} <> -1 AND abs({x}) < 9.2e18 AND {x} = CAST({x} AS INTEGER) "
        f"THEN CAST({x} AS INTEGER) END)"
    )


def _typed(
    x: str,
    on_integer: SqlConverter,
    words: Sequence[tuple[str, str]] = (),
    tail: Sequence[tuple[str, str]] = (),
) -> str:
    """A converter by value type, as one flat CASE (SQLite's parser has a fixed stack):
    ``on_integer(n)`` for an integer ``n`` (from an int, an integral float or numeric
    text); ``words`` are ``(condition on the trimmed text t, result)`` pairs tried first
    for text, ``tail`` pairs last (text that is no number). Sentinels are NULL."""
    t = _trim(x)

    def cases(pairs: Sequence[tuple[str, str]]) -> str:
        return " ".join(
            f"WHEN {condition.format(t=t)} THEN {result.format(t=t)}" for condition, result in pairs
        )

    return (
        f"(CASE typeof({x}) WHEN 'integer' THEN CASE WHEN {x} <> -1 THEN {on_integer(x)} END "
        f"WHEN 'real' THEN {on_integer(_real_integer(x))} "
        f"WHEN 'text' THEN CASE WHEN {t} IN {_SENTINELS} THEN NULL {cases(words)} "
        f"WHEN {_digits(t)} THEN {on_integer(f'CAST({t} AS INTEGER)')} "
        f"WHEN {_decimal(t)} THEN {on_integer(f'CAST(CAST({t} AS REAL) AS INTEGER)')} "
        f"{cases(tail)} END END)"
    )


def integer(x: str) -> str:
    """``values.to_int``: an integer from an int, an integral float or numeric text."""
    return _typed(x, lambda n: n)


def boolean(x: str) -> str:
    """``values.to_bool``: 1/0 from booleans, numbers and yes/no words."""
    t = f"lower({_trim(x)})"
    return (
        f"(CASE typeof({x}) WHEN 'integer' THEN CASE WHEN {x} = -1 THEN NULL ELSE {x} <> 0 END "
        f"WHEN 'real' THEN CASE WHEN {x} = -1 THEN NULL ELSE {x} <> 0 END "
        f"WHEN 'text' THEN CASE WHEN {t} IN ('true', 'yes', '1', 'y') THEN 1 "
        f"WHEN {t} IN ('false', 'no', '0', 'n') THEN 0 END END)"
    )


def _epoch(n: str) -> str:
    return (
        f"(CASE WHEN {n} <= 0 THEN NULL WHEN {n} < {SECONDS_CUTOFF} THEN {n} * 1000 "
        f"WHEN {n} <= {MS_CEILING} THEN {n} END)"
    )


_D2 = "[0-9][0-9]"
_DATE = f"[0-9][0-9]{_D2}-{_D2}-{_D2}"
#: Julian days of the epoch and of the ceiling of epoch times.
_EPOCH_JD = 2440587.5
_CEILING_JD = _EPOCH_JD + MS_CEILING / 86_400_000


def _iso_time(t: str) -> str:
    """``t`` is a time of the shape of ``values.ISO_TIME`` (date, then ``[T ]HH:MM[:SS[.f…]]``
    and an optional ``Z`` / ``±HH:MM``) with a real calendar date, within the epoch bounds:
    SQLite's date functions read it once the shape checks exclude what they would accept or
    normalise beyond the pattern (hour 24, 30 February, spaces, a lower-case ``z``). One flat
    chain of conditions: SQLite's parser has a fixed stack, and this sits deep."""
    return (
        f"{t} GLOB '{_DATE}*' AND julianday({t}) > {_EPOCH_JD} "
        f"AND julianday({t}) <= {_CEILING_JD} "
        f"AND date(julianday(substr({t}, 1, 10))) = substr({t}, 1, 10) "
        f"AND (length({t}) = 10 OR {t} GLOB '{_DATE}[T ]{_D2}:{_D2}*' "
        f"AND substr({t}, 12, 2) <= '23' AND instr(substr({t}, 12), ' ') = 0 "
        f"AND NOT {t} GLOB '*z')"
    )


def _iso_ms(t: str) -> str:
    return f"CAST(round((julianday({t}) - {_EPOCH_JD}) * 86400000.0) AS INTEGER)"


def epoch_ms(x: str) -> str:
    """``values.epoch_ms`` as epoch milliseconds (values below 10¹¹ are seconds; ISO text
    is a UTC time unless it carries an offset)."""
    return _typed(x, _epoch, tail=[(_iso_time("{t}"), _iso_ms("{t}"))])


def _code_or_word(x: str, allowed: str, words: dict[str, int]) -> str:
    listed = ", ".join(literal(word) for word in words)
    by_word = " ".join(f"WHEN {literal(word)} THEN {code}" for word, code in words.items())
    return _typed(
        x,
        lambda n: f"(CASE WHEN {n} {allowed} THEN {n} END)",
        [(f"lower({{t}}) IN ({listed})", f"(CASE lower({{t}}) {by_word} END)")],
    )


def severity(x: str) -> str:
    """``values.severity``: 0-4 from a number or a word."""
    return _code_or_word(x, "BETWEEN 0 AND 4", v.SEVERITY_WORDS)


def install_status(x: str) -> str:
    """``values.install_status``: 201/202/206 from a code or a word."""
    return _code_or_word(x, "IN (201, 202, 206)", v.INSTALL_WORDS)


def live_status(x: str) -> str:
    """``values.live_status``: the legacy 0 (offline) becomes 2."""
    return _typed(
        x, lambda n: f"(CASE {n} WHEN 0 THEN 2 WHEN 1 THEN 1 WHEN 2 THEN 2 WHEN 3 THEN 3 END)"
    )


def platform(x: str) -> str:
    """``values.platform``: 1/2/3 from a code or a platform name."""
    return _typed(
        x,
        lambda n: f"(CASE WHEN {n} IN (1, 2, 3) THEN {n} END)",
        [
            (f"{{t}} LIKE {literal(word + '%')}", str(code))
            for word, code in v.PLATFORM_WORDS.items()
        ],
    )


def platform_name(x: str) -> str:
    """``mapping.platform_name``: text that is not a bare number."""
    t = _trim(x)
    return (
        f"(CASE typeof({x}) WHEN 'text' THEN CASE WHEN {t} IN {_SENTINELS} THEN NULL "
        f"WHEN {_digits(t)} OR {_decimal(t)} THEN NULL ELSE {t} END "
        f"WHEN 'real' THEN CASE WHEN {_real_integer(x)} IS NULL AND {x} <> -1 "
        f"THEN CAST({x} AS TEXT) END END)"
    )


def domain(allowed: Sequence[int]) -> SqlConverter:
    """``mapping.Domain``: the integer if it is one of ``allowed``."""
    options = ", ".join(str(a) for a in allowed)

    def convert(x: str) -> str:
        return _typed(x, lambda n: f"(CASE WHEN {n} IN ({options}) THEN {n} END)")

    return convert


def _mapped(x: str, cases: str) -> str:
    """An integer code of ``x`` mapped by ``cases`` (``WHEN code THEN result …``)."""
    return _typed(x, lambda n: f"(CASE {n} {cases} END)")


def deployment_install_status(x: str) -> str:
    """Install status from a system report's ``deployment_status`` (206 failed; 207/209
    installed)."""
    return _mapped(x, "WHEN 206 THEN 206 WHEN 207 THEN 201 WHEN 209 THEN 201")


def deployed_install_status(x: str) -> str:
    """Install status from ``patch_deployed`` (1 installed, 0 missing)."""
    return _mapped(x, "WHEN 1 THEN 201 WHEN 0 THEN 202")


_BY_CONVERTER: dict[object, SqlConverter] = {
    v.to_text: text,
    v.to_int: integer,
    v.to_bool: boolean,
    v.epoch_ms: epoch_ms,
    v.severity: severity,
    v.install_status: install_status,
    v.live_status: live_status,
    v.platform: platform,
    mp.platform_name: platform_name,
}


def converter(convert: mp.Converter) -> SqlConverter:
    """The SQL twin of a Python converter used in a field map."""
    if isinstance(convert, mp.Domain):
        return domain(convert.allowed)
    found = _BY_CONVERTER.get(convert)
    if found is None:  # pragma: no cover - a field map grew a converter without a twin
        raise LookupError(f"no SQL twin for converter {convert!r}")
    return found


def is_code(convert: mp.Converter) -> bool:
    """True for converters whose "no result" on a present value means "out of domain"."""
    return convert in mp.CODES


def lost(convert: mp.Converter, x: str) -> str | None:
    """SQL twin of ``mapping.lost`` being not None: ``x`` is present and ``convert`` turns
    it into nothing (None: the converter never loses a value)."""
    if convert in mp.LOSSLESS:
        return None
    condition = f"{present(x)} AND {converter(convert)(x)} IS NULL"
    if convert is v.epoch_ms:  # an epoch of 0 or less means "never"
        condition += f" AND coalesce({integer(x)} > 0, 1)"
    return condition


def render_time(ms: str, suffix: str = "") -> str:
    """Epoch milliseconds as the text a UTC datetime is stored as: SQLite's
    ``YYYY-MM-DD HH:MM:SS.ffffff`` (what SQLAlchemy writes), plus ``suffix`` (``+00`` for a
    PostgreSQL ``timestamptz``)."""
    tail = f" || {literal(suffix)}" if suffix else ""
    return (
        f"(CASE WHEN {ms} IS NOT NULL THEN strftime('%Y-%m-%d %H:%M:%S', {ms} / 1000, 'unixepoch') "
        f"|| printf('.%06d', ({ms} % 1000) * 1000){tail} END)"
    )


def coalesce(expressions: Sequence[str]) -> str:
    """The first non-NULL of ``expressions`` (evaluated lazily, in order)."""
    if not expressions:
        return "NULL"
    if len(expressions) == 1:
        return expressions[0]
    return f"coalesce({', '.join(expressions)})"


def json_object_without_nulls(pairs: Sequence[tuple[str, str]]) -> str:
    """A JSON object of ``(key, SQL value)`` pairs, leaving out NULL values ('{}' if none)."""
    if not pairs:
        return "'{}'"
    body = ", ".join(f"{literal(k)}, {value}" for k, value in pairs)
    return f"json_patch('{{}}', json_object({body}))"


def with_notes(extra: str, notes: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> str:
    """``extra`` (JSON text or NULL) with ``notes`` merged in: for each note key (e.g.
    ``legacy_invalid``) an object of ``(field, SQL value)`` pairs, NULL values left out;
    NULL when the result is empty. Rows without any note keep ``extra`` as it is."""
    values = [value for _, pairs in notes for _, value in pairs]
    if not values:
        return f"nullif({extra}, '{{}}')"
    body = ", ".join(
        f"{literal(key)}, json(nullif({json_object_without_nulls(pairs)}, '{{}}'))"
        for key, pairs in notes
    )
    noted = f"nullif(json_patch(coalesce({extra}, '{{}}'), json_object({body})), '{{}}')"
    none = " AND ".join(f"{value} IS NULL" for value in values)
    return f"(CASE WHEN {none} THEN nullif({extra}, '{{}}') ELSE {noted} END)"


class MappedColumns:
    """The SQL that maps stage columns (each a cheap column reference) onto target columns:

    * ``values``: per target column, the first source that converts to something;
    * ``invalid``: per code column, the first source that is present but converts to
      nothing (for ``extra.legacy_invalid``);
    * ``unparsed``: the same for every other column whose converter can lose a value (for
      ``extra.legacy_unparsed``).
    """

    def __init__(self, spec: Sequence[tuple[str, mp.Converter, Sequence[str]]]) -> None:
        self.values: list[str] = []
        self.invalid: list[tuple[str, str]] = []
        self.unparsed: list[tuple[str, str]] = []
        for column, convert, sources in spec:
            to_sql = converter(convert)
            self.values.append(coalesce([to_sql(s) for s in sources]))
            conditions = [(s, lost(convert, s)) for s in sources]
            cases = " ".join(f"WHEN {c} THEN {s}" for s, c in conditions if c is not None)
            if cases:
                noted = self.invalid if is_code(convert) else self.unparsed
                noted.append((column, f"(CASE {cases} END)"))

    def notes(
        self, more: Sequence[tuple[str, str]] = ()
    ) -> list[tuple[str, Sequence[tuple[str, str]]]]:
        """The notes for :func:`with_notes` (``more``: further ``legacy_unparsed`` pairs)."""
        return [(mp.INVALID_NOTE, self.invalid), (mp.UNPARSED_NOTE, [*self.unparsed, *more])]
