"""HTTP plumbing: a stdlib threading server, a small router, request and response values."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from ghsim.simulator import Simulator

logger = logging.getLogger(__name__)


@dataclass
class Request:
    """One incoming request, parsed."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    route: str = ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> dict:
        """The body as a JSON object ({} when empty)."""
        if not self.body.strip():
            return {}
        data = json.loads(self.body)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    def form(self) -> dict[str, str]:
        """The body as a form (or JSON object), first value of each field."""
        content_type = self.header("content-type") or ""
        if "json" in content_type:
            return {key: str(value) for key, value in self.json().items()}
        return {key: values[0] for key, values in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Response:
    """What a handler answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    data: object = None  # the JSON value behind `body`, kept for ETags


def json_response(data, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response, serialised as GitHub does (compact)."""
    body = b"" if data is None and status in (204, 304) else json.dumps(data, separators=(",", ":")).encode()
    return Response(
        status,
        body,
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        data,
    )


def html_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})


def redirect(location: str) -> Response:
    return Response(302, b"", {"Location": location})


Handler = Callable[["Simulator", Request], Response]


@dataclass
class Route:
    method: str
    template: str
    pattern: re.Pattern
    handler: Handler


class Router:
    """Maps `METHOD /path/{param}` templates to handlers."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append(Route(method, template, re.compile(f"^{regex}/?$"), handler))

    def find(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route for a request, its path parameters, and whether the path exists for another method."""
        path_exists = False
        for route in self.routes:
            match = route.pattern.match(path)
            if match:
                if route.method == method:
                    return route, match.groupdict(), True
                path_exists = True
        return None, {}, path_exists


def build_router() -> Router:
    """Every route the simulator serves."""
    from ghsim import control, rest, web

    router = Router()
    control.register(router)
    web.register(router)
    rest.register(router)
    return router


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "GitHub.com"

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        response = self.server.dispatch(request)
        try:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. during a simulated timeout)

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = do_HEAD = _handle

    def log_message(self, format: str, *args) -> None:
        """Quiet: the simulator's own counters say what was requested."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, sim: Simulator, address: tuple[str, int]) -> None:
        self.sim = sim
        self.router = build_router()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop open keep-alive connections: a stopped simulator must not go on answering on them."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def dispatch(self, request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        route, params, path_exists = self.router.find(method, request.path)
        if route is None:
            from ghsim.payloads import error, not_found

            if path_exists:
                return json_response(error("Method Not Allowed", "https://docs.github.com/rest", 405), 405)
            return json_response(not_found(), 404)
        request.params = params
        request.route = f"{method} {route.template}"
        try:
            return route.handler(self.sim, request)
        except Exception:
            logger.exception("ghsim: %s failed", request.route)
            return json_response({"message": "Server Error", "status": "500"}, 500)


def make_server(sim: Simulator, host: str, port: int) -> _Server:
    """A bound (not yet serving) HTTP server for the simulator."""
    return _Server(sim, (host, port))
