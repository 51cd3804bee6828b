"""Redaction of text that leaves the process: log lines, gap samples, exception messages.

One function set, reused by the API client, the extractor and the log formatter:

* :func:`redact` masks e-mail addresses, IPv4 and IPv6 addresses, ``Authorization``-style
  header values, ``key=value`` pairs whose key names a secret, and every literal secret
  registered with :func:`register_secret` (or passed in ``secrets``).
* :func:`sample` redacts and then truncates to at most ``limit`` bytes of UTF-8 (1 KB by
  default), the size design.md §3 allows for a ``response_sample``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

#: Largest response sample kept in an event, a log line or a gap record (bytes of UTF-8).
SAMPLE_LIMIT = 1024

EMAIL_MASK = "<email>"
IPV4_MASK = "<ipv4>"
IPV6_MASK = "<ipv6>"
SECRET_MASK = "<redacted>"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1?\d?\d)"
_IPV4 = re.compile(r"(?<![\d.])(?:" + _OCTET + r"\.){3}" + _OCTET + r"(?![\d.])")
# Full, compressed and IPv4-mapped forms; at least two colons and one hex group.
_IPV6 = re.compile(
    r"(?<![0-9A-Fa-f:])"
    r"(?:"
    r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,7}:"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}"
    r"|[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}"
    r"|:(?::[0-9A-Fa-f]{1,4}){1,7}"
    r"|::(?:ffff(?::0{1,4})?:)?(?:\d{1,3}\.){3}\d{1,3}"
    r")"
    r"(?![0-9A-Fa-f:])"
)
_SECRET_KEYS = (
    r"access_token|refresh_token|client_secret|auth_token|authtoken|password|passwd|"
    r"api_key|apikey|token|secret|code"
)
# "key": "value", key=value, key: value (JSON, query strings, form bodies, prose).
_KEY_VALUE = re.compile(
    r"""(?P<key>(?<![A-Za-z0-9_])["']?(?:""" + _SECRET_KEYS + r""")["']?\s*[:=]\s*)"""
    r"""(?P<q>["']?)(?P<val>[^"'&\s,}]+)""",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(
    r"(?P<key>Authorization\s*[:=]\s*)(?P<val>(?:Zoho-oauthtoken\s+|Bearer\s+)?[^\s\"',}]+)",
    re.IGNORECASE,
)

_registered: set[str] = set()
_lock = threading.Lock()

#: Secrets shorter than this are not masked literally (they would mask ordinary words).
MIN_SECRET_LENGTH = 4


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in text redacted from now on (process-wide)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def registered_secrets() -> frozenset[str]:
    """The literal secrets :func:`redact` currently masks."""
    with _lock:
        return frozenset(_registered)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with secrets, e-mail addresses and IP addresses masked."""
    literal = sorted(
        {s for s in (*registered_secrets(), *secrets) if s and len(s) >= MIN_SECRET_LENGTH},
        key=len,
        reverse=True,
    )
    for secret in literal:
        text = text.replace(secret, SECRET_MASK)
    text = _AUTH_HEADER.sub(lambda m: m.group("key") + SECRET_MASK, text)
    text = _KEY_VALUE.sub(lambda m: m.group("key") + m.group("q") + SECRET_MASK, text)
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _IPV6.sub(IPV6_MASK, text)
    return _IPV4.sub(IPV4_MASK, text)


def sample(body: str | bytes | None, limit: int = SAMPLE_LIMIT, secrets: Iterable[str] = ()) -> str:
    """A redacted sample of ``body`` no longer than ``limit`` bytes of UTF-8."""
    if body is None:
        return ""
    if isinstance(body, bytes):
        # Redact a slice generous enough that masks shrink rather than cut a secret in two.
        body = body[: limit * 4].decode("utf-8", errors="replace")
    else:
        body = body[: limit * 4]
    text = redact(body, secrets)
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's final message (and drops its args).

    Installed on the ``urllib3`` logger by :func:`pmp_intel.api.session.build_session`:
    urllib3 logs request lines, query string included, at DEBUG level.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler
            return True
        record.msg = redact(message)
        record.args = None
        return True


def install_log_redaction(logger_name: str) -> None:
    """Add one :class:`RedactingFilter` to ``logger_name`` (idempotent)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
