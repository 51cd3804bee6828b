"""Secrets and personal data stay where they belong (issue 9, design.md §3).

One end-to-end scenario seeds every secret setting at once (Zoho client secret and refresh
token, the access and login tokens the server issues, the on-premises password, the static
token, the Slack webhook URL, a database password) and drives the command line through
OAuth, on-premises and static-token extractions with faults, gaps, a broken record, a failed
login and refused configuration. Then it scans every place pmp-intel writes to: JSON and
text logs, every other logger, exception texts and reprs, command output, the compliance
and metrics reports, the Slack payloads, the post-extraction hook's environment and every
text column of every table. A proxy echoes the Authorization header and personal data (an
e-mail, IPv4 and IPv6 addresses) in error pages: the samples kept in gaps and logs must be
redacted.

The unit-level checks live elsewhere and are not repeated here: the redaction rules
(tests/api/test_api_redact.py, test_api_secrets.py), the query_raw guard's statement list
(tests/service/test_readonly.py), the SQLite file modes (tests/store/test_sqlite_file.py),
Slack throttling (tests/extract/test_slack.py) and TLS (test_tls.py).
"""

from __future__ import annotations

import base64
import json
import stat
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import responses
from leak_probe_helpers import PII_EMAIL, PII_IPV4, PII_IPV6, PII_VALUES, LeakProbe
from log_capture import Capture, capturing_every_logger
from odd_server_helpers import answering_port, serve
from pydantic import SecretStr, ValidationError
from sim_truth_helpers import sim_extraction
from sqlalchemy import JSON, Engine, String, Text, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pmp_intel.api.client import PMPClient
from pmp_intel.api.clock import FakeClock, SystemClock
from pmp_intel.api.errors import PMPAPIError
from pmp_intel.cli import main
from pmp_intel.endpoints import registry
from pmp_intel.extract.extractor import Extractor
from pmp_intel.service import PMPIntelligenceService, ReadOnlyViolation
from pmp_intel.settings import Settings
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.models import ExtractionGap
from pmp_intel.testing import simulated_pmp

WEBHOOK = "https://hooks.slack.com/services/T0PMPINTEL/B0RELIABLE/" + uuid.uuid4().hex
ALLPATCHES = "/api/1.4/patch/allpatches"
ALLSYSTEMS = "/api/1.4/patch/allsystems"
SOM_COMPUTERS = "/api/1.4/som/computers"
#: Faults of the on-premises and static-token servers: 401s force new logins.
LOGIN_FAULTS = "rate=0.15,kinds=401+503,seed=5"


@pytest.fixture
def every_logger() -> Iterator[Capture]:
    with capturing_every_logger() as handler:
        yield handler


