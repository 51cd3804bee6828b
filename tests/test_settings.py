"""Settings: the public configuration names, their sources and precedence, and secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pmp_intel.settings import DEFAULT_DATABASE_URL, AuthMode, Settings


def test_defaults() -> None:
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.auth is AuthMode.OAUTH
    assert settings.verify_tls is True
    assert settings.rate_limit == 4.0
    assert settings.concurrency == 4
    assert settings.coverage_target == 0.95
    assert settings.slack_webhook_url is None


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        (
            "PMP_INTEL_DATABASE_URL",
            "postgresql+psycopg://u@h/db",
            "database_url",
            "postgresql+psycopg://u@h/db",
        ),
        (
            "PMP_BASE_URL",
            "https://patch.manageengine.com.au/",
            "base_url",
            "https://patch.manageengine.com.au",
        ),
        ("PMP_AUTH", "onprem", "auth", AuthMode.ONPREM),
        (
            "PMP_ACCOUNTS_URL",
            "https://accounts.zoho.eu",
            "accounts_url",
            "https://accounts.zoho.eu",
        ),
        ("PMP_CLIENT_ID", "1000.ABC", "client_id", "1000.ABC"),
        ("PMP_USERNAME", "admin", "username", "admin"),
        ("PMP_AUTH_TYPE", "ad_authentication", "auth_type", "ad_authentication"),
        ("PMP_DOMAIN", "CORP", "domain", "CORP"),
        ("PMP_VERIFY_TLS", "false", "verify_tls", False),
        ("PMP_RATE_LIMIT", "20", "rate_limit", 20.0),
        ("PMP_CONCURRENCY", "8", "concurrency", 8),
        (
            "POST_EXTRACTION_HOOK",
            "/usr/local/bin/after.sh",
            "post_extraction_hook",
            "/usr/local/bin/after.sh",
        ),
    ],
)
def test_environment_names(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, attribute: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), attribute) == expected


def test_secrets_are_hidden_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "PMP_CLIENT_SECRET": "client-secret-123",
        "PMP_REFRESH_TOKEN": "1000.refresh.456",
        "PMP_PASSWORD": "p@ssw0rd-789",
        "PMP_TOKEN": "STATIC-TOKEN-000",
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/webhook-secret",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    rendered = repr(settings) + str(settings) + settings.model_dump_json()
    for value in values.values():
        assert value not in rendered
    assert sorted(settings.secret_values()) == sorted(values.values())


def test_slack_webhook_must_be_on_the_slack_hooks_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com.evil.example/T0/B0/x")
    with pytest.raises(ValidationError) as info:
        Settings()
    assert "hooks.slack.com" in str(info.value)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "http://hooks.slack.com/services/T0/B0/x")
    with pytest.raises(ValidationError):
        Settings()


def test_base_url_must_be_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMP_BASE_URL", "ftp://patch.example")
    with pytest.raises(ValidationError):
        Settings()


def test_precedence_flags_env_dotenv_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # conftest has chdir'ed into tmp_path, where .env and pmp-intel.toml are looked up
    (tmp_path / "pmp-intel.toml").write_text(
        'PMP_RATE_LIMIT = 1.5\nPMP_CONCURRENCY = 2\nPMP_BASE_URL = "https://toml.example"\n'
        'PMP_USERNAME = "from-toml"\n'
    )
    (tmp_path / ".env").write_text("PMP_CONCURRENCY=3\nPMP_BASE_URL=https://dotenv.example\n")
    monkeypatch.setenv("PMP_BASE_URL", "https://env.example")
    settings = Settings()
    assert settings.rate_limit == 1.5  # only in the TOML file
    assert settings.concurrency == 3  # .env beats TOML
    assert settings.base_url == "https://env.example"  # environment beats .env
    assert settings.username == "from-toml"
    assert Settings(base_url="https://flag.example").base_url == "https://flag.example"


def test_other_programs_variables_are_not_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The bare field names are for keyword arguments and pmp-intel.toml: a generic
    DATABASE_URL or USERNAME in the environment or a .env file belongs to someone else."""
    for variable, value in {
        "DATABASE_URL": "postgresql://otherapp:pw@db/otherapp",
        "USERNAME": "desktop-user",
        "TOKEN": "someone-elses-token",
        "AUTH": "token",
        "BASE_URL": "https://other.example",
    }.items():
        monkeypatch.setenv(variable, value)
    (tmp_path / ".env").write_text("PASSWORD=other\nRATE_LIMIT=99\nPMP_CONCURRENCY=3\n")
    (tmp_path / "pmp-intel.toml").write_text('concurrency = 2\nusername = "from-toml"\n')
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.username == "from-toml"  # the field name is honoured in the TOML file
    assert settings.token is None
    assert settings.password is None
    assert settings.auth is AuthMode.OAUTH
    assert settings.base_url is None
    assert settings.rate_limit != 99
    assert settings.concurrency == 3  # the .env file's own names still apply
    monkeypatch.setenv("PMP_USERNAME", "pmp-user")
    assert Settings().username == "pmp-user"
    assert Settings(username="flag-user").username == "flag-user"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PMP_RATE_LIMIT", "0"),
        ("PMP_CONCURRENCY", "0"),
        ("PMP_INTEL_COVERAGE_TARGET", "1.5"),
        ("PMP_AUTH", "kerberos"),
        ("PMP_INTEL_DATABASE_URL", "just-a-path.db"),
    ],
)
def test_malformed_values_rejected(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert variable in str(info.value)
