"""Where access tokens (and rotated refresh tokens) are kept between requests and runs.

:class:`MemoryTokenStore` is the default: nothing outlives the process.
:class:`KeyringTokenStore` keeps them in the operating system's keyring (``pip install
pmp-intel[keyring]``) so a cron job that runs every hour reuses a still-valid token instead
of spending one of Zoho's refresh grants.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from pydantic import SecretStr

from pmp_intel.errors import ConfigurationError


@dataclass(frozen=True)
class StoredToken:
    """A token as stored: wall-clock times so it survives a restart."""

    access_token: SecretStr
    obtained_at: float
    expires_in: float | None = None
    refresh_token: SecretStr | None = None

    def to_json(self) -> str:
        """Serialised form (contains the secrets: only for a secret store)."""
        data: dict[str, Any] = asdict(self)
        data["access_token"] = self.access_token.get_secret_value()
        data["refresh_token"] = (
            self.refresh_token.get_secret_value() if self.refresh_token else None
        )
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> StoredToken:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        refresh = data.get("refresh_token")
        return cls(
            access_token=SecretStr(data["access_token"]),
            obtained_at=float(data["obtained_at"]),
            expires_in=None if data.get("expires_in") is None else float(data["expires_in"]),
            refresh_token=SecretStr(refresh) if refresh else None,
        )


class TokenStore(Protocol):
    """Load, save and forget the token of one credential (``key`` names it, no secret)."""

    def load(self, key: str) -> StoredToken | None:
        """The stored token, or None."""
        ...

    def save(self, key: str, token: StoredToken) -> None:
        """Keep ``token`` under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        ...


class MemoryTokenStore:
    """Tokens in a dict, for the life of the process (the default)."""

    def __init__(self) -> None:
        self._tokens: dict[str, StoredToken] = {}
        self._lock = threading.Lock()

    def load(self, key: str) -> StoredToken | None:
        """The stored token, or None."""
        with self._lock:
            return self._tokens.get(key)

    def save(self, key: str, token: StoredToken) -> None:
        """Keep ``token`` under ``key``."""
        with self._lock:
            self._tokens[key] = token

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._tokens.pop(key, None)

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={len(self._tokens)})"


class KeyringTokenStore:
    """Tokens in the OS keyring under service ``service`` (needs the ``keyring`` extra)."""

    def __init__(self, service: str = "pmp-intel", backend: Any = None) -> None:
        if backend is None:
            try:
                import keyring
            except ImportError:  # pragma: no cover - depends on the installation
                raise ConfigurationError(
                    "the keyring token store needs the keyring package: "
                    "pip install 'pmp-intel[keyring]'"
                ) from None
            backend = keyring
        self.service = service
        self._keyring = backend

    def load(self, key: str) -> StoredToken | None:
        """The stored token, or None (also when the stored value is unreadable)."""
        text = self._keyring.get_password(self.service, key)
        if not text:
            return None
        try:
            return StoredToken.from_json(text)
        except (ValueError, KeyError, TypeError):
            return None

    def save(self, key: str, token: StoredToken) -> None:
        """Keep ``token`` under ``key``."""
        self._keyring.set_password(self.service, key, token.to_json())

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
        try:
            self._keyring.delete_password(self.service, key)
        except Exception:  # keyring raises PasswordDeleteError when absent
            return

    def __repr__(self) -> str:
        return f"KeyringTokenStore(service={self.service!r})"
