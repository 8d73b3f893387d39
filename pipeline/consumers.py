"""What happens after a change is stored: the pipeline's consumers, in the order each batch reaches them.

This list is the one place to add a consumer. Each takes a batch of new events (oldest first, in the stream's
order) and must tolerate seeing one again: the stream delivers at least once, and a batch that failed somewhere is
retried from its first failed record.
"""

from collections.abc import Callable
from dataclasses import dataclass

from realtime import fanout
from realtime.models import Event


@dataclass(frozen=True)
class Consumer:
    name: str  # in logs and metrics
    handle: Callable[[list[Event]], None]


CONSUMERS: tuple[Consumer, ...] = (
    # The open dashboards: coalesced, one message per connection per interval (realtime/coalesce.py).
    Consumer("browsers", fanout.changes_out),
)
