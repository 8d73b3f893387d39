"""`GET /events`: Server-Sent Events, for browsers whose WebSocket does not get through.

Events carry `id:` fields. A browser that comes back sends `Last-Event-ID` (or `last_event_id=` on its first
request) and first gets everything it missed from the events table. Locally the response then goes on streaming
live changes. API Gateway cannot stream (SSE_STREAM off when deployed): the response ends after the catch-up with
a `retry:` so EventSource reconnects shortly, and nothing is lost between two reconnects.
"""

import asyncio
import json
from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from dashboard.surfaces import api_view
from realtime import protocol
from realtime.fanout import ACCESS_ENDED, VISIBILITY_CHANGED
from realtime.groups import EVERYONE, repo_group, session_topic, user_topic
from realtime.hub import Outbox, hub
from realtime.models import EVENT_RETENTION, Event
from realtime.publish import event_id
from runs.visibility import visible_names

RETRY_MS = 3000
HEARTBEAT_SECONDS = 25  # a comment line keeps proxies from closing an idle stream
# A stream ends this often, so the browser's reconnect has the user's visibility checked again.
STREAM_SECONDS = 300
CATCH_UP_OVERLAP = timedelta(seconds=5)


def _frame(event: Event) -> str:
    return f"id: {event.event_id}\nevent: change\ndata: {event.data}\n\n"


def _since(last_event_id: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(last_event_id.split("-")[0]) / 1000, UTC)
    except (ValueError, OverflowError):
        return None


def events_since(last_event_id: str | None, repos: set[str]) -> tuple[list[Event], bool]:
    """Events after `last_event_id` for these repositories, and whether some may have expired unseen."""
    now = datetime.now(UTC)
    since = _since(last_event_id) if last_event_id else None
    if since is None:
        return [], bool(last_event_id)
    if since < now - EVENT_RETENTION:
        return [], True  # older than the log keeps: the browser must re-read its snapshot
    # Ids come from each container's clock when its change commits, so an older id can land a little after a
    # newer one: the catch-up re-reads a few seconds before the last id (consistently), and repeats are dropped
    # by id in the browser.
    events = Event.since(since - CATCH_UP_OVERLAP, until=now)
    return [event for event in events if event.repo_id in repos and event.event_id != last_event_id], False


def _visible(user_id: int) -> set[str]:
    return visible_names(user_id)


@require_safe
@api_view
def events(request):
    wanted = {name for name in request.GET.get("repos", "").split(",") if name}
    # As on the sockets (realtime/protocol.py): what the user may see is counted against the limit, never more.
    repos = wanted & _visible(request.user.pk)
    if len(repos) > protocol.MAX_SUBSCRIPTIONS:
        return JsonResponse({"error": protocol.too_many()}, status=400)
    last = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    if settings.SSE_STREAM:
        stream = _live(last, repos, request.user.pk, request.session.session_key)
    else:
        stream = iter([_catch_up(last, repos)[0]])
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _catch_up(last: str | None, repos: set[str]) -> tuple[str, set[str]]:
    """The opening of a response (retry, a reset if events were lost, what was missed) and the ids it sent.

    A browser without a last id is given one (the time now), so its next request resumes from here.
    """
    missed, gap = events_since(last, repos)
    head = f"retry: {RETRY_MS}\n\n" + ("event: reset\ndata: {}\n\n" if gap else "")
    if not last:
        head += f"id: {event_id()}\nevent: hello\ndata: {{}}\n\n"
    return head + "".join(map(_frame, missed)), {event.event_id for event in missed}


async def _live(last: str | None, repos: set[str], user_id: int, session_key: str | None):
    """The catch-up, then live changes from this process's hub until the browser goes."""
    arrived: asyncio.Queue[str] = asyncio.Queue()

    async def enqueue(text: str) -> None:
        arrived.put_nowait(text)

    outbox = Outbox(enqueue)
    topics = [EVERYONE, user_topic(user_id), *(repo_group(repo) for repo in repos)]
    if session_key:
        topics.append(session_topic(session_key))
    for topic in topics:
        hub.join(topic, outbox)
    try:
        # Joined first, caught up second: a change made in between is in the catch-up, the stream, or both.
        head, sent = await sync_to_async(_catch_up)(last, repos)
        yield head
        deadline = asyncio.get_running_loop().time() + STREAM_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            try:
                text = await asyncio.wait_for(arrived.get(), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            if text == VISIBILITY_CHANGED:
                return  # the browser reconnects at once (retry:) and its repositories are checked afresh
            if text == ACCESS_ENDED:
                return  # signed out or revoked: the reconnect is refused
            chunk = _chunk(json.loads(text), sent)
            if chunk:
                yield chunk
    finally:
        for topic in topics:
            hub.leave(topic, outbox)
        outbox.close()


def _chunk(message: dict, sent: set[str]) -> str:
    """One hub message as SSE events, sent together: each change not already sent (the catch-up may have)."""
    if message.get("type") == "reset":
        return "event: reset\ndata: {}\n\n"
    chunk = ""
    for change in message.get("changes", ()) if message.get("type") == "changes" else ():
        if change["id"] not in sent:
            sent.add(change["id"])
            chunk += f"id: {change['id']}\nevent: change\ndata: {json.dumps(change['event'])}\n\n"
    return chunk
