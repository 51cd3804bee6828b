"""The three ways a client proves itself (pmp-api.md §2): Zoho OAuth (cloud), the on-premises
login, and a static token — plus the token book-keeping behind them.

Token lifetimes run on an injectable monotonic clock, so "the token expired mid-run" is a
matter of moving the clock, never of sleeping.
"""

from __future__ import annotations

import base64
import binascii
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pmp_intel.testing.rng import key, label, mix64

AUTH_MODES = ("oauth", "onprem", "token", "none")
#: The forms of the on-premises login a simulated server can accept (pmp-api.md §2a): ``get``
#: (GET, query string: PMP's own docs), ``post`` (POST, query string or form body: C2, C5) and
#: ``json`` (POST, JSON body: EC-MSP).
LOGIN_FORMS = ("get", "post", "json")
ZOHO_PREFIX = "zoho-oauthtoken "
BEARER_PREFIX = "bearer "
API_DOMAIN = "https://www.zohoapis.com"


def auth_kind(header: str | None) -> str:
    """How a request authenticated: ``zoho``, ``bearer``, ``raw`` or ``none``."""
    if not header:
        return "none"
    lowered = header.lower()
    if lowered.startswith(ZOHO_PREFIX):
        return "zoho"
    if lowered.startswith(BEARER_PREFIX):
        return "bearer"
    return "raw"


def _token_of(header: str) -> str:
    return header.split(" ", 1)[1].strip() if " " in header else header.strip()


def login_parameters(
    method: str,
    query: dict[str, str],
    body: dict[str, str],
    body_is_json: bool,
    forms: tuple[str, ...] = LOGIN_FORMS,
) -> dict[str, str] | None:
    """The login parameters a server accepting ``forms`` reads from one request, or None when
    it does not serve the method (HTTP 405).

    A part of the request such a server does not read is ignored, as a servlet ignores it: the
    login then fails for want of credentials, with the same HTTP 200 error envelope as a wrong
    password (the real server's answer to a bad request, pmp-api.md §3c).
    """
    method = method.upper()
    if method == "GET":
        return dict(query) if "get" in forms else None
    if method != "POST" or not {"post", "json"} & set(forms):
        return None
    read: dict[str, str] = {}
    if "post" in forms:
        read.update(query)
        if not body_is_json:
            read.update(body)
    if "json" in forms and body_is_json:
        read.update(body)
    return read


@dataclass(frozen=True)
class Verdict:
    """Outcome of checking one request's credentials."""

    ok: bool
    kind: str
    reason: str = ""


