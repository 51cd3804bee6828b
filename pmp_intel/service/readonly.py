"""Read-only access: a guard that admits one SELECT/WITH statement, and read-only
transactions underneath it.

Two independent layers, so that neither alone has to be perfect:

1. :func:`check_select_only` tokenises the SQL (comments, string literals, quoted
   identifiers and PostgreSQL dollar quotes are set aside first), then refuses more than one
   statement, anything that does not start with SELECT or WITH, and any write or
   session-changing keyword anywhere (``WITH x AS (DELETE …)``, ``SELECT … INTO``,
   ``PRAGMA``, ``ATTACH``, …).
2. :func:`read_only_connection` runs every query in a transaction the database itself
   keeps read-only: ``SET TRANSACTION READ ONLY`` on PostgreSQL, ``PRAGMA query_only`` on
   SQLite (the file is opened normally, so its 0600 mode and WAL journaling are untouched).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, text

#: Keywords that write, change the session or reach outside the database. Whole words only
#: (``update_name`` is a column, ``UPDATE`` is not allowed).
FORBIDDEN_KEYWORDS = frozenset(
    {
        "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "CREATE", "DROP",
        "ALTER", "TRUNCATE", "GRANT", "REVOKE", "ATTACH", "DETACH", "PRAGMA", "VACUUM",
        "REINDEX", "ANALYZE", "COPY", "CALL", "EXECUTE", "EXEC", "PREPARE", "DEALLOCATE",
        "LOCK", "INTO", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "LISTEN",
        "NOTIFY", "UNLISTEN", "LOAD", "REFRESH", "CLUSTER", "DISCARD", "IMPORT", "COMMENT",
        "SECURITY", "LOAD_EXTENSION", "SET_CONFIG", "DBLINK", "DBLINK_EXEC", "LO_IMPORT",
        "LO_EXPORT", "PG_READ_FILE", "PG_WRITE_FILE",
    }
)  # fmt: skip
ALLOWED_FIRST = frozenset({"SELECT", "WITH"})

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


class ReadOnlyViolation(ValueError):
    """The SQL given to ``query_raw`` is not a single read-only SELECT/WITH statement."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "code", "string", "ident", "comment"
    text: str


def _dollar_tag(sql: str, i: int) -> str | None:
    match = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
    return match.group(0) if match else None


def tokenize(sql: str) -> list[_Token]:
    """Split ``sql`` into code, string literal, quoted identifier and comment tokens.

    Raises :class:`ReadOnlyViolation` for an unterminated literal or comment (the rest of
    the text could otherwise hide a second statement).
    """
    tokens: list[_Token] = []
    code: list[str] = []
    i, n = 0, len(sql)

    def flush() -> None:
        if code:
            tokens.append(_Token("code", "".join(code)))
            code.clear()

    while i < n:
        ch = sql[i]
        nxt = sql[i + 1] if i + 1 < n else ""
        if ch == "-" and nxt == "-":
            end = sql.find("\n", i)
            end = n if end < 0 else end
            flush()
            tokens.append(_Token("comment", sql[i:end]))
            i = end
        elif ch == "/" and nxt == "*":
            depth, j = 1, i + 2  # PostgreSQL nests block comments; SQLite does not need to
            while j < n and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise ReadOnlyViolation("unterminated /* comment")
            flush()
            tokens.append(_Token("comment", sql[i:j]))
            i = j
        elif ch in "'\"`[":
            close = "]" if ch == "[" else ch
            # E'…' (PostgreSQL) lets a backslash escape the quote
            backslash = (
                ch == "'"
                and bool(code)
                and code[-1] in "eE"
                and (len(code) == 1 or not (code[-2].isalnum() or code[-2] == "_"))
            )
            j = i + 1
            while True:
                if j >= n:
                    raise ReadOnlyViolation(f"unterminated {ch} literal")
                if backslash and sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == close:
                    if close != "]" and j + 1 < n and sql[j + 1] == close:
                        j += 2  # doubled quote
                        continue
                    break
                j += 1
            flush()
            tokens.append(_Token("string" if ch == "'" else "ident", sql[i : j + 1]))
            i = j + 1
        elif (
            ch == "$"
            and (tag := _dollar_tag(sql, i)) is not None
            and not (code and (code[-1].isalnum() or code[-1] == "_"))
        ):
            end = sql.find(tag, i + len(tag))
            if end < 0:
                raise ReadOnlyViolation("unterminated dollar-quoted string")
            flush()
            tokens.append(_Token("string", sql[i : end + len(tag)]))
            i = end + len(tag)
        else:
            code.append(ch)
            i += 1
    flush()
    return tokens


def check_select_only(sql: str) -> list[_Token]:
    """Refuse anything but one SELECT or WITH statement without write keywords.

    Returns the tokens (for :func:`bind_raw`). Raises :class:`ReadOnlyViolation`.
    """
    tokens = tokenize(sql)
    code = " ".join(t.text if t.kind == "code" else " x " for t in tokens if t.kind != "comment")
    body = code.strip().rstrip(";").strip()
    if ";" in body:
        raise ReadOnlyViolation("only one statement is allowed (found ';' between statements)")
    first = _WORD.match(body.lstrip("( \t\r\n"))
    if first is None or first.group(0).upper() not in ALLOWED_FIRST:
        raise ReadOnlyViolation("only SELECT or WITH queries are allowed")
    words = {w.upper() for w in _WORD.findall(body)}
    bad = sorted(words & FORBIDDEN_KEYWORDS)
    if bad:
        raise ReadOnlyViolation(f"not allowed in a read-only query: {', '.join(bad)}")
    return tokens


def bind_raw(
    sql: str, params: Sequence[Any] | Mapping[str, Any] | None
) -> tuple[TextClause, dict[str, Any]]:
    """Check ``sql`` and make it a portable ``text()`` query with its bind values.

    Positional parameters use ``?`` (on both backends: they become ``:_p0``, ``:_p1``…);
    named ones use ``:name`` with a mapping. Colons inside string literals stay literal.
    """
    tokens = check_select_only(sql)
    positional = params is not None and not isinstance(params, Mapping)
    values: dict[str, Any] = dict(params) if isinstance(params, Mapping) else {}
    seq = list(params) if positional and params is not None else []
    out: list[str] = []
    used = 0
    for token in tokens:
        if token.kind == "code" and positional:
            parts = token.text.split("?")
            for k, part in enumerate(parts):
                out.append(part)
                if k < len(parts) - 1:
                    out.append(f":_p{used}")
                    used += 1
        elif token.kind in ("string", "ident", "comment"):
            out.append(token.text.replace(":", "\\:"))
        else:
            out.append(token.text)
    if positional:
        if used != len(seq):
            raise ValueError(f"query has {used} '?' placeholders but {len(seq)} parameters")
        values = {f"_p{k}": v for k, v in enumerate(seq)}
    return text("".join(out)), values


@contextmanager
def read_only_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a read-only transaction, rolled back when the block ends.

    PostgreSQL: ``SET TRANSACTION READ ONLY`` before anything else runs. SQLite:
    ``PRAGMA query_only = ON`` for the block (switched off again before the connection goes
    back to a pool that writers may share).
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA query_only = ON")
            conn.commit()
        try:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield conn
        finally:
            conn.rollback()
            if sqlite:
                conn.exec_driver_sql("PRAGMA query_only = OFF")
                conn.commit()
