"""The WebSocket Lambda, driven with API Gateway's own event shapes, and the stream Lambda's fan-out to its
connections, driven with the records DynamoDB Local's stream holds; the Management API is the local stand-in
(devstack/management_api.py), which answers 410 for a gone connection as API Gateway does."""

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from realtime.models import Connection, Subscription
from runs.cache import run_record
from tests.conftest import logged
from tests.plugins.dynamodb import tables_text
from tests.plugins.github import sign_in
from tests.realtime.test_websocket import _change


@pytest.fixture
def lambda_ws(dynamodb, settings):
    from realtime import lambda_ws

    settings.ALLOWED_HOSTS = ["actions-dashboard.example.com", "testserver"]

    return lambda_ws


def ws_event(route, connection_id, *, cookie=None, body=None, origin="https://actions-dashboard.example.com"):
    """An API Gateway WebSocket API event, as Lambda receives it."""
    event = {
        "requestContext": {
            "routeKey": route,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
            "extendedRequestId": "NtJtNH2WjoEF2Xw=",
            "requestTime": "24/Nov/2026:23:59:00 +0000",
            "messageDirection": "IN",
            "stage": "prod",
            "connectedAt": 1795564740000,
            "requestTimeEpoch": 1795564740100,
            "requestId": "NtJtNH2WjoEF2Xw=",
            "domainName": "abc123.execute-api.eu-west-2.amazonaws.com",
            "connectionId": connection_id,
            "apiId": "abc123",
        },
        "isBase64Encoded": False,
    }
    if route == "$connect":
        event["headers"] = {
            "Host": "actions-dashboard.example.com",
            "Origin": origin,
            "Sec-WebSocket-Version": "13",
        }
        if cookie:
            event["headers"]["Cookie"] = cookie
    if body is not None:
        event["body"] = body
    return event


def _messages(standin, connection_id):
    return [json.loads(message) for message in standin.messages(connection_id)]


def _connect(lambda_ws, management_api, connection_id, cookie):
    """A socket as API Gateway opens one: known to the Management API, then `$connect` to the Lambda."""
    management_api.connect(connection_id)
    return lambda_ws.handler(ws_event("$connect", connection_id, cookie=cookie), None)


def _cookie_of(login, settings):
    browser = Client()
    sign_in(browser, login)
    browser.get("/api/repos")  # keeps the user's visibility
    return f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}; other=1"


def test_it_accepts_a_connection_with_a_valid_session_and_records_it(lambda_ws, github_sim, settings):
    response = lambda_ws.handler(ws_event("$connect", "conn-A=", cookie=_cookie_of("alice", settings)), None)

    assert response["statusCode"] == 200
    assert Connection.get("conn-A=").user_id == 1001


@pytest.mark.parametrize("cookie", [None, "dashboard_session=not-a-session", "garbage;;=="])
def test_it_refuses_a_connection_without_a_valid_session(lambda_ws, dynamodb, cookie):
    response = lambda_ws.handler(ws_event("$connect", "conn-B=", cookie=cookie), None)

    assert response["statusCode"] == 401
    assert Connection.count() == 0


def test_it_subscribes_only_to_visible_repositories_and_fans_out_to_them(
    lambda_ws, github_sim, settings, management_api, stream_lambda
):
    _connect(lambda_ws, management_api, "alice-1=", _cookie_of("alice", settings))
    _connect(lambda_ws, management_api, "dana-1=", _cookie_of("dana", settings))
    subscribe = json.dumps({"type": "subscribe", "repos": ["acme/api", "globex/skunkworks"]})

    lambda_ws.handler(ws_event("$default", "alice-1=", body=subscribe), None)
    lambda_ws.handler(ws_event("$default", "dana-1=", body=subscribe), None)
    run_record(_change("acme/api"))

    assert management_api.messages("alice-1=")[1:] == []  # the webhook's write sends nothing itself
    assert stream_lambda.deliver() == {"batchItemFailures": []}
    alice, dana = _messages(management_api, "alice-1="), _messages(management_api, "dana-1=")
    assert alice[0] == {"type": "subscribed", "repos": ["acme/api"], "denied": ["globex/skunkworks"]}
    assert dana[0] == {"type": "subscribed", "repos": ["globex/skunkworks"], "denied": ["acme/api"]}
    assert [[change["event"]["repo"] for change in message["changes"]] for message in alice[1:]] == [["acme/api"]]
    assert [message for message in dana[1:] if message["type"] == "changes"] == []


