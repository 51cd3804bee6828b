"""The docs stay true: every setting, table, command and option is documented, every page
and link resolves, the import layers are the ones architecture.md describes, and every
fenced example in README.md and docs/*.md is run or checked.

* ``python``: executed, in page order with the page's shell examples, in a temporary folder;
  a block defining ``test_*`` functions runs under pytest.
* ``bash``: executed by ``bash -euo pipefail`` in page order, exports and the working
  directory carried from block to block, in the *stand-in environment*: a simulated PMP
  server (``PMP_BASE_URL``, ``PMP_AUTH=token``, ``PMP_TOKEN``, ``PMP_RATE_LIMIT``) and a
  fresh database of the backend under test (``PMP_INTEL_DATABASE_URL``).
* ``sql``: executed against the migrated test database.
* ``toml``: parsed; a compliance configuration is loaded by ``ComplianceConfig`` (and must
  show every key), a ``pmp-intel.toml`` by ``Settings``; a pyproject snippet's entry points
  are checked.
* ``ini``: systemd units: known sections, a valid ``pmp-intel`` command line in
  ``ExecStart``, exit 2 a success for ``extract``, each timer's service shown.
* ``crontab``: five valid schedule fields and a valid ``pmp-intel`` command line.
* ``text``, ``console``: synopses and transcripts: every ``pmp-intel …`` line names real
  commands, options and choices (so does every inline ``pmp-intel …`` code span).

A block that cannot run (it needs a real PMP server, root, systemd, a package index) is
preceded by ``<!-- not-run: reason -->``; any other fence is an error. A not-run ``bash``
block is replaced by the stand-in environment (it is the one a reader would have configured).
"""

from __future__ import annotations

import argparse
import ast
import configparser
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from pmp_intel.analyse.config import ComplianceConfig
from pmp_intel.cli import build_parser
from pmp_intel.settings import Settings
from pmp_intel.store.models import Base
from pmp_intel.testing import simulated_pmp

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL = {"bash", "sh", "shell"}
CHECKED = {"python", "sql", "toml", "ini", "crontab", "text", "console", *SHELL}
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(.*?)\s*-->")
FENCE = re.compile(r"^(\s*)(```|~~~)\s*([\w+-]*)")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: str
    line: int
    lang: str
    code: str
    not_run: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _blocks_of(page: Path) -> list[Block]:
    return _blocks_of_text(page.read_text(encoding="utf-8"), page.name)


def _blocks_of_text(content: str, name: str = "page") -> list[Block]:
    lines = content.splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, fence, lang = match.groups()
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index][len(indent) :])
            index += 1
        index += 1
        before = lines[start - 1] if start else ""
        marker = NOT_RUN.search(before)
        found.append(
            Block(name, start + 1, lang, "\n".join(body) + "\n", marker and marker.group(1))
        )
    return found


BLOCKS = [block for page in PAGES for block in _blocks_of(page)]


def _of(*langs: str) -> list[Block]:
    return [b for b in BLOCKS if b.lang in langs and b.not_run is None]


def _ids(blocks: list[Block]) -> list[str]:
    return [b.id for b in blocks]


# ------------------------------------------------------------------------ reference checks


