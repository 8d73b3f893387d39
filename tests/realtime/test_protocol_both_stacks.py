"""One table of cases, run for real through both stacks, which must answer alike and as the protocol says.

The local stack is the real ASGI app under uvicorn (`/ws`, signed in by the session cookie); the deployed one is
`lambda_ws.handler` with API Gateway's event shapes, DynamoDB Local, and the Management API stand-in for the posts
(devstack/management_api.py).
Each message is answered by exactly one frame, or the socket is closed (`CLOSED`).
"""

import base64
import json
from dataclasses import dataclass

import pytest
from pynamodb.exceptions import DoesNotExist
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from realtime import gateway, protocol
from realtime.models import Connection, Subscription
from tests.realtime.test_lambda_ws import (  # noqa: F401  (fixtures)
    _cookie_of,
    _messages,
    lambda_ws,
    ws_event,
)
from tests.realtime.test_websocket import _receive

CLOSED = "closed"
LIMIT = 2  # MAX_SUBSCRIPTIONS for these cases; alice may see five repositories
API, STOREFRONT, PAYROLL = "acme/api", "acme/storefront", "acme/payroll"
SKUNKWORKS, LEGACY = "globex/skunkworks", "globex/legacy"  # on GitHub, but alice may not see them here


def sub(*repos):
    return json.dumps({"type": "subscribe", "repos": list(repos)})


def unsub(*repos):
    return json.dumps({"type": "unsubscribe", "repos": list(repos)})


PING = '{"type": "ping"}'
PONG = {"type": "pong"}


def subscribed(*repos, denied=()):
    return {"type": "subscribed", "repos": sorted(repos), "denied": sorted(denied)}


def error(message):
    return {"type": "error", "message": message}


BAD_REPOS, NOT_AN_OBJECT, UNKNOWN_TYPE = (
    error(protocol.BAD_REPOS),
    error(protocol.NOT_AN_OBJECT),
    error(protocol.UNKNOWN_TYPE),
)
TOO_MANY = error(f"at most {LIMIT} subscriptions")


