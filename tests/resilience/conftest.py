"""Faults the real local servers cannot be made to produce, and what the resilience cases share.

DynamoDB Local never throttles and never hangs, so those two faults are made here: throttling by answering a
share of the shared botocore client's calls with DynamoDB's own throttling errors (a botocore event hook, so
PynamoDB and the app's direct calls see exactly what DynamoDB would send once botocore's retries are spent),
and hanging with a TCP proxy in front of DynamoDB Local that stops answering while the client keeps its real
timeouts. Everything else (GitHub's faults, lost deliveries) is the simulator's. The checks the cases end with
(cache, summaries and announcements against GitHub's truth) are tests/webhooks/test_storms.py's.
"""

import contextlib
import json
import random
import socket
import threading
from collections import Counter
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import AWSResponse
from django.test import Client

from dashboard.lib import dynamo
from tests.plugins.github import sign_in
from tests.realtime.test_lambda_ws import lambda_ws  # noqa: F401  (a fixture for test_dead_sockets)

# What each of the simulator's cast may see through the App (ghsim/README.md).
VISIBLE = {
    "alice": {"acme/storefront", "acme/api", "acme/payroll", "globex/engine", "globex/data-pipeline"},
    "bob": {"acme/storefront", "acme/api"},
    "dana": {"globex/engine", "globex/data-pipeline", "globex/skunkworks"},
}
USER_IDS = {"alice": 1001, "bob": 1002, "charlie": 1003, "dana": 1004}


@pytest.fixture
def hooked(github_sim, live_app, settings):
    """The simulator delivering its webhooks to the live app, with the app's secret."""
    github_sim.set_hook(url=f"{live_app}/webhooks/github", secret=settings.GITHUB_WEBHOOK_SECRET)
    return github_sim


def signed_in(login: str) -> Client:
    """A browser signed in as `login` that has viewed the overview once (visibility kept, repositories loaded)."""
    browser = Client()
    sign_in(browser, login)
    assert browser.get("/api/repos").status_code == 200
    return browser


def assert_sees_only_their_own(login: str, body: dict) -> None:
    """A /api/repos answer names only repositories this user may see."""
    shown = {repo["full_name"] for repo in body["repos"]}
    assert shown <= VISIBLE[login], f"{login} was shown {sorted(shown - VISIBLE[login])}"


# --- DynamoDB throttling --------------------------------------------------------------------------------------

THROTTLE_CODES = ("ProvisionedThroughputExceededException", "ThrottlingException")


class DynamoDBThrottling:
    """Answers a share of the shared client's DynamoDB calls as DynamoDB does when it throttles.

    The answer is made at botocore's `before-call` event, after which botocore raises it as it would raise
    DynamoDB's own answer once its retries were spent. A transaction is cancelled with `ThrottlingError`, as
    DynamoDB cancels one whose item was throttled.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
    """

    def __init__(self, client, *, seed: int):
        self._client = client
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.share = 0.0
        self.operations: set[str] | None = None  # None: every operation
        self.throttled: Counter = Counter()
        self.calls: Counter = Counter()

    def __enter__(self):
        self._client.meta.events.register_first("before-call.dynamodb.*", self._answer)
        return self

    def __exit__(self, *exc):
        self._client.meta.events.unregister("before-call.dynamodb.*", self._answer)

    def set(self, share: float, *, operations: set[str] | None = None) -> None:
        with self._lock:
            self.share, self.operations = share, operations

    def _answer(self, model, params, **kwargs):
        with self._lock:
            self.calls[model.name] += 1
            wanted = self.operations is None or model.name in self.operations
            if not wanted or self._rng.random() >= self.share:
                return None
            self.throttled[model.name] += 1
            code = self._rng.choice(THROTTLE_CODES)
        error = {"Code": code, "Message": "Rate of requests exceeds the allowed throughput."}
        parsed = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}}}
        if model.name == "TransactWriteItems":
            items = json.loads(params["body"])["TransactItems"]  # the request as botocore serialized it
            parsed["Error"] = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
            parsed["CancellationReasons"] = [{"Code": "ThrottlingError", "Message": error["Message"]}] + [
                {"Code": "None"} for _ in items[1:]
            ]
        return AWSResponse(self._client.meta.endpoint_url, 400, {}, None), parsed


@pytest.fixture
def dynamodb_throttling(dynamodb):
    """Switch on with `.set(share)`: that share of DynamoDB calls is throttled (seeded, so runs repeat)."""
    with DynamoDBThrottling(dynamo.shared_client(), seed=11) as throttling:
        yield throttling


# --- DynamoDB hanging -----------------------------------------------------------------------------------------


class StallingProxy:
    """A TCP proxy in front of DynamoDB Local that can stop answering.

    `pass`: both directions forwarded. `hang`: requests are read and dropped, nothing is answered (DynamoDB
    unreachable behind an open connection). `lose-answers`: requests reach DynamoDB and are carried out, but
    the answers are dropped (the write happened; the client cannot know).
    """

    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname, parts.port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.mode = "pass"
        self.requests: Counter = Counter()  # HTTP requests seen, by the mode they met
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name="dynamodb-proxy").start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, requests: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                break
            if not data:
                break
            mode = self.mode
            if requests:
                with self._lock:
                    self.requests[mode] += data.count(b"POST / HTTP/1.1")
                if mode == "hang":
                    continue
            elif mode != "pass":
                continue
            try:
                target.sendall(data)
            except OSError:
                break
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.mode = "pass"
        self._listener.close()
        with self._lock:
            for end in self._sockets:
                with contextlib.suppress(OSError):
                    end.close()


@contextlib.contextmanager
def shared_client_replaced(client):
    """Every table's connection, and every later `shared_client()`, use `client` instead of the real one."""
    from dashboard.lib.dynamo import table_models

    connections = [model._get_connection().connection for model in table_models()]
    real = dynamo.shared_client()
    for connection in connections:
        connection._client = client
    dynamo._client = client
    try:
        yield client
    finally:
        for connection in connections:
            connection._client = real
        dynamo._client = real


@pytest.fixture
def dynamodb_proxy(dynamodb, settings, monkeypatch):
    """The app's DynamoDB client, built as in production (timeouts and retries from settings), through a proxy."""
    proxy = StallingProxy(settings.DYNAMODB_ENDPOINT_URL)
    real = dynamo.shared_client()
    monkeypatch.setattr(dynamo.TableMeta, "host", proxy.url)
    monkeypatch.setattr(dynamo, "_client", None)
    proxied = dynamo.shared_client()  # the production code path, with the proxy as the endpoint
    monkeypatch.setattr(dynamo, "_client", real)
    with shared_client_replaced(proxied):
        yield proxy
    proxy.close()


@pytest.fixture
def quick_backoff(monkeypatch):
    """GitHub reads retried after 10 ms rather than 250 ms and 500 ms: the same attempts, sooner."""
    from dashboard.lib import github

    monkeypatch.setattr(github.transport, "BACKOFF_SECONDS", 0.005)


def json_of(response) -> dict:
    return json.loads(response.content)
