"""A proxy in front of the simulator that tempts pmp-intel to leak: it records every token the
server hands out (so a test knows every secret in play), answers chosen pages with an error
page that echoes the request's Authorization header next to personal data, and breaks one
record so that its sample is logged."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from pmp_intel.testing import SimulatedPMP

#: Personal data the proxy puts in error pages and in the broken record. None of it is in
#: the simulated estate, so none of it may show up anywhere pmp-intel writes.
PII_EMAIL = "leak.probe@example.org"
PII_IPV4 = "203.0.113.77"
PII_IPV6 = ("2001:db8:85a3::8a2e:370:7334", "fe80::1ff:fe23:4567:890a")
PII_VALUES = (PII_EMAIL, PII_IPV4, *PII_IPV6)


class LeakProbe:
    """WSGI middleware around ``pmp.app`` (the simulator's application).

    ``echo``: (path, page) pairs answered 502 with an HTML page quoting the request;
    ``broken``: (path, page) whose first record gets an unusable ``resource_id`` and PII.
    """

    def __init__(
        self,
        pmp: SimulatedPMP,
        *,
        echo: Iterable[tuple[str, int]] = (),
        broken: Iterable[tuple[str, int]] = (),
    ) -> None:
        self.pmp = pmp
        self.echo = set(echo)
        self.broken = set(broken)
        #: Every access token and login token the server issued, in order.
        self.issued: list[str] = []
        self.echoed = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        page = int(query.get("page", "1"))
        if (path, page) in self.echo:
            self.echoed += 1
            body = (
                "<html><head><title>502 Bad Gateway</title></head><body>"
                f"<p>upstream failed for GET {path}?{environ.get('QUERY_STRING', '')}</p>"
                f"<p>Authorization: {environ.get('HTTP_AUTHORIZATION', '')}</p>"
                f"<p>on behalf of {PII_EMAIL} from {PII_IPV4}, via {PII_IPV6[0]} "
                f"and {PII_IPV6[1]}</p></body></html>"
            ).encode()
            start_response(
                "502 Bad Gateway",
                [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
            )
            return [body]
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.pmp.app(environ, capture))
        document = _json(body)
        if isinstance(document, dict):
            self._remember_tokens(document)
            broken = (path, page) in self.broken and captured["status"].startswith("200")
            if broken and _break_first_record(document):
                body = json.dumps(document).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _remember_tokens(self, document: dict[str, Any]) -> None:
        token = document.get("access_token")
        login = (
            document.get("message_response", {})
            .get("authentication", {})
            .get("auth_data", {})
            .get("auth_token")
            if isinstance(document.get("message_response"), dict)
            else None
        )
        for value in (token, login):
            if isinstance(value, str) and value:
                self.issued.append(value)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _break_first_record(document: dict[str, Any]) -> bool:
    response = document.get("message_response")
    if not isinstance(response, dict):
        return False
    for value in response.values():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value[0].update(
                resource_id="not-a-number",
                ip_address=PII_IPV4,
                owner_email_id=PII_EMAIL,
                ipv6_address=PII_IPV6[0],
            )
            return True
    return False
