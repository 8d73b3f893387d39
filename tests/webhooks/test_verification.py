"""Everything that is not a genuine delivery is refused with the right 4xx, before it can change anything."""

import json
import logging

import pytest

from dashboard.lib.dynamo import table_models
from tests.webhooks.conftest import github_file, sign
from webhooks.verify import MAX_BODY_BYTES, signature_is_valid

RUN = json.dumps({"action": "completed", "workflow_run": {"id": 1}}).encode()


def _nothing_stored():
    return all(model.count() == 0 for model in table_models())


def test_it_reproduces_githubs_signature_test_vector():
    vector = json.loads(github_file("signature-test-vector.json").read_text())

    assert signature_is_valid(vector["payload"].encode(), vector["x_hub_signature_256"], [vector["secret"]])
    assert not signature_is_valid(vector["payload"].encode(), vector["x_hub_signature_256"], ["another"])


@pytest.mark.parametrize("missing", ["HTTP_X_GITHUB_EVENT", "HTTP_X_GITHUB_DELIVERY", "HTTP_X_HUB_SIGNATURE_256"])
def test_it_refuses_a_delivery_missing_a_header(client, dynamodb, settings, missing):
    headers = {
        "HTTP_X_GITHUB_EVENT": "workflow_run",
        "HTTP_X_GITHUB_DELIVERY": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "HTTP_X_HUB_SIGNATURE_256": sign(RUN, settings.GITHUB_WEBHOOK_SECRET),
    }
    del headers[missing]

    response = client.post("/webhooks/github", RUN, content_type="application/json", **headers)

    assert response.status_code == 400
    assert _nothing_stored()


def test_it_refuses_a_form_encoded_delivery(deliver, dynamodb):
    response = deliver("workflow_run", RUN, CONTENT_TYPE="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert _nothing_stored()


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_it_answers_only_post(client, dynamodb, method):
    assert getattr(client, method)("/webhooks/github").status_code == 405


def _bad_signatures(secret):
    good = sign(RUN, secret)
    digest = good.removeprefix("sha256=")
    return {
        "no prefix": digest,
        "sha1": "sha1=" + digest[:40],
        "63 hex digits": good[:-1],
        "65 hex digits": good + "0",
        "upper case": "sha256=" + digest.upper(),
        "wrong secret": sign(RUN, "not the secret"),
        "empty": "sha256=",
    }


@pytest.mark.parametrize(
    "kind", ["no prefix", "sha1", "63 hex digits", "65 hex digits", "upper case", "wrong secret", "empty"]
)
def test_it_refuses_a_bad_signature(deliver, dynamodb, settings, kind):
    response = deliver(
        "workflow_run", RUN, HTTP_X_HUB_SIGNATURE_256=_bad_signatures(settings.GITHUB_WEBHOOK_SECRET)[kind]
    )

    assert response.status_code == 401
    assert _nothing_stored()


def test_it_refuses_a_valid_signature_over_a_reserialized_body(client, dynamodb, settings):
    original = b'{"action": "completed",  "workflow_run": {"id": 1}}'
    reserialized = json.dumps(json.loads(original)).encode()

    response = client.post(
        "/webhooks/github",
        reserialized,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="workflow_run",
        HTTP_X_GITHUB_DELIVERY="72d3162e-cc78-11e3-81ab-4c9367dc0958",
        HTTP_X_HUB_SIGNATURE_256=sign(original, settings.GITHUB_WEBHOOK_SECRET),
    )

    assert response.status_code == 401
    assert _nothing_stored()


def test_it_accepts_the_previous_secret_while_it_is_rotated(deliver, dynamodb, settings):
    settings.GITHUB_WEBHOOK_SECRET_PREVIOUS = "the old secret"

    assert deliver("ping", {"zen": "Keep it logically awesome."}, secret="the old secret").status_code == 200
    settings.GITHUB_WEBHOOK_SECRET_PREVIOUS = ""
    assert deliver("ping", {"zen": "Keep it logically awesome."}, secret="the old secret").status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'{"a":' * 100 + b"1" + b"}" * 100, "nested too deeply"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
    ids=["invalid", "non-utf8", "not-an-object", "deep", "very-deep"],
)
def test_it_refuses_a_malformed_body(deliver, dynamodb, body, message):
    response = deliver("workflow_run", body)

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert _nothing_stored()


def test_it_refuses_an_oversize_body_before_reading_it(deliver, dynamodb):
    body = b'{"padding": "' + b"x" * MAX_BODY_BYTES + b'"}'

    response = deliver("workflow_run", body)

    assert response.status_code == 413
    assert _nothing_stored()


def test_it_answers_and_ignores_an_unknown_event(deliver, dynamodb):
    response = deliver("star", {"action": "created"})

    assert response.status_code == 202
    assert response.json()["outcome"] == "ignored"
    assert _nothing_stored()


def test_it_refuses_a_signed_payload_without_the_events_shape(deliver, dynamodb):
    response = deliver("workflow_run", {"action": "completed", "workflow_run": {"id": 1}})

    assert response.status_code == 400
    assert _nothing_stored()


def test_it_logs_no_header_and_no_body(deliver, dynamodb, caplog, settings):
    caplog.set_level(logging.INFO)
    marker = "a-distinctive-value-in-the-body"

    deliver("workflow_run", {"action": "completed", "marker": marker})
    deliver("workflow_run", {"marker": marker}, HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64)

    assert marker not in caplog.text
    assert settings.GITHUB_WEBHOOK_SECRET not in caplog.text
    assert "sha256=" not in caplog.text
