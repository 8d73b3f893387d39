"""What the receiver tells operators: deliveries processed with their lag, refused, or failed."""

import logging

import pytest

from tests.webhooks.conftest import github_payload


@pytest.fixture
def emitted(caplog):
    caplog.set_level(logging.INFO, logger="dashboard.lib.metrics")
    return lambda: [record.emf for record in caplog.records if hasattr(record, "emf")]


def test_an_applied_delivery_reports_its_lag_behind_github(deliver, dynamodb, emitted):
    deliver("workflow_run", github_payload("workflow_run.requested.json"))
    deliver("workflow_run", github_payload("workflow_run.requested.json"), delivery_id="dup")
    deliver("workflow_run", github_payload("workflow_run.requested.json"), delivery_id="dup")

    first, *later = emitted()
    assert (first["WebhookProcessed"], first["event"], first["outcome"]) == (1, "workflow_run", "applied")
    assert first["WebhookLag"] > 0  # GitHub's example payload changed long ago
    assert [(document["outcome"], "WebhookLag" in document) for document in later] == [
        ("stale", False),
        ("duplicate", False),
    ]


def test_a_refused_delivery_is_counted_and_nothing_more(deliver, emitted):
    response = deliver("ping", {"zen": "Design for failure."}, secret="not-the-secret")

    assert response.status_code == 401
    assert [(document.get("WebhookRefused"), document["status"]) for document in emitted()] == [(1, 401)]


def test_a_delivery_that_fails_is_counted_as_failed(deliver, dynamodb, emitted, monkeypatch):
    def broken(delivery):
        raise RuntimeError("DynamoDB went away")

    monkeypatch.setattr("webhooks.views.handle", broken)

    with pytest.raises(RuntimeError):
        deliver("ping", {"zen": "Keep it logically awesome."})

    assert [(document.get("WebhookFailed"), document["reason"]) for document in emitted()] == [(1, "RuntimeError")]
