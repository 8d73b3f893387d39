"""Helpers for tests (this project's and the app's): a simulator on a free port, and a webhook receiver.

with running_simulator(seed=7) as sim:          # manual mode, own webhook receiver
    token = sim.user_token("alice")
    run = sim.trigger("acme/api", "ci")
    sim.advance(600)                            # runs move on; webhooks are delivered before this returns
    assert sim.receiver.events()[0] == ("workflow_run", "requested")
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ghsim.simulator import Simulator


@dataclass
class Received:
    """One webhook delivery as the receiver saw it."""

    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> str:
        return self.headers.get("x-github-event", "")

    @property
    def guid(self) -> str:
        return self.headers.get("x-github-delivery", "")

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    @property
    def action(self) -> str | None:
        return self.payload.get("action")


class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1 that records deliveries and answers with `status` (settable)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.status
                    receiver._arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._serve, daemon=True, name="ghsim-receiver")

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhooks/github"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Block until at least `count` deliveries have arrived (or the timeout passes); whether they did."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)

    def events(self) -> list[tuple[str, str | None]]:
        """(event, action) of every delivery received, in order."""
        with self._lock:
            return [(item.event, item.action) for item in self.received]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()


@contextmanager
def receiving_webhooks(status: int = 200) -> Iterator[WebhookReceiver]:
    """A running WebhookReceiver, stopped on exit."""
    receiver = WebhookReceiver(status).start()
    try:
        yield receiver
    finally:
        receiver.stop()


@contextmanager
def running_simulator(**options) -> Iterator[Simulator]:
    """A started Simulator on a free 127.0.0.1 port, in manual mode unless told otherwise.

    Options are `ghsim.config.Config` fields. Without `webhook_url`, deliveries go to a WebhookReceiver of its
    own, available as `sim.receiver`. Defaults for tests: no run spawning (`run_interval=0`, so only
    `sim.trigger()` starts runs) and no start-up `ping`; pass `run_interval=40`, `ping=True` to get them.
    """
    options = {"mode": "manual", "port": 0, "run_interval": 0, "ping": False, **options}
    receiver = None
    if "webhook_url" not in options:
        receiver = WebhookReceiver().start()
        options["webhook_url"] = receiver.url
    sim = Simulator(**options)
    sim.receiver = receiver
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
        if receiver is not None:
            receiver.stop()
