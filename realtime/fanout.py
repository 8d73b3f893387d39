"""The browser consumer of the pipeline, and where a change goes: this process's sockets and streams (local runs,
through the hub), and, in deployed stages (WEBSOCKET_API_ENDPOINT set), API Gateway's connections. The one place
that decides which."""

import json
from functools import cache

from django.conf import settings

from realtime import gateway, protocol
from realtime.coalesce import Coalescer
from realtime.groups import EVERYONE, repo_group, session_topic, user_topic
from realtime.hub import hub
from realtime.models import Event
from realtime.publish import access_ended_event

# Events about connections rather than a repository's changes: carried out, not sent.
SIGNALS = {"visibility", "access-ended"}

VISIBILITY_CHANGED = '{"type":"visibility-changed"}'
ACCESS_ENDED = '{"type":"access-ended"}'


@cache
def coalescer() -> Coalescer:
    """This process's: the stream's batches come to it one at a time (one shard, one reader or invocation)."""
    return Coalescer(settings.REALTIME_COALESCE_SECONDS)


def changes_out(events: list[Event]) -> None:
    """A batch of stored events, from the stream, to the connections listening (the pipeline's browser consumer)."""
    due = coalescer().due(events)
    try:
        _deliver(due)
    except Exception:
        coalescer().failed(due)  # the stream retries them: sent again then, without waiting
        raise


def _deliver(events: list[Event]) -> None:
    if any(event.kind == "visibility" for event in events):
        visibility_changed()
    for event in events:
        if event.kind == "access-ended":
            ended = json.loads(event.data)
            _connections_end(user_id=int(ended["user_id"]), topic=ended.get("session_topic"))
    changes = [event for event in events if event.kind not in SIGNALS]
    if not changes:
        return
    hub.publish_changes(
        [(repo_group(event.repo_id), event.event_id, event.data) for event in changes], protocol.changes_frame
    )
    if settings.WEBSOCKET_API_ENDPOINT:
        gateway.changes_post(changes)


def visibility_changed() -> None:
    """Every live connection re-checks its subscriptions (an installation event changed what users may see)."""
    if settings.WEBSOCKET_API_ENDPOINT:
        gateway.connections_resubscribe()
        return
    hub.publish(EVERYONE, VISIBILITY_CHANGED)


def access_ended(*, user_id: int, session_key: str | None = None) -> None:
    """End live sockets and streams: a session's at logout, or all of a user's when their access ends. Written as an
    event, so whoever asks (a webhook, a page) only writes, and the stream's consumer closes them."""
    access_ended_event(user_id, session_topic(session_key) if session_key else None).save()


def _connections_end(*, user_id: int, topic: str | None) -> None:
    if settings.WEBSOCKET_API_ENDPOINT:
        gateway.connections_close(user_id=user_id, topic=topic)
        return
    hub.publish(topic or user_topic(user_id), ACCESS_ENDED)
