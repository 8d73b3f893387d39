"""The socket protocol on its own: pure, so its rules are checked without a socket (both stacks run them in
test_protocol_both_stacks.py)."""

import json

import pytest

from realtime import protocol


def _answer(outcome):
    (frame,) = outcome.frames
    return json.loads(frame)


def test_visibility_comes_before_the_limit():
    visible = {f"acme/r{n}" for n in range(400)}
    asked = sorted(visible) + [f"other/r{n}" for n in range(200)]  # 600 asked, 400 of them visible

    outcome = protocol.subscribe(set(), asked, visible)

    assert outcome.subscriptions == visible
    assert _answer(outcome) == {"type": "subscribed", "repos": sorted(visible), "denied": sorted(asked[400:])}


def test_the_limit_counts_what_would_be_subscribed_and_refuses_it_whole():
    visible = {f"acme/r{n}" for n in range(600)}
    current = {f"acme/r{n}" for n in range(450)}

    outcome = protocol.subscribe(current, [f"acme/r{n}" for n in range(450, 501)], visible)

    assert outcome.subscriptions is None  # nothing changes
    assert _answer(outcome) == {"type": "error", "message": "at most 500 subscriptions"}
    assert protocol.subscribe(current, [f"acme/r{n}" for n in range(450, 500)], visible).subscriptions is not None


def test_a_subscribe_also_drops_what_is_no_longer_visible():
    outcome = protocol.subscribe({"acme/gone", "acme/api"}, ["acme/web"], {"acme/api", "acme/web"})

    assert outcome.left({"acme/gone", "acme/api"}) == {"acme/gone"}
    assert outcome.joined({"acme/gone", "acme/api"}) == {"acme/web"}
    assert _answer(outcome) == {"type": "subscribed", "repos": ["acme/api", "acme/web"], "denied": []}


def test_visibility_is_read_only_for_a_well_formed_subscribe():
    def never():
        raise AssertionError("visibility read")

    for text in ('{"type": "ping"}', '{"type": "unsubscribe", "repos": []}', '{"type": "subscribe"}', "x"):
        protocol.respond(text, subscriptions=set(), visible=never)


def test_a_recheck_says_nothing_when_nothing_was_lost():
    assert protocol.recheck({"acme/api"}, {"acme/api", "acme/web"}) == protocol.Outcome()
    assert _answer(protocol.recheck({"acme/api", "acme/web"}, {"acme/web"}))["repos"] == ["acme/web"]


@pytest.mark.parametrize(
    ("still_visible", "kept"), [({"acme/web"}, {"acme/web"}), (set(), set())], ids=["local", "deployed"]
)
def test_resubscribe_keeps_what_is_known_visible_and_asks_again(still_visible, kept):
    outcome = protocol.resubscribe({"acme/api", "acme/web"}, still_visible)

    assert outcome.subscriptions == kept
    assert _answer(outcome) == {"type": "resubscribe"}


def test_a_changes_frame_carries_each_stored_json_as_it_is_in_order():
    frame = protocol.changes_frame(
        [
            ("0001795564740000-0a1b2c3d", '{"kind":"run","repo":"acme/api"}'),
            ("0001795564740001-0a1b2c3e", '{"kind":"job","repo":"acme/web"}'),
        ]
    )

    assert json.loads(frame) == {
        "type": "changes",
        "changes": [
            {"id": "0001795564740000-0a1b2c3d", "event": {"kind": "run", "repo": "acme/api"}},
            {"id": "0001795564740001-0a1b2c3e", "event": {"kind": "job", "repo": "acme/web"}},
        ],
    }


def test_closes_are_api_gateways_codes():
    assert protocol.parse("{}", binary=True) == protocol.Close(1003, "text frames only")
    assert protocol.parse(" " * (protocol.MAX_MESSAGE_BYTES + 1)) == protocol.Close(1009, "message too big")
    assert protocol.access_ended().close.code == 4401
