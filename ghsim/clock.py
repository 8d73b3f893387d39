"""The simulated clock: the only source of time for runs, tokens, codes and rate-limit windows."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime


class SimClock:
    """A clock that moves only when told to, so a test can replay the same history."""

    def __init__(self, start: float) -> None:
        self._now = float(start)

    def now(self) -> float:
        """The current simulated time, in epoch seconds."""
        return self._now

    def move_to(self, when: float) -> None:
        """Move forward to `when`; the clock never goes back."""
        self._now = max(self._now, float(when))


def iso(when: float) -> str:
    """GitHub's timestamp format: UTC, whole seconds, `Z` suffix."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def parse_iso(text: str) -> float:
    """Epoch seconds from an ISO 8601 date or date-time (a naive value counts as UTC)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def http_date(when: float) -> str:
    """An RFC 7231 date for `Date` and `Last-Modified` headers."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(when))


def day_start(text: str) -> float:
    """Epoch seconds at 00:00 UTC of a `YYYY-MM-DD` date."""
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%d")))