@pytest.fixture
def slack() -> Iterator[responses.RequestsMock]:
    """Slack's webhook, answered locally; everything on loopback goes through."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.add(responses.POST, WEBHOOK, json={"ok": True})
        yield mock


def database_text(engine: Engine) -> dict[str, str]:
    """Every text-like column of every table, one string per table."""
    tables: dict[str, str] = {}
    inspector = inspect(engine)
    with engine.connect() as conn:
        for name in inspector.get_table_names():
            columns = [
                c["name"]
                for c in inspector.get_columns(name)
                if isinstance(c["type"], String | Text | JSON)
            ]
            if not columns:
                continue
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = conn.exec_driver_sql(f'SELECT {quoted} FROM "{name}"').all()
            tables[name] = "\n".join(" ".join(str(v) for v in row) for row in rows)
    return tables


#: A secret counts as leaked when any run of this many of its characters shows up (a
#: truncated echo such as ``'http://hooks…a900280e'`` is a leak too).
FRAGMENT = 12


def fragments(secret: str) -> set[str]:
    """Every run of FRAGMENT characters of ``secret`` starting at a multiple of 4: any
    longer excerpt contains one."""
    if len(secret) <= FRAGMENT:
        return {secret}
    return {secret[i : i + FRAGMENT] for i in range(0, len(secret) - FRAGMENT + 1, 4)}


def leaks(places: dict[str, list[str]], secrets: dict[str, str]) -> list[tuple[str, str]]:
    """(place, secret name) for every secret found, whole or in part, in a place."""
    found = []
    for place, texts in places.items():
        for name, value in secrets.items():
            pieces = fragments(value)
            if any(piece in t for t in texts for piece in pieces):
                found.append((place, name))
    return found


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_no_secret_or_personal_data_escapes_an_end_to_end_run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    engine: Engine,
    database_url: str,
    backend: str,
    every_logger: Capture,
    slack: responses.RequestsMock,
    record_property: Callable[[str, object], None],
) -> None:
    monkeypatch.setattr(SystemClock, "sleep", lambda self, seconds: None)
    db_password = "Db-Secret-" + uuid.uuid4().hex[:10]
    if backend == "postgresql":  # the test server trusts loopback: any password connects
        url = make_url(database_url).set(username="postgres", password=db_password)
        db_url = url.render_as_string(hide_password=False)
    else:
        db_url = database_url
    places: dict[str, list[str]] = {
        name: []
        for name in (
            "json logs",
            "text logs",
            "other loggers",
            "exceptions and reprs",
            "command output",
            "reports",
            "slack payloads",
            "hook environment",
            "database",
        )
    }
    wrong_refresh = "1000.wrongrefresh." + uuid.uuid4().hex
    wrong_token = "WRONG-STATIC-" + uuid.uuid4().hex
    source = f"leaks-{uuid.uuid4().hex[:8]}"
    faults = "rate=0.1,kinds=503+html+401+truncated+emptylist,seed=4"
    with simulated_pmp(systems=12, seed=41, faults=faults, page_cap=25) as pmp:
        authority = pmp.app.authority
        probe = LeakProbe(
            pmp,
            echo=[(ALLPATCHES, 2), (SOM_COMPUTERS, 1)],
            broken=[(ALLSYSTEMS, 1)],
        )
        probes = [probe]
        with serve(probe) as proxy:
            settings = {
                "PMP_BASE_URL": proxy,
                "PMP_ACCOUNTS_URL": proxy + "/accounts",
                "PMP_CLIENT_ID": authority.client_id,
                "PMP_CLIENT_SECRET": authority.client_secret,
                "PMP_REFRESH_TOKEN": authority.refresh_token,
                "PMP_USERNAME": authority.username,
                "PMP_PASSWORD": authority.password,
                "PMP_TOKEN": authority.static_token,
                "SLACK_WEBHOOK_URL": WEBHOOK,
                "PMP_INTEL_DATABASE_URL": db_url,
                "POST_EXTRACTION_HOOK": f"env > {tmp_path}/hook-$PMP_INTEL_SNAPSHOT_ID-$$.env",
                "PMP_RATE_LIMIT": "1000",
                "PMP_PAGE_LIMIT": "25",
                "PMP_INTEL_SOURCE": source,
                "PMP_AUTH": "oauth",
            }
            for name, value in settings.items():
                monkeypatch.setenv(name, value)

            def cli(*argv: str) -> int:
                code = main(list(argv))
                captured = capsys.readouterr()
                logs = "text logs" if "text" in argv else "json logs"
                places[logs if "extract" in argv else "command output"].append(captured.err)
                places["command output"].append(captured.out)
                return code

            # 1. OAuth with faults, echoing pages and a broken record: gaps, exit 2
            first = cli("extract", "--log-format", "json")
            # 2. the gap run, logging as text, the echo still on: exit 2 again
            second = cli("extract", "--log-format", "text")
            probe.echo.clear()
            # 3. on-premises login and a static token, on servers of their own (same seed:
            # the same password and token) whose 401s force new logins
            private = tmp_path / "private" / "store" / "token.db"
            with ExitStack() as others:
                for auth in ("onprem", "token"):
                    server = others.enter_context(
                        simulated_pmp(systems=6, seed=41, auth=auth, faults=LOGIN_FAULTS)
                    )
                    assert server.app.authority.password == authority.password
                    other_probe = LeakProbe(server)
                    probes.append(other_probe)
                    monkeypatch.setenv("PMP_BASE_URL", others.enter_context(serve(other_probe)))
                    monkeypatch.setenv("PMP_AUTH", auth)
                    monkeypatch.setenv("PMP_INTEL_SOURCE", f"{source}-{auth}")
                    if auth == "onprem":
                        third = cli("extract", "--log-format", "text")
                        continue
                    fourth = cli(
                        "--database-url", f"sqlite:///{private}", "extract", "--log-format", "json"
                    )
                    # 4. refused credentials: an exception message
                    monkeypatch.setenv("PMP_TOKEN", wrong_token)
                    refused = cli("--database-url", f"sqlite:///{private}", "extract")
            for name in ("PMP_AUTH", "PMP_TOKEN", "PMP_BASE_URL", "PMP_INTEL_SOURCE"):
                monkeypatch.setenv(name, settings[name])
            # 5. what people read: status, metrics, compliance reports
            assert cli("status") == 0
            assert cli("status", "--json") == 0
            assert cli("metrics", "--format", "json") == 0
            reports = []
            for kind in ("md", "html", "json"):
                out = tmp_path / f"compliance.{kind}"
                assert cli("compliance", "--format", kind, "--output", str(out)) == 0
                reports.append(out.read_text())
            places["reports"] += reports
            # 6. exceptions raised to library callers
            configured = Settings()
            places["exceptions and reprs"] += [repr(configured), str(configured)]
            bad = configured.model_copy(
                update={"refresh_token": SecretStr(wrong_refresh), "source_name": source + "-x"}
            )
            failed = Extractor(bad, engine=engine, analyses=[]).run()
            places["exceptions and reprs"] += [str(failed.error), repr(failed), repr(bad)]
            probe.echo.add((ALLPATCHES, 3))
            with PMPClient.from_settings(configured, clock=FakeClock()) as client:
                try:
                    client.get_page(registry.get("allpatches"), 3)
                except PMPAPIError as exc:
                    places["exceptions and reprs"] += [str(exc), repr(exc), exc.sample]
                places["exceptions and reprs"] += [repr(client), repr(client.tokens)]
            places["json logs"].append(capsys.readouterr().err)  # the library calls' logs
        with pytest.raises(ValidationError) as refused_hook:
            Settings(slack_webhook_url=WEBHOOK.replace("https://", "http://"))
        places["exceptions and reprs"] += [str(refused_hook.value), repr(refused_hook.value)]
        with answering_port(b"HTTP/1.1 400 Bad Request\r\n\r\n") as port:
            elsewhere = (
                f"postgresql+psycopg://pmp:{db_password}@127.0.0.1:{port}/pmp?sslmode=disable"
            )
            unreachable = cli("--database-url", elsewhere, "status")
            places["exceptions and reprs"].append(
                repr(Settings(database_url=elsewhere)) + str(Settings(database_url=elsewhere))
            )
        issued = [token for p in probes for token in p.issued]
        truth = sim_extraction.truth(pmp)

    places["other loggers"] = every_logger.lines
    places["slack payloads"] = [
        body.decode() if isinstance(body, bytes) else str(body)
        for body in (c.request.body for c in slack.calls if c.request.url == WEBHOOK)
    ]
    places["hook environment"] = [p.read_text() for p in sorted(tmp_path.glob("hook-*.env"))]
    places["database"] = list(database_text(engine).values())
    private_engine = create_db_engine(f"sqlite:///{private}")
    places["database"] += list(database_text(private_engine).values())
    private_engine.dispose()

    # the scenario did what it claims
    assert (first, second, third, fourth, refused, unreachable) == (2, 2, 0, 0, 1, 1)
    assert failed.exit_code == 1
    assert len(issued) >= 3  # several OAuth grants (401s force refreshes) and a login
    assert probe.echoed >= 3
    assert len(places["slack payloads"]) >= 4
    assert len(places["hook environment"]) >= 3
    assert all("PMP_INTEL_SNAPSHOT_ID=" in env for env in places["hook environment"])
    assert all(texts for texts in places.values())

    secrets = {
        "client secret": authority.client_secret,
        "refresh token": authority.refresh_token,
        "wrong refresh token": wrong_refresh,
        "password": authority.password,
        "password as sent (base64)": base64.b64encode(authority.password.encode()).decode(),
        "static token": authority.static_token,
        "wrong static token": wrong_token,
        "slack webhook URL": WEBHOOK.removeprefix("https://hooks.slack.com/services/"),
        "database password": db_password,
        **{f"issued token {i + 1}": token for i, token in enumerate(issued)},
    }
    record_property("secret_values", len(secrets))
    record_property("places", {place: len(texts) for place, texts in places.items()})
    assert leaks(places, secrets) == []

    # personal data in error pages and broken records is masked wherever it is kept
    pii_found = [
        (place, value)
        for place, texts in places.items()
        for value in PII_VALUES
        if any(value in t for t in texts)
    ]
    assert pii_found == []
    json_events = [
        json.loads(line)
        for chunk in places["json logs"]
        for line in chunk.splitlines()
        if line.startswith("{")
    ]
    samples = [
        str(e.get("response_sample") or e.get("record_sample") or "")
        for e in json_events
        if e["event_type"] in ("page_extraction_failed", "record_invalid")
    ]
    assert any("<email>" in s and "<ipv4>" in s and "<ipv6>" in s for s in samples)
    assert any("<redacted>" in s for s in samples)  # the echoed Authorization header
    assert any(e["event_type"] == "record_invalid" for e in json_events)
    with Session(engine) as session:
        gap_samples = session.scalars(
            select(ExtractionGap.response_sample).where(ExtractionGap.endpoint == "allpatches")
        ).all()
    assert any(s and "<email>" in s and "<ipv4>" in s and "<ipv6>" in s for s in gap_samples)
    assert PII_EMAIL not in str(gap_samples)
    assert PII_IPV4 not in str(gap_samples)
    assert not any(v in str(gap_samples) for v in PII_IPV6)

    # the SQLite file the command line created, and its folder, are private
    assert mode(private) == 0o600
    assert mode(private.parent) & 0o077 == 0
    for side in (private.with_name("token.db-wal"), private.with_name("token.db-shm")):
        assert not side.exists() or mode(side) & 0o077 == 0
    # the OAuth source holds the server's data despite all of the above
    src = sim_extraction.source_id(engine, source)
    held = sim_extraction.content(engine, src)
    assert held["systems"] == truth["systems"]


def test_slack_webhooks_elsewhere_are_refused_without_echo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    secret = uuid.uuid4().hex
    refused = [
        f"http://hooks.slack.com/services/T0/B0/{secret}",  # not https
        f"https://hooks.slack.com.evil.example/services/T0/B0/{secret}",
        f"https://evil.example/hooks.slack.com/services/{secret}",
        f"https://user:{secret}@evil.example/services",
        f"ftp://hooks.slack.com/services/T0/B0/{secret}",
    ]
    target = tmp_path / "never.db"
    monkeypatch.setenv("PMP_BASE_URL", "https://pmp.example.com")
    for url in refused:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
        code = main(["--database-url", f"sqlite:///{target}", "extract"])
        err = capsys.readouterr().err
        assert code == 1
        assert err.strip().splitlines() == [
            "pmp-intel: error: invalid configuration: SLACK_WEBHOOK_URL: "
            "Value error, must be an https URL on hooks.slack.com"
        ]
        with pytest.raises(ValidationError) as info:
            Settings(slack_webhook_url=url)
        assert secret not in str(info.value)
        assert secret not in repr(info.value)
    assert not target.exists()


def test_query_raw_cannot_change_an_extracted_database(
    engine: Engine, database_url: str, backend: str
) -> None:
    with simulated_pmp(systems=5, seed=43) as pmp:
        settings = sim_extraction.settings_for(pmp, database_url)
        Extractor(settings, engine=engine, analyses=[]).run()
    service = PMPIntelligenceService(url=database_url, source=settings.source_name)
    tables = sorted(inspect(engine).get_table_names())
    count = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM \"{t}\"" for t in tables)

    def census() -> list[tuple[Any, ...]]:
        with engine.connect() as conn:  # UNION ALL keeps no order (parallel plans): sort
            return sorted(tuple(r) for r in conn.execute(text(count)))

    before = census()
    writes = [
        "INSERT INTO sources (name) VALUES ('intruder')",
        "UPDATE systems SET resource_name = 'owned'",
        "DELETE FROM snapshots",
        "DROP TABLE systems",
        "CREATE TABLE intruder (a integer)",
        "ALTER TABLE systems ADD COLUMN owned integer",
        "SELECT 1; DELETE FROM snapshots",
        "WITH gone AS (DELETE FROM snapshots RETURNING id) SELECT COUNT(*) FROM gone",
        "WITH x AS (SELECT 1) INSERT INTO sources (name) SELECT 'intruder' FROM x",
        "PRAGMA writable_schema = ON",
        "PRAGMA query_only = OFF",
        "VACUUM",
        "ATTACH DATABASE ':memory:' AS side",
    ]
    for sql in writes:
        with pytest.raises((ReadOnlyViolation, DBAPIError)):
            service.query_raw(sql)
    # a write hidden in a function call gets past the statement guard: the read-only
    # transaction underneath refuses it
    if backend == "postgresql":
        hidden = "SELECT set_config('transaction_read_only', 'off', true), 1"
        with pytest.raises((ReadOnlyViolation, DBAPIError)):
            service.query_raw(hidden)
    assert service.query_raw("SELECT COUNT(*) AS n FROM systems").data[0]["n"] >= 5
    assert census() == before
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ExtractionGap)) is not None
