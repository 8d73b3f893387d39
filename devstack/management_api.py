"""A local stand-in for API Gateway's Management API: the `@connections` routes a WebSocket backend calls.

It answers botocore's `apigatewaymanagementapi` client (PostToConnection, GetConnection, DeleteConnection) as AWS
does, and records what was posted, so tests and benchmarks can drive `realtime/gateway.py` without AWS.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html

    with ManagementApiStandIn() as api:
        api.connect("L0SM9cOFvHcCIhw=")
        client = session.create_client("apigatewaymanagementapi", endpoint_url=api.endpoint, ...)
        client.post_to_connection(ConnectionId="L0SM9cOFvHcCIhw=", Data=b"hello")
        assert api.messages("L0SM9cOFvHcCIhw=") == [b"hello"]

Not reproduced: signatures are not verified (only their presence), nor IAM, throttling (429
LimitExceededException), or the sockets themselves.
"""

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import unquote, urlsplit

HOST = "127.0.0.1"
# "Message payload size: 128 KB", not adjustable; botocore's model gives PostToConnection's Data a max of 131072.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
MESSAGE_LIMIT = 128 * 1024


@dataclass
class _Connection:
    source_ip: str
    user_agent: str
    connected_at: datetime
    messages: list[bytes] = field(default_factory=list)
    gone: bool = False
    throttled: bool = False


@dataclass(frozen=True)
class _Answer:
    status: int
    error_type: str | None = None
    body: bytes = b""


# API Gateway answers a request that is unsigned, or matches no route, with 403 and this error type.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
# https://repost.aws/knowledge-center/api-gateway-authentication-token-errors
MISSING_TOKEN = _Answer(403, "MissingAuthenticationTokenException", b'{"message":"Missing Authentication Token"}')
# A gone connection gets 410 with no body: the SDKs see the error type only (aws/aws-sdk-java#2200 reports a null
# message, georgeboot/laravel-echo-api-gateway#9 a body that is not JSON). botocore reads the type from the header.
GONE = _Answer(410, "GoneException")
# API Gateway's throttling of the Management API (account-wide request quota); the model's LimitExceededException.
THROTTLED = _Answer(429, "LimitExceededException", b'{"message":"Too Many Requests"}')
# The model gives this error a `message`; AWS's own text is not published, so this one is ours.
TOO_LARGE = _Answer(413, "PayloadTooLargeException", b'{"message":"Message too long"}')


def _iso8601(moment: datetime) -> str:
    """AWS's form of a timestamp: UTC, milliseconds, `Z` (`2020-04-30T20:10:33.236Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ManagementApiStandIn:
    """The Management API of one WebSocket API stage, on a free port of 127.0.0.1; a context manager."""

    def __init__(self, *, stage: str = "local", delay_seconds: float = 0.0) -> None:
        self.stage = stage
        self.delay_seconds = delay_seconds  # each post waits this long first, as for API Gateway's round trip
        self._lock = threading.Lock()
        self._connections: dict[str, _Connection] = {}
        self._posts = 0
        self._statuses: Counter[int] = Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._server = ThreadingHTTPServer((HOST, 0), _handler_for(self))
        self._server.daemon_threads = True
        # Polled every 50 ms rather than the default 500 ms, so that stopping (once per test) is quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="management-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    @property
    def endpoint(self) -> str:
        """botocore's `endpoint_url`, shaped as AWS's `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`."""
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        return f"http://{HOST}:{self._server.server_address[1]}/{self.stage}"

    def connect(self, connection_id: str, *, source_ip: str = "127.0.0.1", user_agent: str = "stand-in") -> None:
        """A client connects (as on `$connect`): posts to it are recorded from now on."""
        with self._lock:
            self._connections[connection_id] = _Connection(source_ip, user_agent, datetime.now(UTC))

    def gone(self, connection_id: str) -> None:
        """The client went away without `$disconnect` being seen: later calls for it are answered 410."""
        with self._lock:
            if connection := self._connections.get(connection_id):
                connection.gone = True

    def throttle(self, connection_id: str) -> None:
        """Posts to this connection are refused as throttled (429), however often they are tried."""
        with self._lock:
            if connection := self._connections.get(connection_id):
                connection.throttled = True

    def messages(self, connection_id: str) -> list[bytes]:
        """What was posted to a connection, in arrival order (none for one never connected)."""
        with self._lock:
            connection = self._connections.get(connection_id)
            return list(connection.messages) if connection else []

    @property
    def posts(self) -> int:
        """How many posts were answered, whatever the answer."""
        with self._lock:
            return self._posts

    @property
    def statuses(self) -> Counter[int]:
        """How many posts were answered with each status (200, 410, 413, 429, 403)."""
        with self._lock:
            return Counter(self._statuses)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """The answer to one request, counted if it is a post."""
        if method == "POST" and self.delay_seconds:
            time.sleep(self.delay_seconds)
        with self._lock:
            answer = self._answer(method, path, headers, body)
            if method == "POST":
                self._posts += 1
                self._statuses[answer.status] += 1
        return answer

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        connection_id = self._route(path)
        if connection_id is None or "authorization" not in headers:
            return MISSING_TOKEN
        if method == "POST" and len(body) > MESSAGE_LIMIT:
            return TOO_LARGE
        connection = self._connections.get(connection_id)
        if connection is None or connection.gone:
            return GONE
        if method == "POST" and connection.throttled:
            return THROTTLED
        if method == "POST":
            connection.messages.append(body)
            return _Answer(200)
        if method == "DELETE":
            connection.gone = True
            return _Answer(204)
        return _Answer(200, body=json.dumps(self._description(connection)).encode())

    def _route(self, path: str) -> str | None:
        """The connection id of `/{stage}/@connections/{connectionId}`, each part URL-decoded; None for any other."""
        parts = [unquote(part) for part in urlsplit(path).path.split("/")]
        if len(parts) == 4 and parts[:3] == ["", self.stage, "@connections"] and parts[3]:
            return parts[3]
        return None

    @staticmethod
    def _description(connection: _Connection) -> dict[str, object]:
        """GetConnection's body. No client frames are modelled, so the connection was last active when it opened."""
        identity = {"sourceIp": connection.source_ip, "userAgent": connection.user_agent}
        at = _iso8601(connection.connected_at)
        return {"connectedAt": at, "identity": identity, "lastActiveAt": at}


def _handler_for(standin: ManagementApiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # botocore keeps its connections open between calls

        def do_POST(self) -> None:
            self._respond()

        def do_GET(self) -> None:
            self._respond()

        def do_DELETE(self) -> None:
            self._respond()

        def _respond(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = standin._handle(self.command, self.path, headers, body)
            self.send_response(answer.status)
            if answer.error_type:
                self.send_header("x-amzn-ErrorType", answer.error_type)
            if answer.body:
                self.send_header("Content-Type", "application/json")
            if answer.status != 204:  # a 204 carries no Content-Length (RFC 9110, 8.6)
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: a benchmark posts thousands

    return Handler
