"""Webhook deliveries: signing, the delivery queue with its faults, sending, and the deliveries log.

GitHub's behaviour reproduced here: https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers
and https://docs.github.com/en/rest/apps/webhooks (the app's deliveries API).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from ghsim.clock import SimClock, iso
from ghsim.faults import Faults

USER_AGENT = "GitHub-Hookshot/5b1e6d2"
DELIVERY_TIMEOUT = 10.0  # GitHub gives up on a delivery after 10 seconds
DROPPED = "failed to connect to host"


def signature_256(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value: HMAC-SHA256 hex digest of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_1(secret: str, body: bytes) -> str:
    """The legacy `X-Hub-Signature` value (HMAC-SHA1), still sent for compatibility."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


@dataclass
class Hook:
    """The app's one webhook: where it posts and with which secret."""

    id: int
    url: str
    secret: str
    active: bool = True


@dataclass
class Delivery:
    """One attempt to deliver one event; a redelivery or a duplicate keeps the event's GUID."""

    id: int
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    body: bytes
    due: float
    seq: int
    redelivery: bool = False
    dropped: bool = False
    delivered_at: float | None = None
    status: str = "pending"
    status_code: int = 0
    duration: float = 0.0
    url: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    def summary(self) -> dict:
        """The item shape of `GET /app/hook/deliveries`."""
        return {
            "id": self.id,
            "guid": self.guid,
            "delivered_at": iso(self.delivered_at or self.due),
            "redelivery": self.redelivery,
            "duration": round(self.duration, 2),
            "status": self.status,
            "status_code": self.status_code,
            "event": self.event,
            "action": self.action,
            "installation_id": self.installation_id,
            "repository_id": self.repository_id,
            "throttled_at": None,
        }

    def detail(self) -> dict:
        """The shape of `GET /app/hook/deliveries/{id}`, with the request and response."""
        return {
            **self.summary(),
            "url": self.url,
            "request": {"headers": dict(self.request_headers), "payload": self.payload},
            "response": {"headers": dict(self.response_headers), "payload": self.response_body or None},
        }


class Dispatcher:
    """Queues signed deliveries, applies the webhook faults, sends them, and keeps the log GitHub shows."""

    def __init__(self, *, clock: SimClock, rng: random.Random, faults: Faults, hook: Hook, app_id: int, lock) -> None:
        self.clock = clock
        self.rng = rng
        self.faults = faults
        self.hook = hook
        self.app_id = app_id
        self.lock = lock
        self.pending: list[Delivery] = []
        self.log: list[Delivery] = []
        self.enabled = True
        self._next_id = 80_000_000_000
        self._seq = 0
        self._send_lock = threading.Lock()
        self._session = requests.Session()

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def enqueue(self, event: str, payload: dict, *, installation_id: int | None, repository_id: int | None) -> None:
        """Queue one event for delivery (call under the simulator lock); decides its faults now, from the seed."""
        if not self.enabled or not self.hook.active:
            return
        now = self.clock.now()
        window = self.faults.reorder_window
        delay = self.rng.uniform(0, window) if window else 0.0
        delivery = Delivery(
            id=0,
            guid=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            event=event,
            action=payload.get("action"),
            installation_id=installation_id,
            repository_id=repository_id,
            body=json.dumps(payload, separators=(",", ":")).encode(),
            due=now + delay,
            seq=self._next_seq(),
            dropped=self.rng.random() < self.faults.drop_rate,
        )
        self.pending.append(delivery)
        if self.rng.random() < self.faults.duplicate_rate:
            again = self.rng.uniform(0, max(window, 1.0))
            self.pending.append(self._copy(delivery, due=delivery.due + again, redelivery=False))

    def redeliver(self, delivery_id: int) -> Delivery | None:
        """Queue a redelivery of a logged delivery, now, with the same GUID and `redelivery: true`."""
        original = next((item for item in self.log if item.id == delivery_id), None)
        if original is None:
            return None
        copy = self._copy(original, due=self.clock.now(), redelivery=True)
        self.pending.append(copy)
        return copy

    def _copy(self, original: Delivery, *, due: float, redelivery: bool) -> Delivery:
        return Delivery(
            id=0,
            guid=original.guid,
            event=original.event,
            action=original.action,
            installation_id=original.installation_id,
            repository_id=original.repository_id,
            body=original.body,
            due=due,
            seq=self._next_seq(),
            redelivery=redelivery,
        )

    def take_due(self, now: float) -> list[Delivery]:
        """Remove and return the deliveries due by `now`, in due order (call under the simulator lock)."""
        due = sorted((item for item in self.pending if item.due <= now), key=lambda item: (item.due, item.seq))
        taken = {id(item) for item in due}
        self.pending = [item for item in self.pending if id(item) not in taken]
        for item in due:
            item.id = self._new_id()
        return due

    def flush(self, now: float | None = None) -> list[Delivery]:
        """Send every delivery due by `now` (default: the clock), in order, outside the simulator lock."""
        with self._send_lock:
            with self.lock:
                batch = self.take_due(self.clock.now() if now is None else now)
            for delivery in batch:
                self.send(delivery)
            return batch

    def send(self, delivery: Delivery) -> None:
        """Post one delivery (unless a fault stops it) and log the outcome."""
        headers = self._headers(delivery)
        delivery.url = self.hook.url
        delivery.request_headers = headers
        delivery.delivered_at = delivery.due
        if delivery.dropped or self.faults.in_outage(delivery.due):
            delivery.status, delivery.status_code = DROPPED, 0
        else:
            self._post(delivery, headers)
        with self.lock:
            self.log.append(delivery)

    def _post(self, delivery: Delivery, headers: dict[str, str]) -> None:
        started = time.monotonic()
        try:
            response = self._session.post(self.hook.url, data=delivery.body, headers=headers, timeout=DELIVERY_TIMEOUT)
        except requests.Timeout:
            delivery.status, delivery.status_code = "timed out", 0
        except requests.RequestException:
            delivery.status, delivery.status_code = DROPPED, 0
        else:
            delivery.status_code = response.status_code
            delivery.status = "OK" if response.ok else f"Invalid HTTP Response: {response.status_code}"
            delivery.response_headers = dict(response.headers)
            delivery.response_body = response.text[:4096]
        delivery.duration = time.monotonic() - started

    def _headers(self, delivery: Delivery) -> dict[str, str]:
        return {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Delivery": delivery.guid,
            "X-GitHub-Event": delivery.event,
            "X-GitHub-Hook-ID": str(self.hook.id),
            "X-GitHub-Hook-Installation-Target-ID": str(self.app_id),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-Hub-Signature": signature_1(self.hook.secret, delivery.body),
            "X-Hub-Signature-256": signature_256(self.hook.secret, delivery.body),
        }

    def close(self) -> None:
        """Release the HTTP session."""
        self._session.close()
