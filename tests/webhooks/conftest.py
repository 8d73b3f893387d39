import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest

from tests.fixtures import github_fixture


def github_payload(name: str) -> bytes:
    """One of GitHub's own webhook payloads (tests/fixtures/github/webhooks/); a missing one fails the test."""
    return github_fixture(f"webhooks/{name}").read_bytes()


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def deliver(client, settings):
    """POST a delivery as GitHub does: signed with the webhook secret, with GitHub's headers."""

    def post(event: str, body: bytes | dict, *, delivery_id: str | None = None, secret: str | None = None, **headers):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        extra = {
            "HTTP_X_GITHUB_EVENT": event,
            "HTTP_X_GITHUB_DELIVERY": delivery_id or str(uuid.uuid4()),
            "HTTP_X_HUB_SIGNATURE_256": sign(raw, secret or settings.GITHUB_WEBHOOK_SECRET),
            "HTTP_USER_AGENT": "GitHub-Hookshot/5b1e6d2",
            **headers,
        }
        return client.post("/webhooks/github", raw, content_type="application/json", **extra)

    return post


def github_file(name: str) -> Path:
    """A file of tests/fixtures/github/webhooks/ (such as GitHub's signature test vector); a missing one fails."""
    return github_fixture(f"webhooks/{name}")