class Authority:
    """Issues and checks tokens for one simulated server."""

    def __init__(
        self,
        mode: str,
        seed: int,
        clock: Callable[[], float],
        token_ttl: float,
        onprem_token_ttl: float | None = None,
        accept_bearer: bool = False,
    ) -> None:
        if mode not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}")
        self.mode = mode
        self.clock = clock
        self.token_ttl = token_ttl
        self.onprem_token_ttl = onprem_token_ttl
        self.accept_bearer = accept_bearer
        self._seed = seed
        self._issued = 0
        self._tokens: dict[str, float | None] = {}
        self._lock = threading.Lock()
        h = key(seed, label("credentials"))
        self.client_id = f"1000.{mix64(h):016X}{mix64(h + 1):016X}"[:37]
        self.client_secret = f"{mix64(h + 2):016x}{mix64(h + 3):016x}{mix64(h + 4):08x}"[:42]
        self.refresh_token = (
            f"1000.{mix64(h + 5):016x}{mix64(h + 6):016x}.{mix64(h + 7):016x}{mix64(h + 8):016x}"
        )
        self.grant_code = f"1000.{mix64(h + 9):016x}.{mix64(h + 10):016x}"
        self.username = "admin"
        self.password = f"Sim-{mix64(h + 11) % 10**8:08d}!"
        self.static_token = str(uuid.UUID(int=mix64(h + 12) << 64 | mix64(h + 13))).upper()

    @property
    def credentials(self) -> dict[str, str]:
        """What a client needs for the configured mode."""
        if self.mode == "oauth":
            return {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "refresh_token": self.refresh_token,
            }
        if self.mode == "onprem":
            return {
                "username": self.username,
                "password": self.password,
                "auth_type": "local_authentication",
            }
        if self.mode == "token":
            return {"token": self.static_token}
        return {}

    def _issue(self, ttl: float | None, oauth: bool) -> str:
        with self._lock:
            self._issued += 1
            h = key(self._seed, label("token"), self._issued)
            if oauth:
                first, second = f"{mix64(h):016x}{mix64(h + 1):016x}", f"{mix64(h + 2):016x}"
                token = f"1000.{first}.{second}{mix64(h + 3):016x}"
            else:
                token = str(uuid.UUID(int=mix64(h) << 64 | mix64(h + 1))).upper()
            self._tokens[token] = None if ttl is None else self.clock() + ttl
            return token

    @property
    def issued(self) -> int:
        """Tokens issued so far (refreshes and logins)."""
        return self._issued

    def expire_all(self) -> None:
        """Invalidate every issued token now (the static token stays valid)."""
        with self._lock:
            self._tokens.clear()

    # ---------------------------------------------------------------- endpoints ---
    def oauth_token(self, params: dict[str, str]) -> dict[str, Any]:
        """``POST {accounts}/oauth/v2/token``: Zoho answers HTTP 200 even for bad grants,
        with an ``error`` field."""
        grant = params.get("grant_type", "")
        if params.get("client_id") != self.client_id or (
            params.get("client_secret") != self.client_secret
        ):
            return {"error": "invalid_client"}
        if grant == "refresh_token":
            if params.get("refresh_token") != self.refresh_token:
                return {"error": "invalid_code"}
            token = self._issue(self.token_ttl, oauth=True)
            return {
                "access_token": token,
                "api_domain": API_DOMAIN,
                "token_type": "Bearer",
                "expires_in": int(self.token_ttl),
            }
        if grant == "authorization_code":
            if params.get("code") != self.grant_code:
                return {"error": "invalid_code"}
            token = self._issue(self.token_ttl, oauth=True)
            return {
                "access_token": token,
                "refresh_token": self.refresh_token,
                "api_domain": API_DOMAIN,
                "token_type": "Bearer",
                "expires_in": int(self.token_ttl),
            }
        return {"error": "unsupported_grant_type"}

    def login(self, params: dict[str, str], version: str) -> dict[str, Any] | None:
        """``desktop/authentication``: the success envelope, or None if the login fails."""
        try:
            password = base64.b64decode(params.get("password", ""), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        auth_type = params.get("auth_type", "local_authentication")
        if auth_type not in ("local_authentication", "ad_authentication"):
            return None
        if auth_type == "ad_authentication" and not params.get("domainName"):
            return None
        if params.get("username") != self.username or password != self.password:
            return None
        token = self._issue(self.onprem_token_ttl, oauth=False)
        return {
            "message_type": "authentication",
            "message_response": {
                "authentication": {
                    "auth_data": {"auth_token": token},
                    "two_factor_data": {"is_TwoFactor_Enabled": False},
                    "user_data": {"user_name": self.username, "auth_type": auth_type},
                }
            },
            "message_version": version,
            "status": "success",
        }

    def check(self, header: str | None) -> Verdict:
        """Whether an API request's ``Authorization`` header is acceptable now."""
        kind = auth_kind(header)
        if self.mode == "none":
            return Verdict(True, kind)
        if header is None or kind == "none":
            return Verdict(False, kind, "missing Authorization header")
        token = _token_of(header) if kind in ("zoho", "bearer") else header.strip()
        if self.mode == "oauth":
            if kind == "raw" or (kind == "bearer" and not self.accept_bearer):
                return Verdict(False, kind, "use 'Authorization: Zoho-oauthtoken <token>'")
            return self._valid(token, kind)
        if kind != "raw":
            return Verdict(False, kind, "send the token bare, without a scheme")
        if self.mode == "token":
            ok = token == self.static_token
            return Verdict(ok, kind, "" if ok else "unknown token")
        return self._valid(token, kind)

    def _valid(self, token: str, kind: str) -> Verdict:
        with self._lock:
            if token not in self._tokens:
                return Verdict(False, kind, "unknown or revoked token")
            expiry = self._tokens[token]
        if expiry is not None and self.clock() >= expiry:
            return Verdict(False, kind, "token expired")
        return Verdict(True, kind)
