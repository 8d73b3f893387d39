"""The one publish call: "run R of repo X changed", "job J changed", "what users may see changed", "this user's (or
session's) access ended".

A change becomes an `Event` item written in the same DynamoDB transaction as the change itself, and nothing
more happens in the request that made it: the events table's stream carries each new event to the pipeline
(pipeline/), whose browser consumer (realtime/fanout.py) tells the live connections. Browsers that were away
catch up from the events table.
"""

import json
import secrets
import time
from datetime import UTC, datetime

from realtime.models import Event, event_bucket

# The "repository" of an event that concerns every connection, not one repository's.
EVERY_REPOSITORY = "*"


def event_id(now_ms: int | None = None) -> str:
    """An id that sorts by time (milliseconds), unique across containers by its random tail."""
    return f"{now_ms if now_ms is not None else int(time.time() * 1000):013d}-{secrets.token_hex(4)}"


def change_event(kind: str, repo_id: str, data: dict) -> Event:
    """The event announcing one change, not yet written: add it to the change's transaction."""
    now = datetime.now(UTC)
    return Event(
        bucket=event_bucket(now, repo_id),
        event_id=event_id(int(now.timestamp() * 1000)),
        kind=kind,
        repo_id=repo_id,
        data=json.dumps({"kind": kind, "repo": repo_id, **data}, separators=(",", ":")),
    )


def visibility_event() -> Event:
    """The event saying what users may see changed (an installation event): every connection re-checks."""
    return change_event("visibility", EVERY_REPOSITORY, {})


def access_ended_event(user_id: int, topic: str | None = None) -> Event:
    """The event ending a user's live sockets and streams, or only one session's (`topic`: its keyed hash, never the
    session key itself, realtime.groups.session_topic)."""
    return change_event("access-ended", EVERY_REPOSITORY, {"user_id": user_id, "session_topic": topic})
