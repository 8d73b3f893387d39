"""The local `/ws`: authenticated by the session cookie, fed only the subscribed repositories the user may see."""

import json
from datetime import UTC, datetime

import pytest
import requests
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from runs.cache import run_record
from runs.states import RunState
from runs.visibility import visibility_invalidate
from tests.conftest import logged
from tests.plugins.dynamodb import tables_text
from tests.plugins.github import sign_in


def _socket(live_app, browser, settings):
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return connect(
        live_app.replace("http", "ws") + "/ws",
        origin=live_app,
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        open_timeout=10,
    )


def _receive(socket, timeout=5.0):
    return json.loads(socket.recv(timeout=timeout))


def _changes(socket, count, timeout=5.0):
    """The next `count` changes, however many `changes` messages carry them."""
    found = []
    while len(found) < count:
        message = _receive(socket, timeout)
        assert message["type"] == "changes", message
        found += message["changes"]
    return found


def _signed_in(login):
    browser = Client()
    sign_in(browser, login)
    browser.get("/api/repos")  # keeps the user's visibility
    return browser


def _change(repo, run_id=777, status="in_progress"):
    return RunState.from_github(
        {
            "id": run_id,
            "status": status,
            "updated_at": datetime.now(UTC).isoformat(),
            "run_attempt": 1,
            "workflow_id": 1,
            "name": "CI",
            "head_branch": "main",
            "repository": {"full_name": repo, "default_branch": "main"},
        }
    )


def test_it_refuses_a_socket_without_a_session(live_app):
    # Closing before accepting makes the server refuse the handshake itself.
    with pytest.raises(InvalidStatus) as refused:
        connect(live_app.replace("http", "ws") + "/ws", origin=live_app, open_timeout=10)
    assert refused.value.response.status_code == 403


def test_it_pushes_a_change_of_a_subscribed_repository(live_app, github_sim, settings):
    alice = _signed_in("alice")
    with _socket(live_app, alice, settings) as socket:
        assert _receive(socket) == {"type": "hello", "login": "alice"}
        socket.send(json.dumps({"type": "subscribe", "repos": ["acme/api", "globex/skunkworks"]}))
        assert _receive(socket) == {"type": "subscribed", "repos": ["acme/api"], "denied": ["globex/skunkworks"]}

        run_record(_change("acme/api"))

        (change,) = _changes(socket, 1)
    assert change["event"]["repo"] == "acme/api"
    assert change["event"]["status"] == "in_progress"
    assert change["id"]


def test_it_pushes_nothing_to_a_user_who_may_not_see_the_repository(live_app, github_sim, settings):
    alice, dana = _signed_in("alice"), _signed_in("dana")
    with _socket(live_app, alice, settings) as watcher, _socket(live_app, dana, settings) as outsider:
        _receive(watcher), _receive(outsider)
        watcher.send(json.dumps({"type": "subscribe", "repos": ["acme/payroll"]}))
        outsider.send(json.dumps({"type": "subscribe", "repos": ["acme/payroll"]}))
        assert _receive(watcher)["repos"] == ["acme/payroll"]
        assert _receive(outsider) == {"type": "subscribed", "repos": [], "denied": ["acme/payroll"]}

        run_record(_change("acme/payroll"))

        assert _receive(watcher)["type"] == "changes"
        with pytest.raises(TimeoutError):
            outsider.recv(timeout=1.0)  # checked at the socket: nothing arrives


def test_it_holds_a_burst_without_dropping(live_app, github_sim, settings):
    alice = _signed_in("alice")
    with _socket(live_app, alice, settings) as socket:
        _receive(socket)
        socket.send(json.dumps({"type": "subscribe", "repos": ["acme/api"]}))
        _receive(socket)

        for run_id in range(300):
            run_record(_change("acme/api", run_id=10_000 + run_id))
        received = {change["event"]["id"] for change in _changes(socket, 300, timeout=15)}

    assert received == set(range(10_000, 10_300))


