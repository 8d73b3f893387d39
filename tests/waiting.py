"""Waiting in tests for what another thread or process does: on a condition, with a deadline, never a fixed sleep."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
POLL_SECONDS = 0.05


def wait_until(
    condition: Callable[[], T], *, timeout: float = 10.0, what: str | Callable[[], str] = "the condition"
) -> T:
    """The condition's first truthy answer; fails naming `what` if none comes by the deadline."""
    deadline = time.monotonic() + timeout
    while not (answer := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        time.sleep(POLL_SECONDS)
    return answer
