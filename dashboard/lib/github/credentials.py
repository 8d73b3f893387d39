"""The App's own short-lived credentials (its JWT, installation tokens), cached in this process.

Shared by the transport, which drops one GitHub refused, and by App authentication, which makes them.
"""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

TOKEN_REUSE_MARGIN = timedelta(minutes=5)
_tokens: dict[str, tuple[datetime, str]] = {}
_tokens_lock = threading.Lock()
_making_lock = threading.RLock()  # re-entered: making an installation token makes the App JWT


def _fresh(key: str, now: datetime) -> str | None:
    with _tokens_lock:
        cached = _tokens.get(key)
    return cached[1] if cached and cached[0] - TOKEN_REUSE_MARGIN > now else None


def cached(key: str, make: Callable[[datetime], tuple[datetime, str]]) -> str:
    """The credential under `key` while it has more than the reuse margin left, else a new one from `make`."""
    now = datetime.now(UTC)
    if value := _fresh(key, now):
        return value
    # One maker at a time: threads that missed together (a parallel backfill) wait and reuse its token.
    with _making_lock:
        if value := _fresh(key, now):
            return value
        expires_at, value = make(now)
        with _tokens_lock:
            _tokens[key] = (expires_at, value)
    return value


def forget(key: str | None = None) -> None:
    """Drop one credential (GitHub refused it), or all of them."""
    with _tokens_lock:
        if key is None:
            _tokens.clear()
        else:
            _tokens.pop(key, None)
