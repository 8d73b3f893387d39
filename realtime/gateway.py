"""Sockets in production: API Gateway WebSocket API connections, fed through its Management API.

A connection is recorded on `$connect` (authenticated by the session cookie), its subscriptions in the
`subscriptions` table (checked against the user's visibility), and a change is posted to exactly the connections
subscribed to its repository. A connection API Gateway says is gone (410) is forgotten.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

import contextlib
import json
import logging
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from dashboard import metrics
from realtime.models import Connection, Event, Subscription

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 500


@cache
def management_client():
    import botocore.client
    import botocore.session

    config = botocore.client.Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2})
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


def fan_out(event: Event) -> tuple[int, int]:
    """Post a change to every connection subscribed to its repository; return (delivered, gone)."""
    text = f'{{"type":"change","id":"{event.event_id}","event":{event.data}}}'
    delivered = gone = 0
    for subscription in Subscription.query(event.repo_id):
        if post(subscription.connection_id, text):
            delivered += 1
        else:
            gone += 1
    if gone:
        logger.info("fan-out %s: %d delivered, %d connections gone", event.repo_id, delivered, gone)
    if delivered or gone:
        metrics.emit({"FanoutDelivered": delivered, "FanoutGone": gone})
    return delivered, gone


def change_to_connections(sender, event, **kwargs):
    """`change_published` receiver in deployed stages."""
    if settings.WEBSOCKET_API_ENDPOINT:
        fan_out(event)


def connection_open(connection_id: str, user_id: int, session_key: str) -> Connection:
    from realtime.groups import session_topic

    connection = Connection(
        connection_id=connection_id,
        user_id=user_id,
        connected_at=datetime.now(UTC),
        session_topic=session_topic(session_key),
    )
    connection.save()
    return connection


def subscriptions_set(connection: Connection, wanted: list[str], visible: set[str]) -> dict:
    """Subscribe the connection to the wanted repositories it may see; the answer the browser gets."""
    allowed = sorted((set(connection.subscribed_repos) | set(wanted)) & visible)
    if len(allowed) > MAX_SUBSCRIPTIONS:
        return {"type": "error", "message": f"at most {MAX_SUBSCRIPTIONS} subscriptions"}
    for repo in set(allowed) - set(connection.subscribed_repos):
        Subscription(repo_id=repo, connection_id=connection.connection_id, user_id=connection.user_id).save()
    for repo in set(connection.subscribed_repos) - set(allowed):
        Subscription(repo_id=repo, connection_id=connection.connection_id).delete()
    connection.update(actions=[Connection.subscribed_repos.set(allowed)])
    return {"type": "subscribed", "repos": allowed, "denied": sorted(set(wanted) - set(allowed))}


def subscriptions_drop(connection: Connection, repos: list[str]) -> dict:
    keep = sorted(set(connection.subscribed_repos) - set(repos))
    for repo in set(connection.subscribed_repos) & set(repos):
        Subscription(repo_id=repo, connection_id=connection.connection_id).delete()
    connection.update(actions=[Connection.subscribed_repos.set(keep)])
    return {"type": "subscribed", "repos": keep, "denied": []}


def answer(connection_id: str, message: dict) -> None:
    post(connection_id, json.dumps(message))


def connections_resubscribe() -> int:
    """What users may see changed: every subscription is dropped and every connection asked to subscribe again.

    The browser's new subscription is then checked against the fresh visibility. Posts go out in parallel so
    the webhook that caused this still answers in time.
    """
    from concurrent.futures import ThreadPoolExecutor

    connections = list(Connection.scan())
    for connection in connections:
        for repo in connection.subscribed_repos:
            Subscription(repo_id=repo, connection_id=connection.connection_id).delete()
        connection.update(actions=[Connection.subscribed_repos.set([])])
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda connection: answer(connection.connection_id, {"type": "resubscribe"}), connections))
    return len(connections)


def connections_close(*, user_id: int, session_key: str | None = None) -> int:
    """Close a user's connections (or only one session's): API Gateway drops the socket, we forget it."""
    from realtime.groups import session_topic

    wanted = session_topic(session_key) if session_key else None
    client, closed = management_client(), 0
    for key in Connection.by_user.query(user_id):
        connection = Connection.get(key.connection_id)
        if wanted and connection.session_topic != wanted:
            continue
        with contextlib.suppress(client.exceptions.GoneException):  # already gone: forgetting it is what is left
            client.delete_connection(ConnectionId=connection.connection_id)
        connection_forget(connection.connection_id)
        closed += 1
    return closed


def connections_recheck() -> int:
    """Drop subscriptions their users may no longer see (access can end with no event); return how many."""
    from accounts.models import UserRecord
    from runs.visibility import visible_repos

    dropped, visible_by_user = 0, {}
    for connection in Connection.scan():
        if not connection.subscribed_repos:
            continue
        if connection.user_id not in visible_by_user:
            try:
                visible_by_user[connection.user_id] = set(visible_repos(UserRecord.get(connection.user_id)).repos)
            except Exception:  # the user or GitHub is gone: the connection keeps nothing
                visible_by_user[connection.user_id] = set()
        lost = set(connection.subscribed_repos) - visible_by_user[connection.user_id]
        if lost:
            answer(connection.connection_id, subscriptions_drop(connection, sorted(lost)))
            dropped += len(lost)
    return dropped
