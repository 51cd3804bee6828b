"""The simulated PMP server as a WSGI application: routing, auth, faults, paging, envelopes and
the request log.

Usable without a socket (call it like any WSGI app, or :meth:`SimulatorApp.handle`); the
loopback server in :mod:`pmp_intel.testing.server` adds what needs a real connection (resetting
it, stalling it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from pmp_intel.testing.auth import LOGIN_FORMS, Authority, auth_kind, login_parameters
from pmp_intel.testing.endpoints import (
    API_ROUTES,
    DCAPI_ROUTES,
    ENDPOINTS,
    MISSING_PARAMETER,
    NOT_APPLICABLE,
    BadRequest,
    Catalog,
    EndpointSpec,
)
from pmp_intel.testing.estate import Estate
from pmp_intel.testing.faults import Fault, FaultInjector, FaultSpec
from pmp_intel.testing.records import RecordBuilder
from pmp_intel.testing.wire import (
    Record,
    dcapi_envelope,
    dumps,
    error_envelope,
    list_envelope,
    object_envelope,
    wire_record,
)

API_VERSIONS = ("1.0", "1.3", "1.4")
ACCOUNTS_PREFIX = "/accounts"
TOKEN_PATH = "/oauth/v2/token"
#: Headers the real cloud sends with every answer (pmp-api.md §1, C1 HAR).
CLOUD_HEADERS = (
    ("Server", "ZGS"),
    ("Access-Control-Allow-Methods", "PUT, GET, POST, DELETE, OPTIONS"),
    (
        "Access-Control-Allow-Headers",
        "Authorization, origin, DC-Integ-Param, x-requested-with, content-type, x-secret-key",
    ),
)
THROTTLE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Please Wait</title></head><body>"
    b"<h1>Please wait</h1><p>We have received too many requests from you. "
    b"Please try again after some time.</p></body></html>"
)


def _gateway_page(title: str, text: str) -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>{text}</p></body></html>"
    ).encode()


GATEWAY_PAGES = {
    502: _gateway_page("502 Bad Gateway", "The proxy received an invalid response."),
    503: _gateway_page(
        "503 Service Unavailable", "The server is temporarily unable to service your request."
    ),
    504: _gateway_page("504 Gateway Time-out", "The upstream server did not answer in time."),
}
NOT_FOUND_PAGE = (
    b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
)
LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Patch Manager Plus</title></head><body>"
    b'<form action="/j_security_check" method="post">Sign in</form></body></html>'
)
#: Faults that change an otherwise normal answer (it still needs valid credentials).
DATA_FAULTS = ("latency", "drift", "emptylist", "truncated")
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class SimulatorSettings:
    """Behaviour switches, mostly where the sources disagree (docs/simulator.md)."""

    auth: str = "oauth"
    stringly: bool = False
    token_ttl: float = 3600.0
    onprem_token_ttl: float | None = None
    accept_bearer: bool = False
    login_forms: tuple[str, ...] = LOGIN_FORMS
    page_cap: int | None = 1000
    pagelimit_mode: str = "honour"
    default_page_size: int = 25
    dcapi_default_page_limit: int = 25
    dcapi_max_page_limit: int = 1000
    optional_endpoints: tuple[str, ...] = ()
    content_type: str = "text/plain;charset=UTF-8"
    numbers_as_strings: bool = False
    response_code: bool = False
    unknown_path: str = "404"
    cloud_not_applicable: bool = False
    latency: float = 0.0
    timeout_stall: float = 30.0

    def __post_init__(self) -> None:
        if self.pagelimit_mode not in ("honour", "fixed"):
            raise ValueError("pagelimit_mode must be 'honour' or 'fixed'")
        if self.unknown_path not in ("404", "html"):
            raise ValueError("unknown_path must be '404' or 'html'")
        self.login_forms = tuple(self.login_forms)
        if not self.login_forms or set(self.login_forms) - set(LOGIN_FORMS):
            raise ValueError(f"login_forms must be some of {', '.join(LOGIN_FORMS)}")
        unknown = set(self.optional_endpoints) - {n for n, s in ENDPOINTS.items() if s.optional}
        if unknown:
            raise ValueError(f"not optional endpoints: {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator saw. ``status`` is 0 when no HTTP answer was sent (reset,
    timeout); ``elapsed_s`` is the simulator's own time, excluding injected delays."""

    method: str
    path: str
    params: dict[str, str]
    auth_kind: str
    status: int
    fault: str | None
    elapsed_s: float
    endpoint: str | None = None
    page: int | None = None


