"""Deployed stages log one JSON object per line, with nothing secret in it."""

import json
import logging
import sys

import pytest

from dashboard.lib.logs import MASK, JsonFormatter, redact
from tests.conftest import PRODUCTION_ENV


def _line(message, *args, exc_info=None, **extra):
    record = logging.LogRecord("webhooks.views", logging.INFO, __file__, 1, message, args, exc_info)
    for name, value in extra.items():
        setattr(record, name, value)
    return json.loads(JsonFormatter().format(record))


def test_it_writes_one_json_object_per_record():
    entry = _line("webhook %s %s: %s", "workflow_run", "72d3162e", "applied", outcome="applied", status_code=200)

    assert entry["message"] == "webhook workflow_run 72d3162e: applied"
    assert (entry["level"], entry["logger"], entry["outcome"], entry["status_code"]) == (
        "INFO",
        "webhooks.views",
        "applied",
        200,
    )
    assert entry["time"].endswith("+00:00")


@pytest.mark.parametrize(
    "secret",
    [
        "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
        "ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2lnbmF0dXJl",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "/auth/callback?code=4a2b9c1d8e7f6a5b&state=xyz",
    ],
)
def test_it_masks_anything_shaped_like_a_credential(secret):
    entry = _line("GitHub said %s", secret)

    assert MASK in entry["message"]
    assert secret not in entry["message"]


def test_it_masks_the_configured_secrets_wherever_they_appear(settings):
    settings.GITHUB_WEBHOOK_SECRET = "a-webhook-secret-with-no-recognisable-shape"

    entry = _line("compared against %s", settings.GITHUB_WEBHOOK_SECRET)

    assert entry["message"] == f"compared against {MASK}"


def test_it_never_prints_headers_bodies_or_requests_passed_as_extra_fields():
    entry = _line(
        "Internal Server Error: /webhooks/github",
        request="<WSGIRequest: POST '/webhooks/github?code=1'>",
        headers={"X-Hub-Signature-256": "sha256=00"},
        body=b'{"installation": {}}',
        cookies="sessionid=1",
        status_code=500,
    )

    assert set(entry) == {"time", "level", "logger", "message", "status_code"}


def test_it_records_an_error_with_its_traceback_masked():
    try:
        raise RuntimeError(
            "refresh failed for ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498"
        )
    except RuntimeError:
        entry = _line("token refresh failed", exc_info=sys.exc_info())

    assert entry["error"] == "RuntimeError"
    assert "Traceback" in entry["traceback"]
    assert "ghr_" not in entry["traceback"]


def test_redact_leaves_ordinary_text_alone():
    assert redact("webhook workflow_run 72d3162e-cc78-11e3-81ab-4c9367dc0958: applied", []) == (
        "webhook workflow_run 72d3162e-cc78-11e3-81ab-4c9367dc0958: applied"
    )


def test_a_deployed_stage_logs_json_on_stdout(run_manage):
    script = (
        "import logging; "
        "logging.getLogger('webhooks.views').warning('token %s', 'ghp_0123456789abcdefghijklmnopqrstuv'); "
        "from dashboard.lib import metrics; metrics.emit({'WebhookProcessed': 1})"
    )
    env = {**PRODUCTION_ENV, "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9"}

    result = run_manage("shell", "-v", "0", "-c", script, env=env)

    assert result.returncode == 0, result.stderr
    log, metric = (json.loads(line) for line in result.stdout.strip().splitlines())
    assert log["message"] == f"token {MASK}"
    assert log["level"] == "WARNING"
    assert metric["WebhookProcessed"] == 1
    assert metric["Stage"] == "prod"
