"""The local WebSocket endpoint, `/ws`, served by Channels under `runserver`.

A socket belongs to a signed-in user (the session cookie, through Channels' AuthMiddlewareStack). It receives
the changes of the repositories it subscribed to, and only of those the user may see: a subscription is checked
against the user's visibility, and re-checked when an installation event changes what users may see.

What a message means and what is answered is `realtime/protocol.py`'s, shared with the WebSocket Lambda: this
consumer only carries out its outcomes (the hub's topics joined and left, frames sent, the close).
"""

import asyncio
from functools import partial

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from realtime import protocol
from realtime.fanout import ACCESS_ENDED, VISIBILITY_CHANGED
from realtime.groups import EVERYONE, repo_group, session_topic, user_topic
from realtime.hub import Outbox, hub
from runs.visibility import visible_names

# Access can end without any event reaching the app (a user removed from a team): re-checked this often.
RECHECK_SECONDS = 300


def _visible_names(user_id: int) -> set[str]:
    return visible_names(user_id)


class LiveConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accepting: the handshake is refused with 403
            return
        self.user_id = user.pk
        self.subscribed: frozenset[str] = frozenset()
        # A message's answer and a re-check both read and replace the subscriptions: one at a time.
        self.changing = asyncio.Lock()
        self.outbox = Outbox(self._deliver)
        session = self.scope.get("session")
        self.topics = [EVERYONE, user_topic(user.pk)]
        if session is not None and session.session_key:
            self.topics.append(session_topic(session.session_key))
        for topic in self.topics:
            hub.join(topic, self.outbox)
        self.rechecking = asyncio.ensure_future(self._recheck_every(RECHECK_SECONDS))
        await self.accept()
        await self.send(text_data=protocol.hello_frame(user.login))

    async def disconnect(self, code):
        outbox = getattr(self, "outbox", None)
        if outbox is None:
            return  # refused before accepting
        self.rechecking.cancel()
        for topic in (*self.topics, *(repo_group(repo) for repo in self.subscribed)):
            hub.leave(topic, outbox)
        outbox.close()

    async def receive(self, text_data=None, bytes_data=None):
        async with self.changing:
            outcome = await sync_to_async(protocol.respond)(
                text_data,
                binary=text_data is None,
                subscriptions=self.subscribed,
                visible=partial(_visible_names, self.user_id),
            )
            await self._carry_out(outcome)

    async def _deliver(self, text: str) -> None:
        """What the hub sends: a change, serialized once for every socket, or news that visibility changed."""
        if text == VISIBILITY_CHANGED:
            await self._recheck(protocol.resubscribe)
        elif text == ACCESS_ENDED:
            await self._carry_out(protocol.access_ended())
        else:
            await self.send(text_data=text)

    async def _carry_out(self, outcome: protocol.Outcome) -> None:
        before = self.subscribed
        for repo in outcome.joined(before):
            hub.join(repo_group(repo), self.outbox)
        for repo in outcome.left(before):
            hub.leave(repo_group(repo), self.outbox)
        if outcome.subscriptions is not None:
            self.subscribed = outcome.subscriptions
        for frame in outcome.frames:
            await self.send(text_data=frame)
        if outcome.close is not None:
            await self.close(code=outcome.close.code, reason=outcome.close.reason)

    async def _recheck_every(self, seconds: float):
        while True:
            await asyncio.sleep(seconds)
            await self._recheck(protocol.recheck)

    async def _recheck(self, decide) -> None:
        """Check the subscriptions against what the user may see now (`decide`: protocol.recheck or resubscribe)."""
        async with self.changing:
            visible = await sync_to_async(_visible_names)(self.user_id)
            await self._carry_out(decide(self.subscribed, visible))