def padded_ping(size, pad="x"):
    """A ping of exactly `size` bytes (UTF-8), padded in a field of its own."""
    head, tail = '{"type":"ping","pad":"', '"}'
    room = size - len(head) - len(tail)
    return head + pad * (room // len(pad.encode())) + tail


@dataclass(frozen=True)
class Case:
    name: str
    sent: list  # text frames (str) or binary ones (bytes), in order
    answers: list  # for each message sent: the frame answered, or CLOSED
    close_code: int | None = None  # the code the local socket is closed with


CASES = [
    Case("ping", [PING], [PONG]),
    Case("subscribe to a visible repository", [sub(API)], [subscribed(API)]),
    Case(
        "subscribe to some repositories the user may not see",
        [sub(API, SKUNKWORKS, LEGACY)],
        [subscribed(API, denied=[SKUNKWORKS, LEGACY])],
    ),
    Case("subscribe to none the user may see", [sub(SKUNKWORKS)], [subscribed(denied=[SKUNKWORKS])]),
    # Visibility first, then the limit: more asked than the limit, within it once filtered, is subscribed.
    Case(
        "ask for more than the limit, of which fewer are visible",
        [sub(API, STOREFRONT, SKUNKWORKS, LEGACY, "initech/tps")],
        [subscribed(API, STOREFRONT, denied=[SKUNKWORKS, LEGACY, "initech/tps"])],
    ),
    Case("over the limit at once", [sub(API, STOREFRONT, PAYROLL)], [TOO_MANY]),
    Case(
        "over the limit with what is already subscribed: refused, nothing changes",
        [sub(API), sub(STOREFRONT, PAYROLL), sub()],
        [subscribed(API), TOO_MANY, subscribed(API)],
    ),
    Case(
        "subscribing again adds, repeats count once",
        [sub(API), sub(STOREFRONT, STOREFRONT), sub(API)],
        [subscribed(API), subscribed(API, STOREFRONT), subscribed(API, STOREFRONT)],
    ),
    Case(
        "unsubscribe",
        [sub(API, STOREFRONT), unsub(API), unsub(PAYROLL, SKUNKWORKS), unsub()],
        [subscribed(API, STOREFRONT), subscribed(STOREFRONT), subscribed(STOREFRONT), subscribed(STOREFRONT)],
    ),
    Case(
        "bad repos: refused, nothing changes",
        [
            sub(API),
            json.dumps({"type": "subscribe", "repos": API}),
            json.dumps({"type": "subscribe", "repos": [API, 5]}),
            json.dumps({"type": "subscribe", "repos": [None]}),
            json.dumps({"type": "subscribe", "repos": {API: True}}),
            json.dumps({"type": "subscribe"}),
            json.dumps({"type": "subscribe", "repos": None}),
            sub("acme"),
            sub("acme/api/extra"),
            sub(""),
            sub("acme/a pi"),
            json.dumps({"type": "unsubscribe", "repos": API}),
            json.dumps({"type": "unsubscribe"}),
            json.dumps({"type": "unsubscribe", "repos": [7]}),
            sub(),
        ],
        [subscribed(API), *[BAD_REPOS] * 13, subscribed(API)],
    ),
    Case(
        "not a JSON object",
        ["not json", "", "[]", "42", '"subscribe"', "null", '{"type": "ping"', "[" * 5000],
        [NOT_AN_OBJECT] * 8,
    ),
    Case(
        "unknown type",
        ['{"type": "shout"}', "{}", '{"type": null}', '{"type": ["ping"]}', '{"type": "PING"}', '{"type": "pong"}'],
        [UNKNOWN_TYPE] * 6,
    ),
    Case("a message of the largest size", [padded_ping(protocol.MAX_MESSAGE_BYTES)], [PONG]),
    Case(
        "a message one byte over",
        [padded_ping(protocol.MAX_MESSAGE_BYTES + 1)],
        [CLOSED],
        close_code=protocol.CLOSE_TOO_BIG,
    ),
    Case(
        "over in bytes, not in characters",
        [padded_ping(protocol.MAX_MESSAGE_BYTES + 2, pad="é")],
        [CLOSED],
        close_code=protocol.CLOSE_TOO_BIG,
    ),
    Case("a binary frame", [PING.encode()], [CLOSED], close_code=protocol.CLOSE_BINARY),
]


def _local_socket(live_app, cookie):
    return connect(
        live_app.replace("http", "ws") + "/ws", origin=live_app, additional_headers={"Cookie": cookie}, open_timeout=10
    )


def _local(socket, message):
    socket.send(message)
    try:
        return _receive(socket)
    except ConnectionClosed:
        return CLOSED


class Deployed:
    """One API Gateway connection, driven through the Lambda; each message's posts read from the stand-in."""

    def __init__(self, handlers, backend, cookie, connection_id):
        self.handlers, self.backend, self.connection_id = handlers, backend, connection_id
        backend.connect(connection_id)  # opened at the Management API too, so a close shows as it being gone
        assert handlers.handler(ws_event("$connect", connection_id, cookie=cookie), None)["statusCode"] == 200

    def open(self) -> bool:
        client = gateway.management_client()
        try:
            client.get_connection(ConnectionId=self.connection_id)
        except client.exceptions.GoneException:
            return False
        return True

    def send(self, message):
        if isinstance(message, bytes):
            event = ws_event("$default", self.connection_id, body=base64.b64encode(message).decode())
            event["isBase64Encoded"] = True
        else:
            event = ws_event("$default", self.connection_id, body=message)
        already = len(_messages(self.backend, self.connection_id))
        assert self.handlers.handler(event, None)["statusCode"] == 200
        if not self.open():
            with pytest.raises(DoesNotExist):  # closed through the Management API, and forgotten
                Connection.get(self.connection_id)
            return CLOSED
        (answer,) = _messages(self.backend, self.connection_id)[already:]  # one frame for each message
        return answer

    def subscriptions(self):
        try:
            listed = Connection.get(self.connection_id).subscribed_repos
        except DoesNotExist:
            return None
        stored = sorted(item.repo_id for item in Subscription.scan() if item.connection_id == self.connection_id)
        assert stored == sorted(listed)
        return sorted(listed)


@pytest.fixture
def both_stacks(live_app, lambda_ws, management_api, github_sim, settings, monkeypatch):  # noqa: F811
    """alice signed in once; her cookie opens a local socket and an API Gateway connection."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]  # the live app's host, beside API Gateway's
    monkeypatch.setattr(protocol, "MAX_SUBSCRIPTIONS", LIMIT)
    cookie = _cookie_of("alice", settings)
    return live_app, Deployed(lambda_ws, management_api, cookie, "alice-both="), cookie


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_both_stacks_answer_alike(both_stacks, settings, case):
    live_app, deployed, cookie = both_stacks

    with _local_socket(live_app, cookie) as socket:
        assert _receive(socket) == {"type": "hello", "login": "alice"}  # local only: API Gateway cannot greet
        local = [_local(socket, message) for message in case.sent]
        local_code = socket.close_code if CLOSED in local else None
    deployed_answers = [deployed.send(message) for message in case.sent]

    assert local == deployed_answers
    assert local == case.answers
    assert local_code == case.close_code


def test_both_keep_the_same_subscriptions(both_stacks, settings):
    """What is subscribed after a sequence is what was answered, in the hub and in the subscriptions table."""
    from realtime.groups import repo_group
    from realtime.hub import hub

    live_app, deployed, cookie = both_stacks
    sequence = [sub(API, SKUNKWORKS), unsub(API), sub(STOREFRONT, PAYROLL), sub(API), "[]"]
    with _local_socket(live_app, cookie) as socket:
        _receive(socket)
        local = [_local(socket, message) for message in sequence]
        in_hub = sorted(repo for repo in (API, STOREFRONT, PAYROLL, SKUNKWORKS) if hub.listeners(repo_group(repo)))
    deployed_answers = [deployed.send(message) for message in sequence]

    assert local == deployed_answers
    assert local[2:4] == [subscribed(STOREFRONT, PAYROLL), TOO_MANY]
    assert in_hub == deployed.subscriptions() == [PAYROLL, STOREFRONT]


def test_both_ask_to_subscribe_again_when_visibility_changes(both_stacks, settings, github_sim, stream):
    """An installation loses acme/api: both stacks send `resubscribe`, and the new subscribe is checked afresh."""
    from runs.visibility import visibility_invalidate

    live_app, deployed, cookie = both_stacks
    with _local_socket(live_app, cookie) as socket:
        _receive(socket)
        local = [_local(socket, sub(API, STOREFRONT))]
        deployed_answers = [deployed.send(sub(API, STOREFRONT))]
        github_sim.change_installation(70001, "remove-repos", repos=[API])

        endpoint, settings.WEBSOCKET_API_ENDPOINT = settings.WEBSOCKET_API_ENDPOINT, ""
        visibility_invalidate()  # locally: the stream's event, through the hub
        local.append(_receive(socket))
        settings.WEBSOCKET_API_ENDPOINT = endpoint
        visibility_invalidate()  # deployed: the stream's event, through API Gateway's connections
        assert stream.caught_up()
        deployed_answers.append(_messages(deployed.backend, deployed.connection_id)[-1])

        local.append(_local(socket, sub(API, STOREFRONT)))
        deployed_answers.append(deployed.send(sub(API, STOREFRONT)))

    assert (
        local
        == deployed_answers
        == [
            subscribed(API, STOREFRONT),
            {"type": "resubscribe"},
            subscribed(STOREFRONT, denied=[API]),
        ]
    )


def test_both_drop_on_their_own_what_the_user_may_no_longer_see(both_stacks, github_sim, monkeypatch):
    """Access ends with no event: the local socket's own re-check and the deployed reconciliation say the same."""
    from dashboard.reconciliation import reconcile
    from realtime import consumers
    from tests.realtime.test_websocket import _age_visibility

    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.3)
    live_app, deployed, cookie = both_stacks
    with _local_socket(live_app, cookie) as socket:
        _receive(socket)
        local = [_local(socket, sub(API, STOREFRONT))]
        deployed_answers = [deployed.send(sub(API, STOREFRONT))]
        with pytest.raises(TimeoutError):
            socket.recv(timeout=1.0)  # re-checked, nothing lost: nothing said
        github_sim.change_installation(70001, "remove-repos", repos=[API])
        _age_visibility(1001)  # as 5 minutes later, when the kept answer has expired

        local.append(_receive(socket))
        reconcile(redeliver=False)
        deployed_answers.append(_messages(deployed.backend, deployed.connection_id)[-1])

    assert local == deployed_answers == [subscribed(API, STOREFRONT), subscribed(STOREFRONT)]
    assert deployed.subscriptions() == [STOREFRONT]
