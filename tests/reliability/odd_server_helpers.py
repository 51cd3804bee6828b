"""Servers that are not quite PMP, on loopback: one that speaks only HTML, and the simulator
behind a filter that rewrites the envelope of chosen endpoints."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pmp_intel.testing import SimulatedPMP

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
    b"<body><form method='post'>user <input name='u'></form></body></html>"
)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(app: WSGIApp) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class HtmlOnly:
    """Answers every request, whatever its path or method, with an HTML login page (200)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.paths.append(environ.get("PATH_INFO", ""))
        start_response(
            "200 OK",
            [("Content-Type", "text/html;charset=UTF-8"), ("Content-Length", str(len(LOGIN_PAGE)))],
        )
        return [LOGIN_PAGE]


class EnvelopeRewriter:
    """The simulator's answers, with the JSON body of chosen paths rewritten by ``rewrite``."""

    def __init__(
        self,
        pmp: SimulatedPMP,
        rewrite: Callable[[dict[str, Any]], Any],
        paths: Iterable[str] | None = None,
    ) -> None:
        self.pmp = pmp
        self.rewrite = rewrite
        self.paths = None if paths is None else set(paths)
        self.rewritten: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.pmp.app(environ, capture))
        path = environ.get("PATH_INFO", "")
        status = captured["status"]
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        if status.startswith("200") and (self.paths is None or path in self.paths):
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            if isinstance(document, dict) and "access_token" not in document:
                body = json.dumps(self.rewrite(document)).encode()
                self.rewritten.append(path)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


def version_2_envelope(document: dict[str, Any]) -> dict[str, Any]:
    """A made-up "version 2.0" of the PMP envelope: same data under other names."""
    response = document.get("message_response", {})
    return {
        "message_type": document.get("message_type"),
        "message_version": "2.0",
        "status": "success",
        "data": {"items": next((v for v in response.values() if isinstance(v, list)), [])},
        "paging": {"total": response.get("total"), "page": response.get("page")},
    }


def unknown_shape(document: dict[str, Any]) -> list[Any]:
    """Not an envelope at all: a bare JSON list of the keys."""
    return sorted(document)


@contextmanager
def answering_port(reply: bytes) -> Iterator[int]:
    """A loopback port that answers every connection with ``reply`` at once and hangs up
    (what a web server says to a client speaking another protocol)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.sendall(reply)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