def test_it_drops_a_subscription_the_user_may_no_longer_see(live_app, github_sim, settings):
    alice = _signed_in("alice")
    with _socket(live_app, alice, settings) as socket:
        _receive(socket)
        socket.send(json.dumps({"type": "subscribe", "repos": ["acme/api", "acme/storefront"]}))
        _receive(socket)

        github_sim.change_installation(70001, "remove-repos", repos=["acme/api"])
        visibility_invalidate()  # what the installation_repositories webhook does
        update = _receive(socket)
        run_record(_change("acme/api"))

        # As API Gateway's connections are: asked to subscribe again, which is checked afresh.
        assert update == {"type": "resubscribe"}
        with pytest.raises(TimeoutError):
            socket.recv(timeout=1.0)
        socket.send(json.dumps({"type": "subscribe", "repos": ["acme/api", "acme/storefront"]}))
        assert _receive(socket) == {"type": "subscribed", "repos": ["acme/storefront"], "denied": ["acme/api"]}


def test_it_answers_the_heartbeat(live_app, github_sim, settings):
    alice = _signed_in("alice")
    with _socket(live_app, alice, settings) as socket:
        _receive(socket)
        socket.send(json.dumps({"type": "ping"}))
        assert _receive(socket) == {"type": "pong"}


def test_it_closes_the_sockets_of_a_session_that_signs_out(live_app, github_sim, settings):
    alice = Client(enforce_csrf_checks=True)
    sign_in(alice, "alice")
    other_browser = _signed_in("alice")
    with _socket(live_app, alice, settings) as signed_out, _socket(live_app, other_browser, settings) as still_in:
        _receive(signed_out), _receive(still_in)
        alice.get("/")
        alice.post("/auth/logout", HTTP_X_CSRFTOKEN=alice.cookies[settings.CSRF_COOKIE_NAME].value)

        with pytest.raises(ConnectionClosed):
            signed_out.recv(timeout=5)
        still_in.send(json.dumps({"type": "ping"}))
        assert _receive(still_in) == {"type": "pong"}


def test_it_closes_every_socket_of_a_user_whose_authorization_is_revoked(live_app, github_sim, settings):
    from accounts.flows import user_revoke

    alice = _signed_in("alice")
    with _socket(live_app, alice, settings) as socket:
        _receive(socket)

        user_revoke(1001)

        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=5)


def _age_visibility(user_id):
    from datetime import timedelta

    from accounts.models import UserRecord

    UserRecord(user_id=user_id).update(actions=[UserRecord.visible_at.set(datetime.now(UTC) - timedelta(minutes=10))])


def test_it_rechecks_subscriptions_on_its_own_when_access_ends_without_any_event(
    live_app, github_sim, settings, monkeypatch
):
    from realtime import consumers

    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.5)
    alice = _signed_in("alice")
    with _socket(live_app, alice, settings) as socket:
        _receive(socket)
        socket.send(json.dumps({"type": "subscribe", "repos": ["acme/api", "acme/storefront"]}))
        _receive(socket)

        github_sim.change_installation(70001, "remove-repos", repos=["acme/api"])
        _age_visibility(1001)  # as 5 minutes later, when the kept answer has expired

        assert _receive(socket) == {"type": "subscribed", "repos": ["acme/storefront"], "denied": []}


def test_it_keeps_no_session_key_in_any_table_or_log(live_app, github_sim, settings, every_log):
    alice = Client(enforce_csrf_checks=True)
    sign_in(alice, "alice")
    alice.get("/")
    key = alice.cookies[settings.SESSION_COOKIE_NAME].value
    events = requests.get(
        f"{live_app}/events",
        params={"repos": "acme/api"},
        cookies={settings.SESSION_COOKIE_NAME: key},
        stream=True,
        timeout=10,
    )
    with _socket(live_app, alice, settings) as socket, events:
        _receive(socket)
        next(line for line in events.iter_lines(decode_unicode=True) if line.startswith("retry:"))
        stored = tables_text()
        alice.post("/auth/logout", HTTP_X_CSRFTOKEN=alice.cookies[settings.CSRF_COOKIE_NAME].value)
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=5)

    # The test's own socket client prints the Cookie header it sends; what the app prints is what counts.
    app_records = [record for record in every_log.records if record.name != "websockets.client"]
    assert key not in stored
    assert key not in logged(app_records)
    assert "sessionId" in logged(app_records)  # the AWS client's requests were captured too