@dataclass
class Response:
    """What to send back. ``action`` is ``send``, ``reset`` or ``stall``."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain;charset=UTF-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    action: str = "send"


class SimulatorApp:
    """WSGI callable serving one simulated PMP server (and its Zoho accounts server)."""

    def __init__(
        self,
        estate: Estate,
        settings: SimulatorSettings | None = None,
        faults: FaultSpec | str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleeper: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.estate = estate
        self.settings = settings or SimulatorSettings()
        self.clock = clock
        self.sleeper = sleeper
        self.wall_clock = wall_clock
        self.builder = RecordBuilder(estate)
        self.catalog = Catalog(self.builder)
        self.authority = Authority(
            self.settings.auth,
            estate.seed,
            clock,
            self.settings.token_ttl,
            self.settings.onprem_token_ttl,
            self.settings.accept_bearer,
        )
        self.injector = FaultInjector(FaultSpec.coerce(faults))
        self.request_log: list[RequestRecord] = []
        #: Unexpected exceptions raised while answering (each answered with HTTP 500).
        self.errors: list[Exception] = []
        self._log_lock = threading.Lock()

    # ------------------------------------------------------------------ control ---
    def set_faults(self, faults: FaultSpec | str | None) -> None:
        """Replace the fault specification (counters start afresh)."""
        self.injector = FaultInjector(FaultSpec.coerce(faults))

    # --------------------------------------------------------------------- WSGI ---
    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        response = self.handle(
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_AUTHORIZATION"),
            body,
            environ.get("CONTENT_TYPE", ""),
        )
        if response.action == "reset":
            reset = environ.get("pmp_sim.reset")
            if reset is not None:
                reset()
            raise ConnectionResetError("simulated connection reset")
        if response.action == "stall":
            stall = environ.get("pmp_sim.stall")
            if stall is None:
                raise TimeoutError("simulated read timeout")
            stall(self.settings.timeout_stall)
            raise ConnectionAbortedError("simulated read timeout")
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        start_response(f"{response.status} {REASONS.get(response.status, 'Status')}", headers)
        return [response.body]

    # ---------------------------------------------------------------- handling ---
    def handle(
        self,
        method: str,
        path: str,
        query: str,
        authorization: str | None,
        body: bytes = b"",
        content_type: str = "",
    ) -> Response:
        """Answer one request and record it in :attr:`request_log`."""
        started = time.perf_counter()
        params = dict(parse_qsl(query, keep_blank_values=True))
        name, version = self._route(path)
        fault: Fault | None = None
        delayed = 0.0
        page: int | None = None
        login: dict[str, str] | None = None
        try:
            if name in ("oauth_token", "authentication"):
                sent = self._body_params(body, content_type)
                if name == "authentication":
                    login = login_parameters(
                        method,
                        params,
                        sent,
                        _is_json_body(body, content_type),
                        self.settings.login_forms,
                    )
                params.update(sent)
            fault = self.injector.decide(
                name or "unknown",
                params,
                self.clock(),
                api=name not in (None, "oauth_token", "authentication"),
            )
            delay = self.settings.latency + self.injector.spec.latency_ms / 1000.0
            if fault is not None and fault.kind == "latency":
                delay += float(fault.arg or 250) / 1000.0
            if delay > 0:
                pause = time.perf_counter()
                self.sleeper(delay)
                delayed = time.perf_counter() - pause
            if fault is not None and fault.kind not in DATA_FAULTS:
                response = self._fault_response(fault)
            else:
                response = self._respond(name, version, method, params, authorization, fault, login)
            if name in ENDPOINTS and ENDPOINTS[name].style != "object":
                page = _page_number(params)
        except Exception as exc:  # a simulator bug: answer 500 and keep it for the test to see
            self.errors.append(exc)
            response = Response(
                500, dumps({"error_code": "SIMULATOR_BUG", "error_description": repr(exc)})
            )
        elapsed = time.perf_counter() - started - delayed
        record = RequestRecord(
            method=method,
            path=path,
            params=params,
            auth_kind=auth_kind(authorization),
            status=response.status if response.action == "send" else 0,
            fault=fault.kind if fault is not None else None,
            elapsed_s=elapsed,
            endpoint=name,
            page=page,
        )
        with self._log_lock:
            self.request_log.append(record)
        return response

    @staticmethod
    def _body_params(body: bytes, content_type: str) -> dict[str, str]:
        if not body:
            return {}
        text = body.decode("utf-8", "replace")
        if _is_json_body(body, content_type):
            try:
                data = json.loads(text)
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        return dict(parse_qsl(text, keep_blank_values=True))

    def _route(self, path: str) -> tuple[str | None, str]:
        if path.rstrip("/") == ACCOUNTS_PREFIX + TOKEN_PATH:
            return "oauth_token", ""
        if path in DCAPI_ROUTES:
            return DCAPI_ROUTES[path], ""
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "api" and parts[1] in API_VERSIONS:
            section, leaf = parts[2].lower(), parts[3].lower()
            if (section, leaf) == ("desktop", "authentication"):
                return "authentication", parts[1]
            name = API_ROUTES.get((section, leaf))
            if name is not None:
                spec = ENDPOINTS[name]
                if spec.optional and name not in self.settings.optional_endpoints:
                    return None, parts[1]
                return name, parts[1]
        return None, parts[1] if len(parts) > 1 and parts[1] in API_VERSIONS else "1.4"

    def _respond(
        self,
        name: str | None,
        version: str,
        method: str,
        params: dict[str, str],
        authorization: str | None,
        fault: Fault | None = None,
        login: dict[str, str] | None = None,
    ) -> Response:
        """The answer to one request; ``login`` holds the parameters the login reads (None:
        the login does not serve this method)."""
        if name is None:
            if self.settings.unknown_path == "html":
                return Response(200, LOGIN_PAGE, "text/html;charset=UTF-8")
            return Response(404, NOT_FOUND_PAGE, "text/html;charset=UTF-8")
        if name == "oauth_token":
            if method != "POST":
                return Response(405, b"", "text/plain")
            return Response(
                200, dumps(self.authority.oauth_token(params)), "application/json;charset=UTF-8"
            )
        if name == "authentication":
            if self.settings.auth != "onprem":
                return self._json(
                    error_envelope(
                        "10005", "Login is not enabled on this server", "authentication", version
                    )
                )
            if login is None:
                return Response(405, b"", "text/plain")
            answer = self.authority.login(login, version)
            if answer is None:
                return self._json(
                    error_envelope(
                        "10002", "Invalid username or password", "authentication", version
                    )
                )
            return self._json(answer)
        if method != "GET":
            return Response(405, b"", "text/plain")
        verdict = self.authority.check(authorization)
        if not verdict.ok:
            return self._unauthorised(verdict.reason)
        spec = ENDPOINTS[name]
        try:
            response = self._json(
                self._body(spec, version, params, fault), headers=list(CLOUD_HEADERS)
            )
            if fault is not None and fault.kind == "truncated":
                response.body = response.body[: max(1, len(response.body) // 2)]
            return response
        except BadRequest as exc:
            if spec.style == "dcapi":
                return Response(
                    400,
                    dumps({"error_code": "INVALID_INPUT", "error_description": exc.description}),
                    "application/json;charset=UTF-8",
                )
            return self._json(error_envelope(exc.code, exc.description, spec.message_type, version))

    def _body(
        self, spec: EndpointSpec, version: str, params: dict[str, str], fault: Fault | None = None
    ) -> Record:
        if self.settings.cloud_not_applicable and spec.name in ("dbupdatestatus", "apdtasks"):
            raise BadRequest(NOT_APPLICABLE, "Not applicable for Cloud version")
        if spec.required and not params.get(spec.required):
            raise BadRequest(MISSING_PARAMETER, f"{spec.required} is required")
        if spec.style == "object":
            return object_envelope(
                spec.message_type, self.catalog.object(spec.name, params), version or "1.4"
            )
        if spec.style == "dcapi":
            page, limit = self._dcapi_paging(params)
        else:
            page, limit = self._paging(params)
        listing = self.catalog.listing(spec.name, params)
        offset = (page - 1) * limit
        if fault is not None and fault.kind == "drift":
            offset = max(0, offset - int(fault.arg or 2))
        records = listing.fetch(offset, limit) if limit > 0 else []
        if fault is not None and fault.kind == "emptylist":
            records = []
        stringly = self.settings.stringly
        wire = [wire_record(r, stringly) for r in records]
        if spec.style == "dcapi":
            return dcapi_envelope(spec.list_key or spec.name, wire, page, limit, listing.total)
        return list_envelope(
            spec.message_type,
            spec.list_key or spec.name,
            wire,
            listing.total,
            limit,
            page,
            version or "1.4",
            numbers_as_strings=self.settings.numbers_as_strings,
            response_code=self.settings.response_code,
        )

    def _paging(self, params: dict[str, str]) -> tuple[int, int]:
        page = _positive(params.get("page", "1"), "page", 1)
        default = self.settings.default_page_size
        if self.settings.pagelimit_mode == "fixed" or "pagelimit" not in params:
            return page, default
        limit = _positive(params["pagelimit"], "pagelimit", 0)
        cap = self.settings.page_cap
        return page, min(limit, cap) if cap is not None else limit

    def _dcapi_paging(self, params: dict[str, str]) -> tuple[int, int]:
        page = _positive(params.get("page", "1"), "page", 1)
        if page > 100_000:
            raise BadRequest("INVALID_INPUT", "page must be between 1 and 100000")
        raw = params.get("pageLimit")
        limit = (
            self.settings.dcapi_default_page_limit
            if raw is None
            else _positive(raw, "pageLimit", 1)
        )
        if limit > self.settings.dcapi_max_page_limit:
            raise BadRequest(
                "INVALID_INPUT",
                f"pageLimit must be between 1 and {self.settings.dcapi_max_page_limit}",
            )
        return page, limit

    def _fault_response(self, fault: Fault) -> Response:
        kind = fault.kind
        if kind == "expire":
            self.authority.expire_all()
            return self._unauthorised("token expired")
        if kind == "401":
            return self._unauthorised("token rejected")
        if kind == "429":
            retry = fault.retry_after or fault.arg or "1"
            if retry == "date":
                retry = formatdate(self.wall_clock() + 1, usegmt=True)
            return Response(
                429,
                dumps({"error": "Rate limit exceeded"}),
                "application/json;charset=UTF-8",
                [("Retry-After", retry)],
            )
        if kind == "html":
            headers = [("Retry-After", fault.retry_after)] if fault.retry_after else []
            return Response(200, THROTTLE_PAGE, "text/html;charset=UTF-8", headers)
        if kind == "500":
            return Response(
                500,
                dumps(
                    {
                        "error_code": "INTERNAL_ERROR",
                        "error_description": "dc.rest.api_internal_error",
                    }
                ),
                "application/json;charset=UTF-8",
            )
        if kind in ("502", "503", "504"):
            return Response(int(kind), GATEWAY_PAGES[int(kind)], "text/html;charset=UTF-8")
        if kind == "reset":
            return Response(0, action="reset")
        if kind == "timeout":
            return Response(0, action="stall")
        return Response(200, b"", self.settings.content_type, list(CLOUD_HEADERS))

    def _json(self, body: Record, headers: list[tuple[str, str]] | None = None) -> Response:
        return Response(200, dumps(body), self.settings.content_type, headers or [])

    def _unauthorised(self, reason: str) -> Response:
        if self.settings.auth == "oauth":
            body: Record = {
                "status": "error",
                "error_code": "INVALID_OAUTHTOKEN",
                "error_description": reason,
            }
        else:
            body = {"ErrorCode": "401", "ErrorMsg": reason}
        return Response(
            401,
            dumps(body),
            "application/json;charset=UTF-8",
            [("WWW-Authenticate", "Zoho-oauthtoken" if self.settings.auth == "oauth" else "Token")],
        )

    # --------------------------------------------------------- ground truth ---
    def listing_records(self, name: str, params: dict[str, str]) -> Iterable[Record]:
        """Every record ``name`` serves for ``params``, across all pages, in wire form."""
        spec = ENDPOINTS[name]
        if spec.style == "object":
            yield self.catalog.object(name, params)
            return
        listing = self.catalog.listing(name, params)
        chunk = 1000
        for offset in range(0, listing.total, chunk):
            for record in listing.fetch(offset, chunk):
                yield wire_record(record, self.settings.stringly)

    def listing_total(self, name: str, params: dict[str, str]) -> int:
        """``total`` the server reports for ``name`` with ``params`` (1 for objects)."""
        if ENDPOINTS[name].style == "object":
            return 1
        return self.catalog.listing(name, params).total


def _is_json_body(body: bytes, content_type: str) -> bool:
    return bool(body) and ("json" in content_type or body.lstrip().startswith(b"{"))


def _positive(raw: str, name: str, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("10002", f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise BadRequest("10002", f"{name} must be at least {minimum}, got {value}")
    return value


def _page_number(params: dict[str, str]) -> int | None:
    try:
        return int(params.get("page", "1"))
    except ValueError:
        return None
