"""The simulated PMP server on a loopback port, in a background thread, plus the public facade
(:class:`SimulatedPMP`, :func:`simulated_pmp`).

The server is the standard library's ``wsgiref`` with a thread per connection. Its request
handler gives the app two hooks a plain WSGI server cannot: resetting the connection (the
socket is closed with ``SO_LINGER`` 0, which sends a TCP RST) and stalling it (waiting on an
event that shutdown releases, so a "timeout" fault never blocks shutdown).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from pmp_intel.testing.app import RequestRecord, SimulatorApp, SimulatorSettings
from pmp_intel.testing.endpoints import ENDPOINTS
from pmp_intel.testing.estate import REFERENCE_SYSTEMS, Estate, EstateConfig
from pmp_intel.testing.faults import FaultSpec
from pmp_intel.testing.wire import Record

if TYPE_CHECKING:
    from pmp_intel.settings import Settings


class _Handler(WSGIRequestHandler):
    """Quiet handler with reset/stall hooks in the WSGI environ."""

    server: _Server

    def get_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environ()
        environ["pmp_sim.reset"] = self._reset
        environ["pmp_sim.stall"] = self.server.stopping.wait
        return environ

    def _reset(self) -> None:
        with self.server.reset_lock:
            self.server.to_reset.add(id(self.request))

    def log_message(self, format: str, *args: Any) -> None:
        """Requests go to the request log, not stderr."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.stopping = threading.Event()
        self.reset_lock = threading.Lock()
        self.to_reset: set[int] = set()

    def shutdown_request(self, request: Any) -> None:
        with self.reset_lock:
            reset = id(request) in self.to_reset
            self.to_reset.discard(id(request))
        if reset:
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.close()
            return
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-answer are normal here; stay quiet."""


class SimulatedPMP:
    """A running simulated PMP server (the ``moto`` of Patch Manager Plus).

    Use :func:`simulated_pmp` or ``with SimulatedPMP(...) as pmp:``. Everything is loopback;
    nothing leaves the machine.
    """

    def __init__(
        self,
        systems: int = REFERENCE_SYSTEMS,
        seed: int = 7,
        auth: str = "oauth",
        stringly: bool = False,
        token_ttl: float = 3600.0,
        faults: FaultSpec | str | None = None,
        optional_endpoints: tuple[str, ...] = (),
        page_cap: int | None = 1000,
        latency: float = 0.0,
        clock: Callable[[], float] | None = None,
        sleeper: Callable[[float], None] | None = None,
        wall_clock: Callable[[], float] | None = None,
        estate: Estate | None = None,
        supported_patches: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        **settings: Any,
    ) -> None:
        self.estate = estate or Estate(
            EstateConfig(systems=systems, seed=seed, supported_patches=supported_patches)
        )
        self.settings = SimulatorSettings(
            auth=auth,
            stringly=stringly,
            token_ttl=token_ttl,
            optional_endpoints=tuple(optional_endpoints),
            page_cap=page_cap,
            latency=latency,
            **settings,
        )
        self.app = SimulatorApp(
            self.estate,
            self.settings,
            faults,
            clock=clock or time.monotonic,
            sleeper=sleeper or time.sleep,
            wall_clock=wall_clock or time.time,
        )
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle ---
    def start(self) -> SimulatedPMP:
        """Bind the port and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server(self._address)
        server.set_app(self.app)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="simulated-pmp",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (stalled requests are released first)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatedPMP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- addresses ---
    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("the simulator is not running; use start() or a with block")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Root of the PMP server, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self._address[0]}:{self.port}"

    @property
    def accounts_url(self) -> str:
        """Root of the simulated Zoho accounts server (POST ``{accounts_url}/oauth/v2/token``)."""
        return f"{self.base_url}/accounts"

    @property
    def credentials(self) -> dict[str, str]:
        """What a client needs to log in under the configured ``auth`` mode."""
        return self.app.authority.credentials

    def client_settings(self, **overrides: Any) -> Settings:
        """pmp-intel :class:`~pmp_intel.settings.Settings` that point at this server and
        log in under its auth mode (OAuth through the simulated accounts server, on-premises
        user and password, or the static token); ``overrides`` set any other field, e.g.
        ``database_url``, ``source_name`` or ``rate_limit``.

        >>> with simulated_pmp(auth="token") as pmp:  # doctest: +SKIP
        ...     Extractor(pmp.client_settings(database_url="sqlite:///t.db")).run()
        """
        from pmp_intel.settings import Settings  # here: the simulator alone does not need it

        creds = self.credentials
        values: dict[str, Any] = {"base_url": self.base_url}
        if "client_id" in creds:
            values.update(
                auth="oauth",
                accounts_url=self.accounts_url,
                client_id=creds["client_id"],
                client_secret=creds["client_secret"],
                refresh_token=creds["refresh_token"],
            )
        elif "username" in creds:
            values.update(auth="onprem", username=creds["username"], password=creds["password"])
        else:
            values.update(auth="token", token=creds["token"])
        values.update(overrides)
        return Settings(**values)

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every request seen so far, in arrival order."""
        return self.app.request_log

    # ------------------------------------------------------------- ground truth ---
    def records(self, endpoint: str, **params: Any) -> Iterator[Record]:
        """Every record the server returns for ``endpoint`` and ``params`` across all pages,
        in wire form (objects for object endpoints)."""
        _known(endpoint)
        return iter(self.app.listing_records(endpoint, {k: str(v) for k, v in params.items()}))

    def total(self, endpoint: str, **params: Any) -> int:
        """The ``total`` the server reports for ``endpoint`` and ``params``."""
        _known(endpoint)
        return self.app.listing_total(endpoint, {k: str(v) for k, v in params.items()})

    # ------------------------------------------------------------------ control ---
    def advance(self, days: float = 1.0) -> None:
        """Move the estate's time forward (churn: installs, releases, systems come and go)."""
        self.estate.advance(days)

    def set_faults(self, faults: FaultSpec | str | None) -> None:
        """Replace the fault specification."""
        self.app.set_faults(faults)

    def clear_faults(self) -> None:
        """No more faults."""
        self.app.set_faults(None)

    def expire_tokens(self) -> None:
        """Invalidate every issued access token now."""
        self.app.authority.expire_all()


def _known(endpoint: str) -> None:
    if endpoint not in ENDPOINTS:
        raise KeyError(f"unknown endpoint {endpoint!r}; known: {', '.join(ENDPOINTS)}")


@contextmanager
def simulated_pmp(**kwargs: Any) -> Iterator[SimulatedPMP]:
    """A running :class:`SimulatedPMP` for the duration of a ``with`` block."""
    pmp = SimulatedPMP(**kwargs)
    with pmp:
        yield pmp
