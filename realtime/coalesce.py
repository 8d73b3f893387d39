"""At most one message a second to each connection, carrying every change since its last.

Without it, messages grow with changes times open dashboards (the scale model in bench/scale.py: API Gateway's
request quota is the first limit reached). The browser consumer sees the stream batch by batch, one batch at a
time per shard. A batch that comes after a quiet interval goes at once. One that comes sooner waits until an
interval has passed since the last message, then also takes every event the table received meanwhile (they are
in later batches, which will find them sent), so a burst of a second reaches each socket in at most two messages,
each change within the interval of being written. Delivery stays at least once: what was sent is remembered for
a while in this process only, so another container, or a restart, may send a change again, and a browser
ignores an id it already has.
"""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from realtime.models import Event

# Event ids come from each container's clock when its change commits, so one can land a little after a newer id:
# what arrived meanwhile is read from a little before the batch's oldest event.
OVERLAP = timedelta(seconds=5)
# How long a sent id is remembered: longer than a batch takes to follow the events read ahead of it.
MEMORY_SECONDS = 600.0


def written_at(event: Event) -> datetime:
    """When the event was written, from its id (milliseconds since the epoch, then a random tail)."""
    return datetime.fromtimestamp(int(event.event_id.split("-")[0]) / 1000, UTC)


def arrived_since(first: Event) -> list[Event]:
    """Every event written from a little before `first` on, from the table (consistent reads)."""
    return Event.since(written_at(first) - OVERLAP)


class Coalescer:
    """The events each message should carry, batch by batch, at most one message per `interval` seconds."""

    def __init__(
        self,
        interval: float,
        *,
        read_ahead: Callable[[Event], list[Event]] = arrived_since,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = interval
        self._read_ahead = read_ahead
        self._clock = clock
        self._sleep = sleep
        self._last_sent: float | None = None
        self._sent: dict[str, float] = {}  # event id: when sent (clock)
        self._retrying: set[str] = set()  # given by `due`, then not delivered: not held back again
        self._lock = threading.Lock()  # one batch at a time, as a shard's batches come

    def due(self, events: list[Event]) -> list[Event]:
        """What to send now for this batch (oldest first), having waited out the interval if need be."""
        with self._lock:
            fresh = self._unsent(events)
            if not fresh:
                return []
            retry = all(event.event_id in self._retrying for event in fresh)
            self._retrying.difference_update(event.event_id for event in fresh)
            wait = 0.0 if retry else self._wait()
            if wait > 0:
                self._sleep(wait)
                fresh = self._unsent(self._merged(fresh, self._read_ahead(fresh[0])))
            now = self._clock()
            self._last_sent = now
            self._forget_before(now - MEMORY_SECONDS)
            self._sent.update((event.event_id, now) for event in fresh)
            return fresh

    def failed(self, events: list[Event]) -> None:
        """Events `due` gave that were not delivered: no longer sent, and sent at once when they come again."""
        with self._lock:
            for event in events:
                self._sent.pop(event.event_id, None)
                self._retrying.add(event.event_id)

    def _wait(self) -> float:
        if self._last_sent is None or self.interval <= 0:
            return 0.0
        return self._last_sent + self.interval - self._clock()

    def _unsent(self, events: list[Event]) -> list[Event]:
        seen: set[str] = set()
        unsent = []
        for event in events:
            if event.event_id not in self._sent and event.event_id not in seen:
                seen.add(event.event_id)
                unsent.append(event)
        return unsent

    @staticmethod
    def _merged(batch: list[Event], read: list[Event]) -> list[Event]:
        """The batch in its stream order, then what was read ahead of it that it does not have, in id order."""
        have = {event.event_id for event in batch}
        return batch + [event for event in read if event.event_id not in have]

    def _forget_before(self, moment: float) -> None:
        for event_id in [event_id for event_id, sent in self._sent.items() if sent < moment]:
            del self._sent[event_id]
