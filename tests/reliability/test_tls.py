"""TLS verification is on by default: a server with a certificate from an unknown authority
is refused (a fatal, classified error) unless its CA bundle is configured."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from pmp_intel.api.client import PMPClient
from pmp_intel.api.errors import ErrorType, PMPAPIError
from pmp_intel.endpoints import registry
from pmp_intel.settings import Settings

SUMMARY = {
    "message_type": "summary",
    "message_version": "1.4",
    "status": "success",
    "message_response": {"summary": {"patch_summary": {"missing_patches": 7}}},
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(SUMMARY).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on loopback whose certificate comes from a throw-away CA."""
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", bundle
    finally:
        server.shutdown()
        server.server_close()


def _client(**settings: object) -> PMPClient:
    return PMPClient.from_settings(Settings(auth="token", token="static-token-123", **settings))


def test_verification_is_on_by_default() -> None:
    assert Settings().verify_tls is True


def test_unknown_authority_is_refused(tls_server: tuple[str, Path]) -> None:
    url, _bundle = tls_server
    with _client(base_url=url) as client, pytest.raises(PMPAPIError) as refused:
        client.get_page(registry.get("summary"))
    assert refused.value.error_type is ErrorType.TLS_ERROR
    assert "PMP_CA_BUNDLE" in str(refused.value)


def test_a_ca_bundle_makes_it_trusted(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests would let this environment variable override a session's CA bundle
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/system-bundle.pem")
    url, bundle = tls_server
    with _client(base_url=url, ca_bundle=bundle) as client:
        page = client.get_page(registry.get("summary"))
    assert page.records
