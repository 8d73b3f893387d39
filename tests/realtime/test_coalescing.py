"""At most one message a second to each connection, carrying every change since its last."""

import json

import pytest

from realtime import fanout
from realtime.coalesce import Coalescer
from realtime.models import Event
from realtime.publish import change_event
from tests.realtime.test_websocket import _receive, _signed_in, _socket


class Clock:
    """Time that moves only when the coalescer sleeps, or when a test says so."""

    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _events(count: int) -> list[Event]:
    return [change_event("run", "acme/api", {"id": number}) for number in range(count)]


def test_the_first_change_after_a_quiet_interval_goes_at_once():
    clock = Clock()
    coalescer = Coalescer(1.0, read_ahead=lambda first: [], clock=lambda: clock.now, sleep=clock.sleep)

    first = _events(1)
    assert coalescer.due(first) == first
    clock.now += 1.5
    later = _events(1)
    assert coalescer.due(later) == later
    assert clock.slept == []


def test_a_burst_goes_as_two_messages_the_second_with_everything_written_meanwhile():
    clock = Clock()
    written = _events(100)  # a second's changes, as the table holds them
    coalescer = Coalescer(1.0, read_ahead=lambda first: written, clock=lambda: clock.now, sleep=clock.sleep)

    # The stream brings them in four batches, a quarter of a second apart (Lambda polls a shard 4 times a second).
    messages = []
    for start in range(0, 100, 25):
        due = coalescer.due(written[start : start + 25])
        if due:
            messages.append(due)
        clock.now += 0.25

    assert [len(message) for message in messages] == [25, 75]
    assert clock.slept == [pytest.approx(0.75)]  # the second waited out the interval since the first
    assert [event.event_id for message in messages for event in message] == [event.event_id for event in written]


def test_a_batch_that_failed_is_sent_again_at_once_when_the_stream_retries_it():
    clock = Clock()
    coalescer = Coalescer(1.0, read_ahead=lambda first: [], clock=lambda: clock.now, sleep=clock.sleep)
    batch = _events(3)
    assert coalescer.due(batch) == batch

    coalescer.failed(batch)

    assert coalescer.due(batch) == batch
    assert clock.slept == []


def test_a_change_sent_already_is_not_sent_again():
    clock = Clock()
    coalescer = Coalescer(0, read_ahead=lambda first: [], clock=lambda: clock.now, sleep=clock.sleep)
    batch = _events(2)
    coalescer.due(batch)

    assert coalescer.due(batch) == []


@pytest.fixture
def coalescing(settings):
    """The process's coalescer with the default interval of a second (the tests otherwise run with 0)."""
    settings.REALTIME_COALESCE_SECONDS = 1.0
    fanout.coalescer.cache_clear()
    yield
    fanout.coalescer.cache_clear()


def test_a_hundred_changes_within_a_second_reach_a_socket_in_at_most_two_messages(
    live_app, github_sim, settings, coalescing, stream
):
    alice = _signed_in("alice")
    with _socket(live_app, alice, settings) as socket:
        _receive(socket)
        socket.send(json.dumps({"type": "subscribe", "repos": ["acme/api"]}))
        _receive(socket)

        # A hundred changes within a second: their events, as the run cache writes them, 25 to a request.
        with Event.batch_write() as writes:
            for event in _events(100):
                writes.save(event)
        messages = []
        while sum(len(message["changes"]) for message in messages) < 100:
            messages.append(_receive(socket, timeout=10))

    assert all(message["type"] == "changes" for message in messages)
    assert len(messages) <= 2
    received = [change["event"]["id"] for message in messages for change in message["changes"]]
    assert sorted(received) == list(range(100))
