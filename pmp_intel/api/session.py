"""The one :class:`requests.Session` every PMP request goes through.

Connection pooling sized for the fan-out concurrency, no urllib3-level retries (the
resilience policy owns retrying), TLS verification on unless ``PMP_VERIFY_TLS=false``,
an optional CA bundle (``PMP_CA_BUNDLE``), and a user agent naming the library.
Timeouts are per request (:class:`Timeouts`): requests has no session-wide timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.models import PreparedRequest

from pmp_intel.__about__ import __version__
from pmp_intel.api.redact import install_log_redaction

log = logging.getLogger(__name__)

USER_AGENT = f"pmp-intel/{__version__} python-requests/{requests.__version__}"


class _KeepHeaders(AuthBase):
    """A no-op auth: with ``session.auth`` set, requests never applies ``~/.netrc``
    credentials, which would overwrite the PMP ``Authorization`` header."""

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        return request


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts in seconds."""

    connect: float = 10.0
    read: float = 60.0

    def as_tuple(self) -> tuple[float, float]:
        """The ``timeout=`` argument for requests."""
        return (self.connect, self.read)


def tls_verify(verify_tls: bool = True, ca_bundle: Path | str | None = None) -> bool | str:
    """The ``verify`` value for requests: a CA bundle path, True, or False.

    Every request passes it explicitly (``verify=session.verify``): requests lets the
    ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` environment override a session-level value,
    which would silently ignore ``PMP_CA_BUNDLE`` and ``PMP_VERIFY_TLS=false`` on machines
    (Debian, many containers) that set those variables.
    """
    if ca_bundle:
        return str(ca_bundle)
    return verify_tls


def build_session(
    *,
    verify_tls: bool = True,
    ca_bundle: Path | str | None = None,
    pool_size: int = 4,
    user_agent: str = USER_AGENT,
) -> requests.Session:
    """A pooled session with TLS settings and the library's user agent."""
    # Logger filters are not inherited: the request lines come from the child logger.
    for name in ("urllib3", "urllib3.connectionpool"):
        install_log_redaction(name)
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(4, pool_size + 2), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = tls_verify(verify_tls, ca_bundle)
    if session.verify is False:
        log.warning("TLS certificate verification is OFF (PMP_VERIFY_TLS=false)")
    session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
    session.auth = _KeepHeaders()
    return session
