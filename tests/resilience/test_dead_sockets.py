"""Browser connections that died without saying so: the live ones get every change, the dead ones are dropped.

In production API Gateway answers 410 (GoneException) for a connection that is gone; moto's Management API
never does, so that answer is made at botocore's `before-call` event for the connections chosen dead. Locally,
a socket cut without a closing handshake is noticed by the server and leaves the hub.
"""

import json
import socket
import urllib.parse

from botocore.awsrequest import AWSResponse

from realtime import gateway
from realtime.groups import repo_group
from realtime.hub import hub
from realtime.models import Connection, Subscription
from runs.cache import run_record
from tests.realtime.test_lambda_ws import _cookie_of, _messages, ws_event
from tests.realtime.test_websocket import _change, _receive, _signed_in
from tests.waiting import wait_until

# (connection, user, alive)
CONNECTIONS = [
    ("alice-live=", "alice", True),
    ("alice-gone=", "alice", False),
    ("bob-live=", "bob", True),
    ("bob-gone=", "bob", False),
    ("dana-live=", "dana", True),  # may not see acme/api
]


class GoneConnections:
    """API Gateway's answer for connections that are gone: 410 GoneException on every post to them."""

    def __init__(self, gone: set[str]):
        self.gone = gone
        self.posts: dict[str, int] = {}
        gateway.management_client().meta.events.register_first(
            "before-call.apigatewaymanagementapi.PostToConnection", self._answer
        )

    def _answer(self, params, **kwargs):
        # The request as botocore serialized it: POST /@connections/{connectionId}, URL-encoded.
        connection_id = urllib.parse.unquote(params["url_path"].rsplit("/", 1)[-1])
        self.posts[connection_id] = self.posts.get(connection_id, 0) + 1
        if connection_id not in self.gone:
            return None
        error = {"Code": "GoneException", "Message": ""}
        parsed = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 410, "HTTPHeaders": {}}}
        return AWSResponse(gateway.management_client().meta.endpoint_url, 410, {}, None), parsed


def test_fan_out_drops_gone_connections_and_delivers_every_change_to_the_live_ones(
    lambda_ws, github_sim, settings, management_api
):
    cookies = {login: _cookie_of(login, settings) for login in ("alice", "bob", "dana")}
    for connection_id, login, _ in CONNECTIONS:
        lambda_ws.handler(ws_event("$connect", connection_id, cookie=cookies[login]), None)
        subscribe = json.dumps({"type": "subscribe", "repos": ["acme/api"]})
        lambda_ws.handler(ws_event("$default", connection_id, body=subscribe), None)
    gone = GoneConnections({connection_id for connection_id, _, alive in CONNECTIONS if not alive})

    run_record(_change("acme/api", run_id=1, status="in_progress"))
    run_record(_change("acme/api", run_id=1, status="completed"))

    for connection_id, login, alive in CONNECTIONS:
        if not alive:
            assert gone.posts[connection_id] == 1  # tried once, then forgotten
            assert Connection.count(connection_id) == 0
            continue
        changes = [message for message in _messages(management_api, connection_id) if message["type"] == "change"]
        if login == "dana":
            assert changes == []
            continue
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
        received = [_receive(live)["event"]["id"] for _ in range(50)]

        wait_until(lambda: hub.listeners(group) == 1, what="the server to notice the cut socket")
    assert received == list(range(20_000, 20_050))