def test_every_setting_is_documented() -> None:
    reference = (REPO / "docs" / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        env_name = field.validation_alias.choices[0]  # type: ignore[union-attr]
        assert f"`{env_name}`" in reference, f"{name} ({env_name}) missing from configuration.md"


def test_every_table_is_described() -> None:
    schema = (REPO / "docs" / "schema.md").read_text()
    for table in Base.metadata.tables:
        described = f"`{table}`" in schema or (
            table.startswith("stg_") and "`stg_<table>`" in schema
        )
        assert described, f"table {table} missing from docs/schema.md"


def test_readme_lists_every_docs_page() -> None:
    readme = (REPO / "README.md").read_text()
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in readme, f"docs/{page.name} missing from README's table"


def test_links_and_paths_resolve() -> None:
    for page in PAGES:
        content = page.read_text()
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", content):
            if re.match(r"[a-z]+://", target):
                continue
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
        for path in re.findall(r"\b(examples/[\w./-]+\.(?:py|ipynb))", content):
            assert (REPO / path).is_file(), f"{page.name}: {path} does not exist"


def test_every_block_is_run_or_marked() -> None:
    assert len(BLOCKS) > 30, "the fence scanner found too few blocks"
    for block in BLOCKS:
        if block.not_run is not None:
            assert len(block.not_run.split()) >= 3, f"{block.id}: say why it is not run"
        else:
            assert block.lang in CHECKED, (
                f"{block.id}: a ```{block.lang or '(no language)'} block is neither run nor "
                "checked; give it a checked language or a <!-- not-run: reason --> line"
            )


# ------------------------------------------------------------------------ pmp-intel command lines


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {o: a for a in parser._actions for o in a.option_strings if o not in ("-h", "--help")}


def _command_paths() -> dict[str, argparse.ArgumentParser]:
    """ "extract", "db upgrade", "kev import", … → their parsers."""
    paths: dict[str, argparse.ArgumentParser] = {}
    for name, sub in _subparsers(build_parser()).items():
        nested = _subparsers(sub)
        if nested:
            paths.update({f"{name} {n}": p for n, p in nested.items()})
        else:
            paths[name] = sub
    return paths


def _check_synopsis(line: str) -> tuple[str, set[str], list[str]]:
    """(command path, options named, problems) of one ``pmp-intel …`` synopsis line."""
    tokens = [t for t in re.sub(r"[\[\]]", " ", line.replace("\\|", "|")).split() if t != "|"]
    problems: list[str] = []
    globals_ = _options(build_parser())
    position = tokens.index("pmp-intel") + 1
    while position < len(tokens) and tokens[position].startswith("-"):
        if tokens[position] not in globals_:
            problems.append(f"unknown global option {tokens[position]}")
        position += 2 if tokens[position] == "--database-url" else 1
    words = tokens[position : position + 2]
    if not words and position > 1:  # global options alone (`pmp-intel --version`)
        return "", set(), problems
    paths = _command_paths()
    path = " ".join(words) if " ".join(words) in paths else (words[0] if words else "")
    if path not in paths:
        return path, set(), [*problems, f"unknown command {path!r}"]
    options = _options(paths[path])
    named: set[str] = set()
    rest = tokens[position + len(path.split()) :]
    for index, token in enumerate(rest):
        if not token.startswith("--"):
            continue
        flag, _, inline = token.partition("=")
        if flag not in options:
            problems.append(f"{path}: unknown option {flag}")
            continue
        named.add(flag)
        value = inline or (rest[index + 1] if index + 1 < len(rest) else "")
        choices = options[flag].choices
        documented = set(value.split("|")) if "|" in value else None
        if choices is not None and documented and documented != {str(c) for c in choices}:
            problems.append(f"{path} {flag}: documented {value}, actual {sorted(choices)}")
    return path, named, problems


def _synopsis_lines() -> Iterator[tuple[str, str]]:
    """(where, line) of every pmp-intel command line in text/console blocks and inline code."""
    for block in BLOCKS:
        if block.lang not in ("text", "console"):
            continue
        lines: list[str] = []
        for raw in block.code.splitlines():
            if block.lang == "console":
                if raw.startswith("$ "):
                    lines.append(raw[2:])
            elif raw[:1].isspace() and lines and raw.strip().startswith("["):
                lines[-1] += " " + raw.strip()  # a synopsis continued on the next line
            else:
                lines.append(raw)
        for line in lines:
            if re.match(r"^([A-Z_]+=\S+\s+)*pmp-intel(\s|$)", line.strip()):
                yield block.id, line
    for page in PAGES:
        for span in re.findall(r"`(pmp-intel [a-z-][^`]*)`", page.read_text()):
            yield page.name, span


SYNOPSES = list(_synopsis_lines())


@pytest.mark.parametrize(("where", "line"), SYNOPSES, ids=[f"{w}|{ln[:40]}" for w, ln in SYNOPSES])
def test_command_lines_name_real_commands_and_options(where: str, line: str) -> None:
    _, _, problems = _check_synopsis(line)
    assert problems == [], f"{where}: {line}"


def test_cli_md_covers_every_command_and_option() -> None:
    mentioned: dict[str, set[str]] = {}
    for where, line in SYNOPSES:
        if where.startswith("cli.md"):
            path, named, _ = _check_synopsis(line)
            mentioned.setdefault(path, set()).update(named)
    for path, parser in _command_paths().items():
        missing = set(_options(parser)) - mentioned.get(path, set())
        assert path in mentioned, f"`pmp-intel {path}` is not in docs/cli.md"
        assert not missing, f"docs/cli.md: `pmp-intel {path}` lacks {sorted(missing)}"
    reference = (REPO / "docs" / "cli.md").read_text()
    for option in _options(build_parser()):
        assert f"`{option}" in reference or f"{option}`" in reference, option


def _parse_command(command: str) -> argparse.Namespace:
    """The ``pmp-intel`` invocation inside a shell command line, parsed by the real CLI."""
    tokens = shlex.split(command)
    start = next(i for i, t in enumerate(tokens) if Path(t).name == "pmp-intel") + 1
    end = next(
        (
            i
            for i in range(start, len(tokens))
            if re.match(r"^(&&|\|\|?|;|>>?|\d?>&?\d?)", tokens[i])
        ),
        len(tokens),
    )
    try:
        return build_parser().parse_args(tokens[start:end])
    except SystemExit:
        pytest.fail(f"not a valid pmp-intel command line: {command}")


# ------------------------------------------------------------------------ checked formats


@pytest.mark.parametrize("block", _of("toml"), ids=_ids(_of("toml")))
def test_toml_examples_load(block: Block, tmp_path: Path) -> None:
    data = tomllib.loads(block.code)
    if "project" in data:  # a pyproject.toml snippet: entry points name module:attribute
        groups = data["project"]["entry-points"]
        assert groups, block.id
        for entries in groups.values():
            for target in entries.values():
                assert re.fullmatch(r"[\w.]+:[\w.]+", target), f"{block.id}: {target}"
    elif all(key.isupper() for key in data):  # a pmp-intel.toml
        (tmp_path / "pmp-intel.toml").write_text(block.code)  # the working directory's
        settings = Settings()
        fields = {f.validation_alias.choices[0]: n for n, f in Settings.model_fields.items()}  # type: ignore[union-attr]
        for key, value in data.items():
            assert key in fields, f"{block.id}: {key} is not a setting"
            actual = getattr(settings, fields[key])
            actual = getattr(actual, "value", actual)
            actual = actual.get_secret_value() if hasattr(actual, "get_secret_value") else actual
            assert str(actual) == str(value) or actual == value, f"{block.id}: {key}"
    else:  # an Essential Eight configuration: loads, and shows every setting
        (tmp_path / "e8.toml").write_text(block.code)
        ComplianceConfig.from_toml(tmp_path / "e8.toml")
        assert set(ComplianceConfig.model_fields) <= set(data), (
            f"{block.id}: the example omits {set(ComplianceConfig.model_fields) - set(data)}"
        )


def _unit_blocks() -> list[Block]:
    return _of("ini")


@pytest.mark.parametrize("block", _unit_blocks(), ids=_ids(_unit_blocks()))
def test_systemd_units(block: Block) -> None:
    header = re.match(r"#\s*(\S+/)?([\w@.-]+)\.(service|timer)\s*\n", block.code)
    assert header, f"{block.id}: start with a comment naming the unit file"
    name, kind = header.group(2), header.group(3)
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(block.code)
    assert "Unit" in unit.sections(), block.id
    assert set(unit.sections()) <= {"Unit", "Service", "Timer", "Install"}, block.id
    if kind == "service":
        service = unit["Service"]
        args = _parse_command(service["ExecStart"])
        if args.command == "extract":
            assert service.get("Type") == "oneshot", f"{block.id}: a run ends: Type=oneshot"
            assert "2" in service.get("SuccessExitStatus", "").split(), (
                f"{block.id}: exit 2 (partial, budget) is not a failure: SuccessExitStatus=2"
            )
    else:
        timer = unit["Timer"]
        assert {"OnCalendar", "OnUnitActiveSec", "OnBootSec"} & set(timer), block.id
        target = timer.get("Unit", f"{name}.service")
        documented = [b for b in _unit_blocks() if re.match(rf"#\s*(\S+/)?{target}\s*\n", b.code)]
        assert documented, f"{block.id}: the timer starts {target}, which the page does not show"


CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


@pytest.mark.parametrize("block", _of("crontab"), ids=_ids(_of("crontab")))
def test_crontab_lines(block: Block) -> None:
    entries = [
        line
        for line in block.code.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and not re.match(r"^\w+=", line)
    ]
    assert entries, block.id
    for line in entries:
        fields = line.split(None, 5)
        assert len(fields) == 6, f"{block.id}: five schedule fields and a command: {line}"
        for field, (low, high) in zip(fields[:5], CRON_RANGES, strict=True):
            for part in field.split(","):
                match = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
                assert match, f"{block.id}: bad schedule field {field!r}"
                numbers = [int(n) for n in match.groups()[1:3] if n is not None]
                assert all(low <= n <= high for n in numbers), f"{block.id}: {field!r}"
        _parse_command(fields[5])


@pytest.mark.parametrize("block", _of("sql"), ids=_ids(_of("sql")))
def test_sql_examples_run(engine: Engine, block: Block) -> None:
    with engine.connect() as connection:
        connection.execute(text(block.code))


# ------------------------------------------------------------------------ running pages


class StandIn:
    """The environment a not-run configuration block stands for: a simulated PMP server and
    a fresh database of the backend under test (started on first use)."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self.database_url = ""
        self._server: Any = None
        self._pmp: Any = None

    def env(self) -> dict[str, str]:
        if self._pmp is None:
            self.database_url = self._request.getfixturevalue("fresh_database_url")
            self._server = simulated_pmp(systems=30, seed=21, auth="token")
            self._pmp = self._server.__enter__()
        return {
            "PMP_BASE_URL": self._pmp.base_url,
            "PMP_AUTH": "token",
            "PMP_TOKEN": self._pmp.credentials["token"],
            "PMP_RATE_LIMIT": "1000",
            "PMP_INTEL_DATABASE_URL": self.database_url,
            "PMP_INTEL_SOURCE": "docs",
        }

    def close(self) -> None:
        if self._server is not None:
            self._server.__exit__(None, None, None)


def _run_shell(block: Block, state: Path, workdir: Path, base_env: dict[str, str]) -> None:
    script = (
        f"set -euo pipefail\nsource {shlex.quote(str(state))}\n{block.code}\n"
        f"{{ export -p; printf 'cd %q\\n' \"$PWD\"; }} > {shlex.quote(str(state))}\n"
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=workdir,
        env=base_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        f"{block.id} exited {done.returncode}\n--- stdout\n{done.stdout[-3000:]}"
        f"\n--- stderr\n{done.stderr[-3000:]}"
    )


def _run_pytest_block(block: Block, workdir: Path) -> None:
    tests = len(re.findall(r"^def test_", block.code, flags=re.M))
    module = workdir / f"test_doc_{block.page.replace('.', '_')}_{block.line}.py"
    module.write_text(block.code)
    env = {k: v for k, v in os.environ.items() if k != "PMP_INTEL_TEST_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", module.name],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{block.id}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
    assert f"{tests} passed" in done.stdout, done.stdout[-500:]


RUNNABLE = {"python", *SHELL}
RUN_PAGES = sorted({b.page for b in BLOCKS if b.lang in RUNNABLE and b.not_run is None})


@pytest.mark.parametrize("page", RUN_PAGES)
def test_page_examples_run(page: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # conftest runs each test in its own temporary working directory and HOME
    Path.home().mkdir(exist_ok=True)
    stand_in = StandIn(request)  # only pages with shell examples start it
    state = tmp_path / ".docs-shell-state"
    base_env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(Path.home()),
        "LANG": "C.UTF-8",
    }
    state.write_text("")
    blocks = [b for b in BLOCKS if b.page == page and b.lang in RUNNABLE]
    try:
        for block in blocks:
            if block.lang in SHELL:
                if not state.read_text():  # the first shell block: the stand-in environment
                    exports = {**base_env, **stand_in.env()}
                    state.write_text(
                        "".join(f"export {k}={shlex.quote(v)}\n" for k, v in exports.items())
                    )
                if block.not_run is not None:  # a reader's configuration: the stand-in's
                    with state.open("a") as handle:
                        for key, value in stand_in.env().items():
                            handle.write(f"export {key}={shlex.quote(value)}\n")
                    continue
                _run_shell(block, state, tmp_path, base_env)
            elif block.not_run is None and re.search(r"^def test_", block.code, flags=re.M):
                _run_pytest_block(block, tmp_path)
            elif block.not_run is None:
                exec(compile(block.code, block.id, "exec"), {"__name__": "__doc_example__"})
    finally:
        stand_in.close()


# ------------------------------------------------------------------------ architecture.md

#: What each package may import (besides itself and the cross-cutting modules), as
#: docs/architecture.md describes it.
LAYERS = {
    "store": set(),
    "api": set(),
    "testing": set(),
    "endpoints": {"api", "store"},
    "analyse": {"store"},
    "extract": {"api", "endpoints", "store", "analyse"},
    "service": {"store", "analyse", "extract"},
    "legacy": {"store"},
}
CROSS_CUTTING = {"settings", "errors", "logs", "db", "__about__", "__init__"}


def test_import_layers_match_architecture_md() -> None:
    package = REPO / "pmp_intel"
    for layer, allowed in LAYERS.items():
        for module in (package / layer).rglob("*.py"):
            tree = ast.parse(module.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else []
                )
                for name in names:
                    parts = name.split(".")
                    if parts[0] != "pmp_intel" or len(parts) < 2:
                        continue
                    target = parts[1]
                    if target in (layer, *CROSS_CUTTING) or target in allowed:
                        continue
                    # the one exception architecture.md names
                    assert (layer, module.name, target) == ("legacy", "command.py", "cli"), (
                        f"{module.relative_to(REPO)} imports pmp_intel.{target}, which "
                        "docs/architecture.md does not allow"
                    )


def test_the_checkers_catch_mistakes() -> None:
    assert _check_synopsis("pmp-intel extract --bogus")[2]
    assert _check_synopsis("pmp-intel nosuch --json")[2]
    assert _check_synopsis("pmp-intel compliance [--format md|html]")[2]  # a choice missing
    assert not _check_synopsis("pmp-intel compliance [--format md|html|json]")[2]
    assert _check_synopsis("pmp-intel db upgrade --dry-run")[2]
    with pytest.raises(pytest.fail.Exception):
        _parse_command("cd /srv && pmp-intel extract --max-pages many >> log 2>&1")
    assert _parse_command("flock -n x .venv/bin/pmp-intel status --json > s.json").json
    blocks = _blocks_of_text(
        "<!-- not-run: needs a real server -->\n```bash\necho hi\n```\n\n```\nplain\n```\n"
    )
    assert [(b.lang, b.not_run) for b in blocks] == [("bash", "needs a real server"), ("", None)]