def test_it_answers_ping_and_refuses_unknown_messages(lambda_ws, github_sim, settings, management_api):
    _connect(lambda_ws, management_api, "alice-2=", _cookie_of("alice", settings))

    lambda_ws.handler(ws_event("$default", "alice-2=", body='{"type": "ping"}'), None)
    lambda_ws.handler(ws_event("$default", "alice-2=", body="not json"), None)
    lambda_ws.handler(ws_event("$default", "alice-2=", body='{"type": "shout"}'), None)

    assert _messages(management_api, "alice-2=") == [
        {"type": "pong"},
        {"type": "error", "message": "messages must be JSON objects"},  # the protocol's one wording for it
        {"type": "error", "message": "unknown message type"},
    ]


def test_it_forgets_a_connection_on_disconnect(lambda_ws, github_sim, settings, management_api):
    _connect(lambda_ws, management_api, "alice-3=", _cookie_of("alice", settings))
    lambda_ws.handler(ws_event("$default", "alice-3=", body='{"type": "subscribe", "repos": ["acme/api"]}'), None)

    lambda_ws.handler(ws_event("$disconnect", "alice-3="), None)

    assert Connection.count() == 0
    assert Subscription.count() == 0


def test_it_forgets_a_connection_api_gateway_says_is_gone(
    lambda_ws, github_sim, settings, management_api, stream_lambda
):
    _connect(lambda_ws, management_api, "gone-1=", _cookie_of("alice", settings))
    lambda_ws.handler(ws_event("$default", "gone-1=", body='{"type": "subscribe", "repos": ["acme/api"]}'), None)
    management_api.gone("gone-1=")

    run_record(_change("acme/api"))
    stream_lambda.deliver()

    assert management_api.statuses[410] == 1
    assert Connection.count() == 0
    assert Subscription.count() == 0


def test_it_asks_every_connection_to_subscribe_again_when_visibility_changes(
    lambda_ws, github_sim, settings, management_api, stream_lambda
):
    from runs.visibility import visibility_invalidate

    _connect(lambda_ws, management_api, "alice-4=", _cookie_of("alice", settings))
    lambda_ws.handler(ws_event("$default", "alice-4=", body='{"type": "subscribe", "repos": ["acme/api"]}'), None)

    visibility_invalidate()
    assert Subscription.count() == 1  # the installation webhook's request only writes the event
    stream_lambda.deliver()

    assert Subscription.count() == 0
    assert _messages(management_api, "alice-4=")[-1] == {"type": "resubscribe"}
    assert Connection.get("alice-4=").connected_at <= datetime.now(UTC)


@pytest.mark.parametrize("origin", ["https://evil.example", "http://actions-dashboard.example.com", ""])
def test_it_refuses_a_handshake_from_another_origin(lambda_ws, github_sim, settings, origin):
    cookie = _cookie_of("alice", settings)
    settings.ALLOWED_HOSTS = ["actions-dashboard.example.com", "testserver"]

    response = lambda_ws.handler(ws_event("$connect", "evil-1=", cookie=cookie, origin=origin), None)

    assert response["statusCode"] == 403
    assert Connection.count() == 0


def test_it_closes_a_revoked_users_connections(lambda_ws, github_sim, settings, management_api, stream_lambda):
    from accounts.flows import user_revoke

    _connect(lambda_ws, management_api, "alice-5=", _cookie_of("alice", settings))
    lambda_ws.handler(ws_event("$default", "alice-5=", body='{"type": "subscribe", "repos": ["acme/api"]}'), None)

    user_revoke(1001)
    assert Connection.count() == 1  # the revocation only writes its event
    stream_lambda.deliver()

    assert Connection.count() == 0
    assert Subscription.count() == 0


