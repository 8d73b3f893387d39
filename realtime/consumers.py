"""The local WebSocket endpoint, `/ws`, served by Channels under `runserver`."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Answers the browser's heartbeat; subscriptions and pushes are added by the realtime layer."""

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "message": "unknown message type"})
