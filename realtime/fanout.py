"""Delivering published changes to this process's sockets and streams (local runs)."""

from realtime.groups import EVERYONE, repo_group, session_topic, user_topic
from realtime.hub import hub

VISIBILITY_CHANGED = '{"type":"visibility-changed"}'
ACCESS_ENDED = '{"type":"access-ended"}'


def change_to_sockets(sender, event, **kwargs):
    """`change_published` receiver: the change goes to the listeners of its repository."""
    hub.publish(repo_group(event.repo_id), f'{{"type":"change","id":"{event.event_id}","event":{event.data}}}')


def visibility_to_sockets(**kwargs):
    """Every socket re-checks its subscriptions (an installation event changed what users may see)."""
    from django.conf import settings

    if settings.WEBSOCKET_API_ENDPOINT:
        from realtime.gateway import connections_resubscribe

        connections_resubscribe()
        return
    hub.publish(EVERYONE, VISIBILITY_CHANGED)


def access_ended(*, user_id: int, session_key: str | None = None) -> None:
    """End live sockets and streams: a session's at logout, or all of a user's when their access ends."""
    from django.conf import settings

    if settings.WEBSOCKET_API_ENDPOINT:
        from realtime.gateway import connections_close

        connections_close(user_id=user_id, session_key=session_key)
        return
    hub.publish(session_topic(session_key) if session_key else user_topic(user_id), ACCESS_ENDED)
