"""Checking a delivery before anything else is done with it: size, headers, content type, signature.

The signature is HMAC-SHA256 of the raw body under the webhook secret, compared in constant time, before any
parsing or any DynamoDB call. https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
"""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass

# Lambda refuses synchronous payloads over 6 MB; a larger delivery is left to reconciliation.
MAX_BODY_BYTES = 6 * 1000 * 1000
# GitHub's payloads nest a few levels deep; anything far deeper is not GitHub's.
MAX_DEPTH = 64
SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
DELIVERY_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
EVENT_NAME = re.compile(r"[a-z_]{1,64}")


class Refused(Exception):
    """A delivery refused before it is trusted, with the status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Delivery:
    """A verified, parsed delivery."""

    delivery_id: str
    event: str
    payload: dict

    @property
    def action(self) -> str | None:
        action = self.payload.get("action")
        return action if isinstance(action, str) else None


def required_headers(headers) -> tuple[str, str, str]:
    """The event name, delivery id and signature; 400 if one is missing or malformed."""
    values = []
    for name, pattern in (
        ("X-GitHub-Event", EVENT_NAME),
        ("X-GitHub-Delivery", DELIVERY_ID),
        ("X-Hub-Signature-256", None),
    ):
        value = headers.get(name)
        if not value:
            raise Refused(400, f"Missing {name} header.")
        if pattern is not None and not pattern.fullmatch(value):
            raise Refused(400, f"Malformed {name} header.")
        values.append(value)
    return values[0], values[1], values[2]


def content_type_is_json(content_type: str | None) -> None:
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise Refused(415, "Deliveries must be application/json (set the webhook's content type to JSON).")


def signature_is_valid(body: bytes, signature: str, secrets: list[str]) -> bool:
    """Whether `signature` is `sha256=<hex>` of the body under any of the secrets, compared in constant time."""
    if not SIGNATURE.fullmatch(signature):
        return False
    valid = False
    for secret in secrets:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        valid |= hmac.compare_digest(expected, signature)  # every secret is tried: no early exit to time
    return valid


def _depth(value, limit: int) -> int:
    stack, deepest = [(value, 1)], 1
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def parse(body: bytes) -> dict:
    """The payload: UTF-8 JSON, an object, not absurdly deep; 400 otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "The body is not UTF-8.") from None
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, "The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise Refused(400, "The body is not a JSON object.")
    if _depth(payload, MAX_DEPTH) > MAX_DEPTH:
        raise Refused(400, "The body is nested too deeply.")
    return payload


def verified_delivery(*, headers, content_type: str | None, body: bytes, secrets: list[str]) -> Delivery:
    """Every check, in order: headers, content type, signature, then (only then) parsing."""
    event, delivery_id, signature = required_headers(headers)
    content_type_is_json(content_type)
    if not signature_is_valid(body, signature, secrets):
        raise Refused(401, "The signature does not match.")
    return Delivery(delivery_id=delivery_id, event=event, payload=parse(body))