def test_reconciliation_drops_subscriptions_whose_access_ended(lambda_ws, github_sim, settings, management_api):
    from dashboard.reconciliation import reconcile
    from tests.realtime.test_websocket import _age_visibility

    _connect(lambda_ws, management_api, "alice-6=", _cookie_of("alice", settings))
    subscribe = '{"type": "subscribe", "repos": ["acme/api", "acme/storefront"]}'
    lambda_ws.handler(ws_event("$default", "alice-6=", body=subscribe), None)
    github_sim.change_installation(70001, "remove-repos", repos=["acme/api"])
    _age_visibility(1001)

    report = reconcile(redeliver=False)

    assert report.subscriptions_dropped == 1
    assert [subscription.repo_id for subscription in Subscription.scan()] == ["acme/storefront"]


def test_it_counts_pushes_delivered_and_sockets_gone(
    lambda_ws, github_sim, settings, management_api, stream_lambda, caplog
):
    caplog.set_level("INFO", logger="dashboard.lib.metrics")
    for connection_id in ("here-1=", "gone-2="):
        _connect(lambda_ws, management_api, connection_id, _cookie_of("alice", settings))
        body = '{"type": "subscribe", "repos": ["acme/api"]}'
        lambda_ws.handler(ws_event("$default", connection_id, body=body), None)
    management_api.gone("gone-2=")
    caplog.clear()

    run_record(_change("acme/api"))
    stream_lambda.deliver()

    documents = [record.emf for record in caplog.records if hasattr(record, "emf") and "FanoutGone" in record.emf]
    assert [(document["FanoutDelivered"], document["FanoutGone"]) for document in documents] == [(1, 1)]


def test_it_keeps_no_session_key_in_any_table_or_log(
    lambda_ws, github_sim, settings, management_api, stream_lambda, every_log
):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, "alice")
    browser.get("/")
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}"
    assert lambda_ws.handler(ws_event("$connect", "alice-7=", cookie=cookie), None)["statusCode"] == 200
    stored = tables_text()

    browser.post("/auth/logout", HTTP_X_CSRFTOKEN=browser.cookies[settings.CSRF_COOKIE_NAME].value)
    stream_lambda.deliver()

    assert Connection.count() == 0  # the sign-out still found the session's socket
    assert key not in tables_text()  # nor in the event that ended it
    assert '"sessionTopic"' in stored
    assert key not in stored
    assert key not in logged(every_log.records)
    assert "sessionId" in logged(every_log.records)  # the AWS client's requests were captured too


def test_a_connection_that_cannot_be_posted_to_misses_the_batch_alone(
    lambda_ws, github_sim, settings, management_api, stream_lambda
):
    for connection_id in ("alice-8=", "alice-9="):
        _connect(lambda_ws, management_api, connection_id, _cookie_of("alice", settings))
        lambda_ws.handler(
            ws_event("$default", connection_id, body='{"type": "subscribe", "repos": ["acme/api"]}'), None
        )
    management_api.throttle("alice-8=")

    run_record(_change("acme/api"))

    assert stream_lambda.deliver() == {"batchItemFailures": []}  # not the whole batch posted again to everyone
    assert [message["type"] for message in _messages(management_api, "alice-9=")] == ["subscribed", "changes"]
    assert Connection.count("alice-8=") == 1  # throttled, not gone: kept


def test_each_connection_gets_one_message_with_the_changes_of_its_repositories_in_order(
    lambda_ws, github_sim, settings, management_api, stream_lambda
):
    _connect(lambda_ws, management_api, "alice-10=", _cookie_of("alice", settings))
    subscribe = json.dumps({"type": "subscribe", "repos": ["acme/api", "acme/storefront"]})
    lambda_ws.handler(ws_event("$default", "alice-10=", body=subscribe), None)

    for run_id, repo in ((1, "acme/api"), (2, "acme/storefront"), (3, "acme/api"), (4, "acme/payroll")):
        run_record(_change(repo, run_id=run_id))
    stream_lambda.deliver()

    (subscribed, changes) = _messages(management_api, "alice-10=")
    assert [(change["event"]["repo"], change["event"]["id"]) for change in changes["changes"]] == [
        ("acme/api", 1),
        ("acme/storefront", 2),
        ("acme/api", 3),
    ]
