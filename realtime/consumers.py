"""The local WebSocket endpoint, `/ws`, served by Channels under `runserver`.

A socket belongs to a signed-in user (the session cookie, through Channels' AuthMiddlewareStack). It receives
the changes of the repositories it subscribed to, and only of those the user may see: a subscription is checked
against the user's visibility, and re-checked when an installation event changes what users may see.
"""

import asyncio
import json

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from realtime.fanout import ACCESS_ENDED, VISIBILITY_CHANGED
from realtime.groups import EVERYONE, repo_group, session_topic, user_topic
from realtime.hub import Outbox, hub

MAX_SUBSCRIPTIONS = 500
# Access can end without any event reaching the app (a user removed from a team): re-checked this often.
RECHECK_SECONDS = 300


def _visible_names(user_id: int) -> set[str]:
    from accounts.models import UserRecord
    from runs.visibility import visible_repos

    return set(visible_repos(UserRecord.get(user_id)).repos)


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accepting: the handshake is refused with 403
            return
        self.user_id = user.pk
        self.subscribed: set[str] = set()
        self.outbox = Outbox(self._deliver)
        session = self.scope.get("session")
        self.topics = [EVERYONE, user_topic(user.pk)]
        if session is not None and session.session_key:
            self.topics.append(session_topic(session.session_key))
        for topic in self.topics:
            hub.join(topic, self.outbox)
        self.rechecking = asyncio.ensure_future(self._recheck_every(RECHECK_SECONDS))
        await self.accept()
        await self.send_json({"type": "hello", "login": user.login})

    async def disconnect(self, code):
        outbox = getattr(self, "outbox", None)
        if outbox is None:
            return  # refused before accepting
        self.rechecking.cancel()
        for topic in (*self.topics, *(repo_group(repo) for repo in self.subscribed)):
            hub.leave(topic, outbox)
        outbox.close()

    async def _deliver(self, text: str) -> None:
        """What the hub sends: a change, serialized once for every socket, or news that visibility changed."""
        if text == VISIBILITY_CHANGED:
            await self._recheck()
        elif text == ACCESS_ENDED:
            await self.close(code=4401)  # signed out, or the GitHub authorization was revoked
        else:
            await self.send(text_data=text)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "subscribe":
            await self._subscribe(content.get("repos"))
        elif kind == "unsubscribe":
            await self._unsubscribe(content.get("repos"))
        else:
            await self.send_json({"type": "error", "message": "unknown message type"})

    async def _subscribe(self, repos):
        if not isinstance(repos, list) or not all(isinstance(repo, str) for repo in repos):
            await self.send_json({"type": "error", "message": "repos must be a list of owner/repo names"})
            return
        if len(self.subscribed | set(repos)) > MAX_SUBSCRIPTIONS:
            await self.send_json({"type": "error", "message": f"at most {MAX_SUBSCRIPTIONS} subscriptions"})
            return
        visible = await sync_to_async(_visible_names)(self.user_id)
        allowed = [repo for repo in repos if repo in visible]
        for repo in allowed:
            hub.join(repo_group(repo), self.outbox)
        self.subscribed |= set(allowed)
        denied = sorted(set(repos) - set(allowed))
        await self.send_json({"type": "subscribed", "repos": sorted(self.subscribed), "denied": denied})

    async def _unsubscribe(self, repos):
        for repo in set(repos or []) & self.subscribed:
            hub.leave(repo_group(repo), self.outbox)
            self.subscribed.discard(repo)
        await self.send_json({"type": "subscribed", "repos": sorted(self.subscribed), "denied": []})

    async def _recheck_every(self, seconds: float):
        while True:
            await asyncio.sleep(seconds)
            await self._recheck()

    async def _recheck(self):
        """What users may see changed: drop subscriptions this user may no longer see."""
        visible = await sync_to_async(_visible_names)(self.user_id)
        lost = self.subscribed - visible
        for repo in lost:
            hub.leave(repo_group(repo), self.outbox)
        self.subscribed -= lost
        await self.send(text_data=json.dumps({"type": "subscribed", "repos": sorted(self.subscribed), "denied": []}))
