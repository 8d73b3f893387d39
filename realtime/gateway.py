"""Sockets in production: API Gateway WebSocket API connections, fed through its Management API.

A connection is recorded on `$connect` (authenticated by the session cookie), its subscriptions in the
`subscriptions` table (checked against the user's visibility), and a change is posted to exactly the connections
subscribed to its repository. A connection API Gateway says is gone (410) is forgotten. What is answered and
subscribed is `realtime/protocol.py`'s, shared with the local consumer: here its outcomes are carried out.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from dashboard.lib import metrics
from realtime import protocol
from realtime.groups import session_topic
from realtime.models import Connection, Event, Subscription

logger = logging.getLogger(__name__)


@cache
def management_client():
    import botocore.client
    import botocore.session

    config = botocore.client.Config(
        connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2}, max_pool_connections=POST_CONCURRENCY
    )
    return botocore.session.get_session().create_client(
        "apigatewaymanagementapi",
        region_name=settings.DYNAMODB_REGION,
        endpoint_url=settings.WEBSOCKET_API_ENDPOINT,
        config=config,
    )


def connection_forget(connection_id: str) -> None:
    """Delete a connection and its subscriptions."""
    try:
        connection = Connection.get(connection_id)
    except DoesNotExist:
        return
    for repo in connection.subscribed_repos:
        Subscription(repo_id=repo, connection_id=connection_id).delete()
    connection.delete()


def post(connection_id: str, data: str) -> bool:
    """Send one message; False (and the connection forgotten) if API Gateway says it is gone."""
    client = management_client()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data.encode())
    except client.exceptions.GoneException:
        connection_forget(connection_id)
        return False
    return True


# API Gateway's limit on one message to a connection (128 KB, of which each frame is 32 KB): a batch bigger than
# this goes as several messages, in order.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
MAX_MESSAGE_BYTES = 128 * 1024
# Posts in flight at once: each is one HTTPS round trip, so a thousand connections take ~1000/16 round trips.
POST_CONCURRENCY = 16
_posting = ThreadPoolExecutor(max_workers=POST_CONCURRENCY, thread_name_prefix="fanout")


def messages(events: list[Event]) -> list[str]:
    """The `changes` frames carrying `events` in order, each within API Gateway's message limit if it can be."""
    frames: list[str] = []
    items: list[str] = []
    size = len(protocol.framed_changes([]))
    for event in events:
        item = protocol.change_item(event.event_id, event.data)
        item_size = len(item.encode()) + 1  # and its comma
        if items and size + item_size > MAX_MESSAGE_BYTES:
            frames.append(protocol.framed_changes(items))
            items, size = [], len(protocol.framed_changes([]))
        items.append(item)
        size += item_size
    if items:
        frames.append(protocol.framed_changes(items))
    return frames


# What a connection's posting came to: delivered, gone (410, forgotten), or failed after botocore's retries.
DELIVERED, GONE, FAILED = "delivered", "gone", "failed"


def _connection_messages_post(connection_id: str, texts: list[str]) -> str:
    """One connection's messages, in order."""
    try:
        for text in texts:
            if len(text.encode()) > MAX_MESSAGE_BYTES:
                text = protocol.reset_frame()  # one change too big to send: the browser re-reads its snapshot
            if not post(connection_id, text):
                return GONE
    except (BotoCoreError, ClientError) as error:
        # Throttled, or API Gateway failing, past botocore's retries: this connection misses these changes (its
        # browser re-reads its page when it reconnects) rather than the whole batch being posted again to all.
        logger.warning("fan-out: a post to a connection failed: %s", type(error).__name__)
        return FAILED
    return DELIVERED


def changes_post(events: list[Event]) -> dict[str, int]:
    """Post a batch of changes to the connections subscribed to their repositories: each connection one message
    (more only past API Gateway's size limit) with the changes of its repositories, in order; each repository's
    subscriptions read once, and each distinct message serialized once. Return how many connections came to each
    outcome (DELIVERED, GONE, FAILED)."""
    by_repo: dict[str, list[Event]] = {}
    for event in events:
        by_repo.setdefault(event.repo_id, []).append(event)
    wanted: dict[str, set[str]] = {}  # connection: the repositories of this batch it follows
    for repo in by_repo:
        for subscription in Subscription.query(repo):
            wanted.setdefault(subscription.connection_id, set()).add(repo)
    framed: dict[frozenset[str], list[str]] = {}  # connections following the same repositories share their texts
    for repos in map(frozenset, wanted.values()):
        if repos not in framed:
            framed[repos] = messages([event for event in events if event.repo_id in repos])
    jobs = [(connection_id, framed[frozenset(repos)]) for connection_id, repos in wanted.items()]
    outcomes = Counter(_posting.map(lambda job: _connection_messages_post(*job), jobs))
    if outcomes[GONE] or outcomes[FAILED]:
        logger.info("fan-out: %s", dict(outcomes))
    if outcomes:
        metrics.emit({"FanoutDelivered": outcomes[DELIVERED], "FanoutGone": outcomes[GONE]}, failed=outcomes[FAILED])
    return {outcome: outcomes[outcome] for outcome in (DELIVERED, GONE, FAILED)}


