"""Configuration: environment variables, a ``.env`` file or ``pmp-intel.toml``.

The names are a public contract (see ``docs/configuration.md``): cron lines and users'
scripts set them. Precedence, highest first: keyword arguments (CLI flags), environment,
``.env``, ``pmp-intel.toml``, defaults.

Secrets are :class:`pydantic.SecretStr` so that printing a ``Settings`` object, or an
exception that carries one, never shows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, FilePath, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATABASE_DIR = Path("~/.maia/databases/intelligence")
DEFAULT_DATABASE_FILE = "pmp_intelligence.db"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_DATABASE_DIR}/{DEFAULT_DATABASE_FILE}"
DEFAULT_LEGACY_ARCHIVE_DIR = Path("~/.maia/archive/pmp_legacy")
SLACK_HOOKS_HOST = "hooks.slack.com"


class AuthMode(StrEnum):
    """How the client authenticates against the PMP server."""

    OAUTH = "oauth"
    ONPREM = "onprem"
    TOKEN = "token"


class OnPremAuthType(StrEnum):
    """The ``auth_type`` of the on-premises login."""

    LOCAL = "local_authentication"
    AD = "ad_authentication"


class LogFormat(StrEnum):
    """Log output: JSON lines, or human-readable text with a progress bar."""

    AUTO = "auto"
    JSON = "json"
    TEXT = "text"


def _without_password(url: str) -> str:
    """``url`` with the password of its user part, if any, masked."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _env(variable: str, field: str) -> Any:
    """The names of one setting: its environment variable, then its field name (for
    keyword arguments and ``pmp-intel.toml``)."""
    return AliasChoices(variable, field)


class _OwnVariablesOnly(PydanticBaseSettingsSource):
    """An environment (or ``.env``) source that reads only pmp-intel's own variable names.

    The bare field names are aliases too, for keyword arguments and ``pmp-intel.toml``; read
    from the environment they would pick up variables that belong to other programs
    (``DATABASE_URL``, ``USERNAME``, ``TOKEN``…).
    """

    def __init__(self, source: PydanticBaseSettingsSource, variables: frozenset[str]) -> None:
        super().__init__(source.settings_cls)
        self._source = source
        self._variables = variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._source.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._source().items() if k in self._variables}


