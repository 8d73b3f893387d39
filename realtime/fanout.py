"""Where a published change goes: this process's sockets and streams (local runs, through the hub), and, in
deployed stages (WEBSOCKET_API_ENDPOINT set), API Gateway's connections. The one place that decides which."""

from django.conf import settings

from realtime import gateway, protocol
from realtime.groups import EVERYONE, repo_group, session_topic, user_topic
from realtime.hub import hub
from realtime.models import Event

VISIBILITY_CHANGED = '{"type":"visibility-changed"}'
ACCESS_ENDED = '{"type":"access-ended"}'


def change_out(event: Event) -> None:
    """A stored change to the listeners of its repository."""
    hub.publish(repo_group(event.repo_id), protocol.change_frame(event.event_id, event.data))
    if settings.WEBSOCKET_API_ENDPOINT:
        gateway.fan_out(event)


def visibility_changed() -> None:
    """Every live connection re-checks its subscriptions (an installation event changed what users may see)."""
    if settings.WEBSOCKET_API_ENDPOINT:
        gateway.connections_resubscribe()
        return
    hub.publish(EVERYONE, VISIBILITY_CHANGED)


def access_ended(*, user_id: int, session_key: str | None = None) -> None:
    """End live sockets and streams: a session's at logout, or all of a user's when their access ends."""
    if settings.WEBSOCKET_API_ENDPOINT:
        gateway.connections_close(user_id=user_id, session_key=session_key)
        return
    hub.publish(session_topic(session_key) if session_key else user_topic(user_id), ACCESS_ENDED)
