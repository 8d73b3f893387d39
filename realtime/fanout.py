"""Delivering published changes to this process's WebSocket consumers (local runs)."""

from channels.layers import get_channel_layer

from realtime.groups import EVERYONE, repo_group


def change_to_sockets(sender, event, **kwargs):
    """`change_published` receiver: the change goes to the sockets subscribed to its repository."""
    layer = get_channel_layer()
    if layer is None or not hasattr(layer, "group_send_threadsafe"):
        return
    text = f'{{"type":"change","id":"{event.event_id}","event":{event.data}}}'
    layer.group_send_threadsafe(repo_group(event.repo_id), {"type": "change.event", "text": text})


def visibility_to_sockets(**kwargs):
    """Every socket re-checks its subscriptions (an installation event changed what users may see)."""
    from django.conf import settings

    if settings.WEBSOCKET_API_ENDPOINT:
        from realtime.gateway import connections_resubscribe

        connections_resubscribe()
        return
    layer = get_channel_layer()
    if layer is not None and hasattr(layer, "group_send_threadsafe"):
        layer.group_send_threadsafe(EVERYONE, {"type": "visibility.changed"})