class Settings(BaseSettings):
    """Every setting pmp-intel reads. Construct with keyword overrides for CLI flags."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
        toml_file="pmp-intel.toml",
        validate_default=True,
        # a refused value may be a secret (a webhook URL, a URL with a password): errors
        # name the setting and the rule, never the value
        hide_input_in_errors=True,
    )

    # --- storage -------------------------------------------------------------------------
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=_env("PMP_INTEL_DATABASE_URL", "database_url"),
        description="SQLAlchemy URL of the unified database (SQLite file or PostgreSQL).",
    )
    legacy_dir: Path | None = Field(
        None,
        validation_alias=_env("PMP_INTEL_LEGACY_DIR", "legacy_dir"),
        description="Folder holding legacy Maia SQLite files to import on upgrade.",
    )
    source_name: str = Field(
        "default",
        validation_alias=_env("PMP_INTEL_SOURCE", "source_name"),
        description="Name of the PMP server inside the database (one database, many sources).",
    )

    # --- server and auth -----------------------------------------------------------------
    base_url: str | None = Field(
        None,
        validation_alias=_env("PMP_BASE_URL", "base_url"),
        description="PMP server, e.g. https://patch.manageengine.com.au or https://host:8383.",
    )
    auth: AuthMode = Field(
        AuthMode.OAUTH,
        validation_alias=_env("PMP_AUTH", "auth"),
        description="oauth (Zoho, cloud), onprem (username/password login) or token.",
    )
    accounts_url: str | None = Field(
        None,
        validation_alias=_env("PMP_ACCOUNTS_URL", "accounts_url"),
        description="Zoho accounts server; derived from the PMP host's region when unset.",
    )
    client_id: str | None = Field(
        None,
        validation_alias=_env("PMP_CLIENT_ID", "client_id"),
        description="Zoho OAuth client id (oauth).",
    )
    client_secret: SecretStr | None = Field(
        None,
        validation_alias=_env("PMP_CLIENT_SECRET", "client_secret"),
        description="Zoho OAuth client secret (oauth). Secret.",
    )
    refresh_token: SecretStr | None = Field(
        None,
        validation_alias=_env("PMP_REFRESH_TOKEN", "refresh_token"),
        description="Zoho OAuth refresh token (oauth). Secret.",
    )
    username: str | None = Field(
        None,
        validation_alias=_env("PMP_USERNAME", "username"),
        description="On-premises login name (onprem).",
    )
    password: SecretStr | None = Field(
        None,
        validation_alias=_env("PMP_PASSWORD", "password"),
        description="On-premises password (onprem); sent base64-encoded as PMP expects. Secret.",
    )
    auth_type: OnPremAuthType = Field(
        OnPremAuthType.LOCAL,
        validation_alias=_env("PMP_AUTH_TYPE", "auth_type"),
        description="On-premises account type: local_authentication or ad_authentication.",
    )
    domain: str | None = Field(
        None,
        validation_alias=_env("PMP_DOMAIN", "domain"),
        description="Active Directory domain for ad_authentication.",
    )
    token: SecretStr | None = Field(
        None,
        validation_alias=_env("PMP_TOKEN", "token"),
        description="Static API token sent as the bare Authorization header (token). Secret.",
    )

    # --- transport -----------------------------------------------------------------------
    verify_tls: bool = Field(
        True,
        validation_alias=_env("PMP_VERIFY_TLS", "verify_tls"),
        description="Verify the server's TLS certificate.",
    )
    ca_bundle: FilePath | None = Field(
        None,
        validation_alias=_env("PMP_CA_BUNDLE", "ca_bundle"),
        description="CA bundle file for a server with a private or self-signed certificate.",
    )
    rate_limit: float = Field(
        4.0,
        gt=0,
        validation_alias=_env("PMP_RATE_LIMIT", "rate_limit"),
        description="Ceiling on requests per second, shared by all threads.",
    )
    concurrency: int = Field(
        4,
        ge=1,
        le=64,
        validation_alias=_env("PMP_CONCURRENCY", "concurrency"),
        description="Parallel requests for fan-out endpoints, within the rate limit.",
    )
    connect_timeout: float = Field(
        10.0,
        gt=0,
        validation_alias=_env("PMP_CONNECT_TIMEOUT", "connect_timeout"),
        description="Seconds to wait for a connection.",
    )
    read_timeout: float = Field(
        60.0,
        gt=0,
        validation_alias=_env("PMP_READ_TIMEOUT", "read_timeout"),
        description="Seconds to wait for a response.",
    )
    max_attempts: int = Field(
        3,
        ge=1,
        le=20,
        validation_alias=_env("PMP_MAX_ATTEMPTS", "max_attempts"),
        description="Attempts per request before a page becomes a gap.",
    )
    page_limit: int = Field(
        1000,
        ge=1,
        validation_alias=_env("PMP_PAGE_LIMIT", "page_limit"),
        description="Page size asked for with lower-case `pagelimit`; the server's echo wins.",
    )
    read_ahead: bool = Field(
        True,
        validation_alias=_env("PMP_INTEL_READ_AHEAD", "read_ahead"),
        description="Request the next page of a paged endpoint while the current one is "
        "stored (one request ahead; set false for strictly one request at a time).",
    )

    # --- extraction ----------------------------------------------------------------------
    coverage_target: float = Field(
        0.95,
        gt=0,
        le=1,
        validation_alias=_env("PMP_INTEL_COVERAGE_TARGET", "coverage_target"),
        description="Share of the server's reported systems a snapshot needs to be usable.",
    )
    commit_every_pages: int = Field(
        10,
        ge=1,
        validation_alias=_env("PMP_INTEL_COMMIT_EVERY", "commit_every_pages"),
        description="Pages written per transaction (each page carries its checkpoint).",
    )
    compliance_config: Path | None = Field(
        None,
        validation_alias=_env("PMP_INTEL_COMPLIANCE_CONFIG", "compliance_config"),
        description="TOML file of compliance facts PMP lacks (internet-facing systems, "
        "application classes); see docs/essential-eight.md.",
    )
    stale_agent_days: int = Field(
        7,
        ge=1,
        validation_alias=_env("PMP_INTEL_STALE_AGENT_DAYS", "stale_agent_days"),
        description="An agent with no contact for this many days counts as stale.",
    )
    log_format: LogFormat = Field(
        LogFormat.AUTO,
        validation_alias=_env("PMP_INTEL_LOG_FORMAT", "log_format"),
        description="json, text, or auto (JSON lines when not on a terminal).",
    )

    # --- notices and hooks ---------------------------------------------------------------
    slack_webhook_url: SecretStr | None = Field(
        None,
        validation_alias=_env("SLACK_WEBHOOK_URL", "slack_webhook_url"),
        description="Slack incoming-webhook URL (https on hooks.slack.com) for notices. Secret.",
    )
    post_extraction_hook: str | None = Field(
        None,
        validation_alias=_env("POST_EXTRACTION_HOOK", "post_extraction_hook"),
        description="Command run after a snapshot finishes (PMP_INTEL_SNAPSHOT_ID/STATUS set).",
    )

    @field_validator("base_url", "accounts_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http(s) URL with a host, e.g. https://host:8383")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be a SQLAlchemy URL, e.g. sqlite:///path/to/file.db")
        return value

    @field_validator("slack_webhook_url")
    @classmethod
    def _slack_host(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme != "https" or parts.hostname != SLACK_HOOKS_HOST:
            # The URL itself is a secret: name the rule, never echo the value.
            raise ValueError(f"must be an https URL on {SLACK_HOOKS_HOST}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        variables = frozenset(
            str(field.validation_alias.choices[0])
            for field in settings_cls.model_fields.values()
            if isinstance(field.validation_alias, AliasChoices)
        )
        return (
            init_settings,
            _OwnVariablesOnly(env_settings, variables),
            _OwnVariablesOnly(dotenv_settings, variables),
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # the database URL is not a SecretStr (mostly it is a path) but may hold a password
        for name, value in super().__repr_args__():
            if name == "database_url" and isinstance(value, str):
                value = _without_password(value)
            yield name, value

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds, for redaction and for tests."""
        secrets = (
            self.client_secret,
            self.refresh_token,
            self.password,
            self.token,
            self.slack_webhook_url,
        )
        return [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]
