"""Webhook signing and delivery headers, as GitHub sends them."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from ghsim.hooks import signature_1, signature_256
from tests.fixtures import github_fixture


def test_it_reproduces_githubs_signature_test_vector():
    vector = json.loads(github_fixture("webhooks/signature-test-vector.json").read_text())
    signature = signature_256(vector["secret"], vector["payload"].encode())
    assert signature == vector["x_hub_signature_256"]
    assert signature == f"sha256={vector['signature']}"


def test_it_signs_the_exact_body_it_sends_with_both_signatures(sim):
    sim.trigger("acme/api", "ci")
    delivery = sim.receiver.received[0]
    secret = sim.config.webhook_secret.encode()
    assert (
        delivery.headers["x-hub-signature-256"]
        == "sha256=" + hmac.new(secret, delivery.body, hashlib.sha256).hexdigest()
    )
    assert delivery.headers["x-hub-signature"] == signature_1(sim.config.webhook_secret, delivery.body)


def test_it_sends_githubs_delivery_headers(sim):
    sim.trigger("acme/api", "ci")
    headers = sim.receiver.received[0].headers
    assert headers["x-github-event"] == "workflow_run"
    assert uuid.UUID(headers["x-github-delivery"]).version == 4
    assert headers["x-github-hook-id"] == str(sim.config.hook_id)
    assert headers["x-github-hook-installation-target-type"] == "integration"
    assert headers["x-github-hook-installation-target-id"] == str(sim.config.app_id)
    assert headers["user-agent"].startswith("GitHub-Hookshot/")
    assert headers["content-type"] == "application/json"


def test_it_records_each_delivery_as_the_deliveries_api_shows_it(sim):
    sim.trigger("acme/api", "ci")
    logged = sim.deliveries()[0]
    summary = logged.summary()
    assert summary["status"] == "OK"
    assert summary["status_code"] == 200
    assert summary["redelivery"] is False
    assert summary["guid"] == sim.receiver.received[0].guid
    assert summary["installation_id"] == 70001
    assert (summary["event"], summary["action"]) == ("workflow_run", "requested")


def test_it_records_a_failing_endpoint_with_githubs_status_text(sim):
    sim.receiver.status = 503
    sim.trigger("acme/api", "ci")
    assert sim.deliveries()[0].summary()["status"] == "Invalid HTTP Response: 503"


def test_it_sends_no_webhooks_for_repositories_outside_the_installation(sim):
    sim.trigger("globex/legacy", "ci")
    sim.advance(600)
    assert sim.receiver.received == []


def test_it_pings_when_the_hook_starts():
    from ghsim.testing import running_simulator

    with running_simulator(ping=True) as sim:
        sim.flush()
        ping = sim.receiver.received[0]
    assert ping.event == "ping"
    assert ping.payload["hook"]["app_id"] == sim.config.app_id
    assert ping.payload["hook"]["config"]["url"] == sim.receiver.url
