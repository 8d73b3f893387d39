"""The one publish call: "run R of repo X changed", "job J changed".

A change becomes an `Event` item written in the same DynamoDB transaction as the change itself, then, once
that transaction has committed, `published` hands it to the fan-out (realtime/fanout.py), which tells the live
connections. Browsers that were away catch up from the events table.
"""

import json
import secrets
import time
from datetime import UTC, datetime

from realtime import fanout
from realtime.models import Event


def event_id(now_ms: int | None = None) -> str:
    """An id that sorts by time (milliseconds), unique across containers by its random tail."""
    return f"{now_ms if now_ms is not None else int(time.time() * 1000):013d}-{secrets.token_hex(4)}"


def change_event(kind: str, repo_id: str, data: dict) -> Event:
    """The event announcing one change, not yet written: add it to the change's transaction."""
    now = datetime.now(UTC)
    return Event(
        bucket=now.strftime("%Y-%m-%dT%H"),
        event_id=event_id(int(now.timestamp() * 1000)),
        kind=kind,
        repo_id=repo_id,
        data=json.dumps({"kind": kind, "repo": repo_id, **data}, separators=(",", ":")),
    )


def published(events: list[Event]) -> None:
    """Tell the live connections about events whose changes have committed."""
    for event in events:
        fanout.change_out(event)
