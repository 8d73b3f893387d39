"""Browser connections that died without saying so: the live ones get every change, the dead ones are dropped.

In production API Gateway answers 410 (GoneException) for a connection that is gone; the Management API stand-in
(devstack/management_api.py) answers so for the connections marked gone, and the stream Lambda's fan-out is
driven with the records DynamoDB Local's stream holds. Locally, a socket cut without a closing handshake is
noticed by the server and leaves the hub.
"""

import json
import socket

from realtime.groups import repo_group
from realtime.hub import hub
from realtime.models import Connection, Subscription
from runs.cache import run_record
from tests.realtime.test_lambda_ws import _cookie_of, _messages, ws_event
from tests.realtime.test_websocket import _change, _changes, _receive, _signed_in
from tests.waiting import wait_until

# (connection, user, alive)
CONNECTIONS = [
    ("alice-live=", "alice", True),
    ("alice-gone=", "alice", False),
    ("bob-live=", "bob", True),
    ("bob-gone=", "bob", False),
    ("dana-live=", "dana", True),  # may not see acme/api
]


def test_fan_out_drops_gone_connections_and_delivers_every_change_to_the_live_ones(
    lambda_ws, github_sim, settings, management_api, stream_lambda
):
    cookies = {login: _cookie_of(login, settings) for login in ("alice", "bob", "dana")}
    for connection_id, login, _ in CONNECTIONS:
        management_api.connect(connection_id)
        lambda_ws.handler(ws_event("$connect", connection_id, cookie=cookies[login]), None)
        subscribe = json.dumps({"type": "subscribe", "repos": ["acme/api"]})
        lambda_ws.handler(ws_event("$default", connection_id, body=subscribe), None)
    for connection_id, _, alive in CONNECTIONS:
        if not alive:
            management_api.gone(connection_id)

    run_record(_change("acme/api", run_id=1, status="in_progress"))
    run_record(_change("acme/api", run_id=1, status="completed"))
    assert stream_lambda.deliver() == {"batchItemFailures": []}

    assert management_api.statuses[410] == 2  # each dead one tried once, then forgotten
    for connection_id, login, alive in CONNECTIONS:
        if not alive:
            assert Connection.count(connection_id) == 0
            continue
        messages = [message for message in _messages(management_api, connection_id) if message["type"] == "changes"]
        if login == "dana":
            assert messages == []
            continue
        changes = [change for message in messages for change in message["changes"]]
        assert [change["event"]["status"] for change in changes] == ["in_progress", "completed"]
    live = {connection_id for connection_id, login, alive in CONNECTIONS if alive and login != "dana"}
    assert {subscription.connection_id for subscription in Subscription.query("acme/api")} == live


def _cut(client) -> None:
    """End a WebSocket as a dead network does: no closing handshake, the TCP connection just goes."""
    client.socket.shutdown(socket.SHUT_RDWR)
    client.socket.close()


def test_a_local_socket_cut_off_mid_stream_leaves_the_hub_and_the_others_get_every_change(
    live_app, github_sim, settings
):
    from tests.realtime.test_websocket import _socket

    alice = _signed_in("alice")
    group = repo_group("acme/api")
    with _socket(live_app, alice, settings) as live, _socket(live_app, alice, settings) as doomed:
        for client in (live, doomed):
            _receive(client)
            client.send(json.dumps({"type": "subscribe", "repos": ["acme/api"]}))
            _receive(client)
        assert hub.listeners(group) == 2

        _cut(doomed)
        for run_id in range(50):
            run_record(_change("acme/api", run_id=20_000 + run_id))
        received = [change["event"]["id"] for change in _changes(live, 50)]

        wait_until(lambda: hub.listeners(group) == 1, what="the server to notice the cut socket")
    assert received == list(range(20_000, 20_050))