def connection_open(connection_id: str, user_id: int, session_key: str) -> Connection:
    connection = Connection(
        connection_id=connection_id,
        user_id=user_id,
        connected_at=datetime.now(UTC),
        session_topic=session_topic(session_key),
    )
    connection.save()
    return connection


def _subscriptions_store(connection: Connection, outcome: protocol.Outcome) -> None:
    """The connection's subscriptions as the outcome leaves them: one item per repository, and the list."""
    if outcome.subscriptions is None:
        return
    before = set(connection.subscribed_repos)
    for repo in outcome.joined(before):
        Subscription(repo_id=repo, connection_id=connection.connection_id, user_id=connection.user_id).save()
    for repo in outcome.left(before):
        Subscription(repo_id=repo, connection_id=connection.connection_id).delete()
    connection.update(actions=[Connection.subscribed_repos.set(sorted(outcome.subscriptions))])


def _frames_post(connection_id: str, outcome: protocol.Outcome) -> None:
    for frame in outcome.frames:
        if not post(connection_id, frame):
            return  # gone, and forgotten
    if outcome.close is not None:
        connection_close(connection_id)


def outcome_carry_out(connection: Connection, outcome: protocol.Outcome) -> None:
    """Do what the protocol decided for this connection: store its subscriptions, post the frames, close it."""
    _subscriptions_store(connection, outcome)
    _frames_post(connection.connection_id, outcome)


def connection_close(connection_id: str) -> None:
    """API Gateway drops the socket, we forget it."""
    client = management_client()
    with contextlib.suppress(client.exceptions.GoneException):  # already gone: forgetting it is what is left
        client.delete_connection(ConnectionId=connection_id)
    connection_forget(connection_id)


def connections_resubscribe() -> int:
    """What users may see changed: every subscription is dropped and every connection asked to subscribe again.

    What each user may still see is not known here (it is the runs layer's), so nothing is kept: the browser's
    new subscription is checked against the fresh visibility. Posts go out in parallel so the webhook that
    caused this still answers in time.
    """
    connections = list(Connection.scan())
    outcomes = [protocol.resubscribe(connection.subscribed_repos, still_visible=set()) for connection in connections]
    for connection, outcome in zip(connections, outcomes, strict=True):
        _subscriptions_store(connection, outcome)
    with ThreadPoolExecutor(max_workers=16) as pool:
        jobs = zip(connections, outcomes, strict=True)
        list(pool.map(lambda job: _frames_post(job[0].connection_id, job[1]), jobs))
    return len(connections)


def connections_close(*, user_id: int, topic: str | None = None) -> int:
    """Close a user's connections (or only those of the session whose topic is `topic`): API Gateway drops the
    socket, we forget it."""
    wanted = topic
    closed = 0
    for key in Connection.by_user.query(user_id):
        connection = Connection.get(key.connection_id)
        if wanted and connection.session_topic != wanted:
            continue
        connection_close(connection.connection_id)
        closed += 1
    return closed


def connections_recheck(visible_to: Callable[[int], set[str]]) -> int:
    """Drop subscriptions their users may no longer see (access can end with no event); return how many.

    `visible_to(user_id)` says what a user may see now: it is the runs layer's to know, handed down.
    """
    dropped, visible_by_user = 0, {}
    for connection in Connection.scan():
        if not connection.subscribed_repos:
            continue
        user_id = int(connection.user_id)
        if user_id not in visible_by_user:
            visible_by_user[user_id] = visible_to(user_id)
        outcome = protocol.recheck(connection.subscribed_repos, visible_by_user[user_id])
        dropped += len(outcome.left(connection.subscribed_repos))
        outcome_carry_out(connection, outcome)
    return dropped
