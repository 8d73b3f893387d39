"""Local fan-out: changes to the sockets and streams of this process, without a channel layer in the hot path.

Channels' in-memory layer puts every message through a queue and two tasks per socket, which caps a thousand
sockets at a few thousand messages a second, drops bursts over 100 silently and forgets sockets older than a
day (docs/decisions.md#channels-in-memory-layer). Here a publish, from any thread, is handed to the server's
event loop once; there each listener of the repository gets the already-serialized text appended to its own
ordered outbox, which one task per listener drains. Nothing is dropped: an outbox grows while its socket is slow.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

logger = logging.getLogger(__name__)


class Outbox:
    """One listener's messages, delivered in order by a single drain task."""

    def __init__(self, send: Callable[[str], Awaitable[None]]):
        self._send = send
        self._queue: deque[str] = deque()
        self._task: asyncio.Task | None = None

    def push(self, text: str) -> None:
        self._queue.append(text)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while self._queue:
            try:
                await self._send(self._queue.popleft())
            except Exception:  # the socket went away mid-send: nothing left to deliver to
                logger.debug("a listener went away with %d messages queued", len(self._queue))
                self._queue.clear()

    def close(self) -> None:
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()


class Hub:
    """Listeners by topic (a repository, or EVERYONE), on one event loop."""

    def __init__(self):
        self._topics: dict[str, set[Outbox]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def join(self, topic: str, outbox: Outbox) -> None:
        """Called on the server's loop (by a consumer or a stream)."""
        self._loop = asyncio.get_running_loop()
        self._topics.setdefault(topic, set()).add(outbox)

    def leave(self, topic: str, outbox: Outbox) -> None:
        members = self._topics.get(topic)
        if members is not None:
            members.discard(outbox)
            if not members:
                del self._topics[topic]

    def listeners(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    def publish(self, topic: str, text: str) -> None:
        """From any thread: `text` to every listener of `topic`."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # nobody has ever listened in this process
        loop.call_soon_threadsafe(self._deliver, topic, text)

    def _deliver(self, topic: str, text: str) -> None:
        for outbox in list(self._topics.get(topic, ())):
            outbox.push(text)

    def publish_changes(
        self, changes: Sequence[tuple[str, str, str]], frame: Callable[[list[tuple[str, str]]], str]
    ) -> None:
        """From any thread: changes as (topic, event id, JSON), oldest first; each listener gets one text, the
        `frame` of those of its topics, so a batch is one message per socket however many repositories it spans."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._deliver_changes, list(changes), frame)

    def _deliver_changes(
        self, changes: list[tuple[str, str, str]], frame: Callable[[list[tuple[str, str]]], str]
    ) -> None:
        wanted: dict[Outbox, list[tuple[str, str]]] = {}
        for topic, event_id, data in changes:
            for outbox in self._topics.get(topic, ()):
                wanted.setdefault(outbox, []).append((event_id, data))
        framed: dict[tuple[str, ...], str] = {}  # sockets of the same repositories share one serialized text
        for outbox, items in wanted.items():
            key = tuple(event_id for event_id, _ in items)
            if key not in framed:
                framed[key] = frame(items)
            outbox.push(framed[key])


hub = Hub()
