"""Run ``pmp-intel`` in a subprocess that kills itself (SIGKILL) or pauses at an exact point.

Run as a script, this module is ``python -m pmp_intel`` with instruments: it counts the
JSON log events the command emits and the SQL it executes (``"INSERT systems"``,
``"DELETE patch_metrics"``, ``"SELECT sources"``, …), and when a :class:`Switch` fires it
either sends itself SIGKILL at that very instruction or prints a pause line and waits for
the test to say go.
Points are therefore exact and reproducible: no timing, no sleeping. A probe run can write
the counts to a file, from which seeded kill points are chosen.

In the test process, :class:`ChildRun` starts such a subprocess and reads its output on
reader threads, so every wait has a deadline instead of hanging.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TextIO

#: JSON list of switches for the child.
SWITCHES_ENV = "RELIABILITY_SWITCHES"
#: Where the child writes its event and SQL counts when it exits normally.
COUNTS_ENV = "RELIABILITY_COUNTS_FILE"
#: First word of the line a paused child prints on standard error.
PAUSED = "RELIABILITY-PAUSED"
#: Deadline of any single wait on a child (a hung child fails the test, never hangs it).
DEADLINE_S = 180.0

REPO = Path(__file__).resolve().parents[2]
_SQL_WRITE = re.compile(
    r"^\s*(INSERT\s+INTO|DELETE\s+FROM|UPDATE|COPY)\s+\"?(\w+)\"?", re.IGNORECASE
)


_SQL_READ = re.compile(r"^\s*SELECT\b.*?\bFROM\s+\"?(\w+)\"?", re.IGNORECASE | re.DOTALL)


def sql_key(statement: str) -> str | None:
    """``"INSERT systems"`` for an INSERT into systems (likewise DELETE, UPDATE; a ``COPY …
    FROM STDIN`` counts as an INSERT), ``"SELECT sources"`` for a query whose first table is
    sources, ``"BEGIN IMMEDIATE"`` for that statement; None for anything else."""
    if statement.lstrip().upper().startswith("BEGIN"):
        return " ".join(statement.split()).upper()  # "BEGIN", "BEGIN IMMEDIATE"
    found = _SQL_WRITE.match(statement)
    if found is None or (found.group(1).upper() == "COPY" and "TO STDOUT" in statement.upper()):
        read = _SQL_READ.match(statement)
        return None if read is None else f"SELECT {read.group(1).lower()}"
    verb = found.group(1).split()[0].upper()
    return f"{'INSERT' if verb == 'COPY' else verb} {found.group(2).lower()}"


@dataclass(frozen=True)
class Switch:
    """Where a child stops: the ``nth`` match of a log event or SQL statement, or its start.

    ``on`` is ``"event"`` (``match`` = event type, ``where`` = fields the event must carry),
    ``"sql"`` (``match`` = an :func:`sql_key` pattern such as ``"INSERT stg_*"``) or
    ``"start"`` (before the command runs). ``action`` is ``"kill"`` or ``"pause"``.
    """

    on: str
    match: str = ""
    nth: int = 1
    action: str = "kill"
    where: tuple[tuple[str, str], ...] = ()
    phase: str = ""

    @property
    def label(self) -> str:
        """Readable name of the point (used in pause lines and assertion messages)."""
        fields = "".join(f"[{k}={v}]" for k, v in self.where)
        return f"{self.phase + ': ' if self.phase else ''}{self.on}:{self.match}{fields}#{self.nth}"

    def to_json(self) -> dict[str, Any]:
        """The switch as JSON for the child's environment."""
        return {
            "on": self.on,
            "match": self.match,
            "nth": self.nth,
            "action": self.action,
            "where": [list(w) for w in self.where],
            "phase": self.phase,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Switch:
        """The switch :meth:`to_json` wrote."""
        return cls(
            on=data["on"],
            match=data["match"],
            nth=int(data["nth"]),
            action=data["action"],
            where=tuple((str(k), str(v)) for k, v in data["where"]),
            phase=data.get("phase", ""),
        )


def at_event(
    event: str, nth: int = 1, *, action: str = "kill", phase: str = "", **where: str
) -> Switch:
    """A switch on the ``nth`` log event ``event`` (whose fields equal ``where``)."""
    return Switch("event", event, nth, action, tuple(sorted(where.items())), phase)


def at_sql(pattern: str, nth: int = 1, *, action: str = "kill", phase: str = "") -> Switch:
    """A switch before the ``nth`` SQL statement matching ``pattern`` (``"DELETE stg_*"``)."""
    return Switch("sql", pattern, nth, action, (), phase)


def at_start() -> Switch:
    """Pause before the command touches anything."""
    return Switch("start", "", 1, "pause")


# ------------------------------------------------------------------------------ the child


class _Instruments:
    """Counts events and SQL writes in the child; fires the switches."""

    def __init__(self, switches: Sequence[Switch]) -> None:
        self.switches = list(switches)
        self.counts: Counter[str] = Counter()
        self._seen: Counter[Switch] = Counter()
        self._lock = threading.Lock()

    def observe(self, kind: str, name: str, fields: Mapping[str, Any]) -> None:
        fired: list[Switch] = []
        with self._lock:
            self.counts[f"{kind}:{name}"] += 1
            for switch in self.switches:
                if switch.on != kind or not fnmatchcase(name, switch.match):
                    continue
                if any(str(fields.get(k)) != v for k, v in switch.where):
                    continue
                self._seen[switch] += 1
                if self._seen[switch] == switch.nth:
                    fired.append(switch)
        for switch in fired:
            self.fire(switch)

    @staticmethod
    def fire(switch: Switch) -> None:
        if switch.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        sys.stderr.write(f"{PAUSED} {switch.label}\n")
        sys.stderr.flush()
        sys.stdin.readline()


class _EventTap(logging.Handler):
    """Sees every pmp-intel log record; reports structured events to the instruments."""

    def __init__(self, instruments: _Instruments) -> None:
        super().__init__(logging.DEBUG)
        self.instruments = instruments

    def emit(self, record: logging.LogRecord) -> None:
        from pmp_intel.logs import event_fields

        fields = event_fields(record)
        event_type = fields.get("event_type")
        if event_type:
            self.instruments.observe("event", str(event_type), fields)


def _install(instruments: _Instruments) -> None:
    from sqlalchemy import Engine, event

    from pmp_intel.logs import LOGGER_NAME

    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(_EventTap(instruments))
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)

    def before_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        key = sql_key(statement)
        if key is not None:
            instruments.observe("sql", key, {})

    event.listen(Engine, "before_cursor_execute", before_execute)
    _tap_copy(instruments)


