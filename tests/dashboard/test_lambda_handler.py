"""Zappa's own Lambda handler, driven in-process with API Gateway events, serves the Django app."""

import base64
import hashlib
import json
import os
import re
import sys

import pytest
from zappa.cli import ZappaCLI
from zappa.handler import LambdaHandler

from tests.conftest import ROOT

HOST = "abc123.execute-api.eu-west-2.amazonaws.com"
BODY = json.dumps({"action": "completed", "workflow_run": {"id": 30433642}}).encode()


@pytest.fixture
def lambda_handler(tmp_path, monkeypatch, settings):
    """A LambdaHandler built from the `dev` stage of the real zappa_settings.json, as `zappa package` does."""
    cli = ZappaCLI()
    cli.api_stage = "dev"
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    (tmp_path / "lambda_settings.py").write_text(cli.get_zappa_settings_string())
    monkeypatch.syspath_prepend(str(tmp_path))
    # The handler copies the stage's environment into os.environ; put it back afterwards.
    monkeypatch.setattr(os, "environ", os.environ.copy())
    settings.ALLOWED_HOSTS = [HOST]
    settings.ROOT_URLCONF = "tests.dashboard.echo_urls"
    LambdaHandler._LambdaHandler__instance = None
    LambdaHandler.settings = None
    handler = LambdaHandler("lambda_settings")
    yield handler
    LambdaHandler._LambdaHandler__instance = None
    LambdaHandler.settings = None
    sys.modules.pop("lambda_settings", None)


def http_api_event(method, path, *, body=b"", base64_encoded=False, query="", cookies=None):
    """An API Gateway HTTP API (payload format 2.0) event, as AWS documents it."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": cookies or [],
        "headers": {
            "host": HOST,
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/abc1234",
            "x-forwarded-proto": "https",
            "x-forwarded-for": "192.0.2.10",
            "x-forwarded-port": "443",
        },
        "queryStringParameters": dict(pair.split("=") for pair in query.split("&")) if query else None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": HOST,
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "GitHub-Hookshot/abc1234",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:23:00:00 +0000",
            "timeEpoch": 1795561200000,
        },
        "body": base64.b64encode(body).decode() if base64_encoded else body.decode(),
        "isBase64Encoded": base64_encoded,
    }


def rest_api_event(method, path, *, body=b"", base64_encoded=False):
    """An API Gateway REST API (payload format 1.0, proxy integration) event."""
    headers = {
        "Host": HOST,
        "Content-Type": "application/json",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "192.0.2.10",
        "X-Forwarded-Port": "443",
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "httpMethod": method,
            "identity": {"sourceIp": "192.0.2.10", "userAgent": "GitHub-Hookshot/abc1234"},
            "path": f"/dev{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "resourcePath": "/{proxy+}",
            "stage": "dev",
        },
        "body": (base64.b64encode(body).decode() if base64_encoded else body.decode()) if body else None,
        "isBase64Encoded": base64_encoded,
    }


def test_it_serves_healthz_from_an_http_api_event(lambda_handler, dynamodb):
    response = lambda_handler.handler(http_api_event("GET", "/healthz"), context=None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok", "dynamodb": "ok"}


def test_it_serves_healthz_from_a_rest_api_event(lambda_handler, dynamodb):
    response = lambda_handler.handler(rest_api_event("GET", "/healthz"), context=None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok", "dynamodb": "ok"}


@pytest.mark.parametrize("base64_encoded", [False, True], ids=["plain", "base64"])
def test_it_passes_a_post_body_through_an_http_api_event(lambda_handler, base64_encoded):
    event = http_api_event("POST", "/echo", body=BODY, base64_encoded=base64_encoded, query="page=2")

    response = lambda_handler.handler(event, context=None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "method": "POST",
        "path": "/echo",
        "query": {"page": "2"},
        "content_type": "application/json",
        "body_sha256": hashlib.sha256(BODY).hexdigest(),
        "cookie": None,
    }


@pytest.mark.parametrize("base64_encoded", [False, True], ids=["plain", "base64"])
def test_it_passes_a_post_body_through_a_rest_api_event(lambda_handler, base64_encoded):
    response = lambda_handler.handler(rest_api_event("POST", "/echo", body=BODY, base64_encoded=base64_encoded), None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["body_sha256"] == hashlib.sha256(BODY).hexdigest()


def test_it_passes_cookies_of_an_http_api_event(lambda_handler):
    response = lambda_handler.handler(http_api_event("GET", "/echo", cookies=["probe=one"]), context=None)

    assert json.loads(response["body"])["cookie"] == "one"


def test_it_answers_an_unknown_path_with_404(lambda_handler):
    response = lambda_handler.handler(http_api_event("GET", "/no-such-page"), context=None)

    assert response["statusCode"] == 404


def _schedule_input() -> dict:
    """What Terraform's schedule sends the reconcile function's `live` alias (infra/schedule.tf)."""
    text = (ROOT / "infra" / "schedule.tf").read_text()
    return {"command": re.search(r'input = jsonencode\(\{ command = "([^"]+)" \}\)', text).group(1)}


def test_it_runs_reconciliation_with_the_event_terraforms_schedule_sends(lambda_handler, dynamodb, github_sim):
    result = lambda_handler.handler(_schedule_input(), context=None)

    assert result == {"runs_repaired": 0, "deliveries_redelivered": 0}


def test_a_reconciliation_dry_run_changes_nothing_and_asks_github_nothing(lambda_handler, dynamodb, github_sim):
    github_sim.reset_counters()

    result = lambda_handler.handler({**_schedule_input(), "dry_run": True}, context=None)

    assert result == {"dry_run": True, "stale_runs": 0}
    assert github_sim.request_counts()["total"] == 0


def test_every_function_named_in_zappa_settings_imports():
    import importlib

    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    named = {stage.get("lambda_handler") for stage in settings.values()} - {None}
    named.add(_schedule_input()["command"])

    assert "realtime.lambda_ws.handler" in named
    for path in named:
        module, _, function = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), path