def _tap_copy(instruments: _Instruments) -> None:
    """Bulk writes on PostgreSQL go by psycopg's ``cursor.copy()``, which SQLAlchemy never
    sees: count them too."""
    try:
        import psycopg
    except ImportError:
        return
    original = psycopg.Cursor.copy

    def copy(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        key = sql_key(str(statement))
        if key is not None:
            instruments.observe("sql", key, {})
        return original(self, statement, *args, **kwargs)

    psycopg.Cursor.copy = copy  # type: ignore[method-assign]


def child_main(argv: Sequence[str]) -> int:
    """``pmp-intel argv`` with the switches of the environment armed."""
    switches = [Switch.from_json(s) for s in json.loads(os.environ.get(SWITCHES_ENV, "[]"))]
    instruments = _Instruments(switches)
    _install(instruments)
    for switch in switches:
        if switch.on == "start":
            instruments.fire(switch)
    from pmp_intel.cli import main

    try:
        return main(list(argv))
    finally:
        counts_file = os.environ.get(COUNTS_ENV)
        if counts_file:
            Path(counts_file).write_text(json.dumps(dict(instruments.counts), sort_keys=True))


# ------------------------------------------------------------------------------ the test side


@dataclass
class ChildRun:
    """One instrumented ``pmp-intel`` subprocess.

    >>> run = ChildRun(["extract"], env, [at_event("checkpoint_saved", 3)])  # doctest: +SKIP
    >>> run.start().wait()                                                   # doctest: +SKIP
    -9
    """

    args: Sequence[str]
    env: Mapping[str, str]
    switches: Sequence[Switch] = ()
    counts_file: Path | None = None
    stderr_lines: list[str] = field(default_factory=list)
    stdout_lines: list[str] = field(default_factory=list)
    #: Exit code once :meth:`wait` returned (-9 when killed).
    returncode: int | None = None

    def __post_init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._stderr: queue.Queue[str | None] = queue.Queue()
        self._readers: list[threading.Thread] = []

    @property
    def process(self) -> subprocess.Popen[str]:
        """The running subprocess."""
        assert self._process is not None, "start() first"
        return self._process

    def start(self) -> ChildRun:
        """Start the subprocess."""
        env = dict(self.env)
        env[SWITCHES_ENV] = json.dumps([s.to_json() for s in self.switches])
        if self.counts_file is not None:
            env[COUNTS_ENV] = str(self.counts_file)
        env.setdefault("PYTHONPATH", str(REPO))
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        self._readers = [
            threading.Thread(target=self._pump, args=(self._process.stderr, True), daemon=True),
            threading.Thread(target=self._pump, args=(self._process.stdout, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        return self

    def _pump(self, stream: TextIO, is_stderr: bool) -> None:
        for line in stream:
            if is_stderr:
                self.stderr_lines.append(line)
                self._stderr.put(line)
            else:
                self.stdout_lines.append(line)
        if is_stderr:
            self._stderr.put(None)

    def wait_for(self, predicate: Any, deadline_s: float = DEADLINE_S) -> str:
        """Read standard error until a line satisfies ``predicate``; returns that line.
        Fails if the child ends first or nothing comes before the deadline."""
        while True:
            try:
                line = self._stderr.get(timeout=deadline_s)
            except queue.Empty:
                raise AssertionError(f"no matching line from the child in {deadline_s}s") from None
            if line is None:
                raise AssertionError(
                    "the child ended before the expected line:\n" + "".join(self.stderr_lines[-20:])
                )
            if predicate(line):
                return line

    def wait_paused(self, deadline_s: float = DEADLINE_S) -> str:
        """Wait until the child pauses at a switch; returns the switch's label."""
        line = self.wait_for(lambda text: text.startswith(PAUSED), deadline_s)
        return line[len(PAUSED) :].strip()

    def resume(self) -> None:
        """Let a paused child go on."""
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()

    def wait(self, deadline_s: float = DEADLINE_S) -> int:
        """Wait for the child to end; returns its exit code (-9 when killed)."""
        try:
            code = self.process.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"the child did not end in {deadline_s}s:\n" + "".join(self.stderr_lines[-20:])
            ) from None
        for reader in self._readers:
            reader.join(timeout=deadline_s)
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.returncode = code
        return code

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The JSON log events the child wrote (of one type, if given)."""
        found = []
        for line in self.stderr_lines:
            if line.startswith("{"):
                parsed = json.loads(line)
                if event_type is None or parsed.get("event_type") == event_type:
                    found.append(parsed)
        return found

    @property
    def stderr(self) -> str:
        """Everything the child wrote on standard error."""
        return "".join(self.stderr_lines)

    @property
    def stdout(self) -> str:
        """Everything the child wrote on standard output."""
        return "".join(self.stdout_lines)


def run_child(
    args: Sequence[str],
    env: Mapping[str, str],
    switches: Sequence[Switch] = (),
    counts_file: Path | None = None,
) -> ChildRun:
    """Start a child, let it run to its end (or its kill switch) and return it."""
    child = ChildRun(args, env, switches, counts_file).start()
    child.wait()
    return child


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
