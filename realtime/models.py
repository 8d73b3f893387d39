"""Open browser connections (API Gateway WebSocket connections in production)."""

from datetime import timedelta

from pynamodb.attributes import ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from dashboard.lib.dynamo import TableMeta, TableModel, table

# API Gateway closes a WebSocket after 2 hours; a connection whose $disconnect was lost expires a little later.
RETENTION = timedelta(hours=2, minutes=15)


class ConnectionsByUser(GlobalSecondaryIndex):
    """A user's open connections, to close them when the user loses access or signs out."""

    class Meta:
        index_name = "userId-index"
        projection = KeysOnlyProjection()

    user_id = NumberAttribute(hash_key=True, attr_name="userId")
    connected_at = UTCDateTimeAttribute(range_key=True, attr_name="connectedAt")


class Connection(TableModel):
    """One open WebSocket connection and the repos it has subscribed to."""

    class Meta(TableMeta):
        table_name = table("connections")

    connection_id = UnicodeAttribute(hash_key=True, attr_name="connectionId")
    user_id = NumberAttribute(attr_name="userId")
    connected_at = UTCDateTimeAttribute(attr_name="connectedAt")
    # Read as strings: PynamoDB's stub types a list's items as the `of` attribute class itself.
    subscribed_repos: ListAttribute[str] = ListAttribute(
        of=UnicodeAttribute,  # type: ignore[arg-type]
        default=list,
        attr_name="subscribedRepos",
    )
    # A keyed hash of the session that opened it (groups.session_topic), to close it at that session's logout.
    session_topic = UnicodeAttribute(null=True, attr_name="sessionTopic")
    # PynamoDB's stub types the default as a datetime; a timedelta (expiry that long from now) is documented and works.
    expires_at = TTLAttribute(default=lambda: RETENTION, attr_name="expiresAt")  # type: ignore[arg-type,return-value]

    by_user = ConnectionsByUser()


# Long enough for a browser to reconnect and catch up (SSE through API Gateway reconnects every few seconds).
EVENT_RETENTION = timedelta(hours=1)


class Event(TableModel):
    """One change published to browsers, in an hour's partition so catching up is one query.

    The event is written in the same transaction as the change it announces, so a change that happened is
    announced exactly once, and one that did not is never announced.
    """

    class Meta(TableMeta):
        table_name = table("events")

    bucket = UnicodeAttribute(hash_key=True)  # the UTC hour, e.g. 2026-11-24T23
    event_id = UnicodeAttribute(range_key=True, attr_name="eventId")  # sorts by time: <epoch ms>-<random>
    kind = UnicodeAttribute()  # "run" or "job"
    repo_id = UnicodeAttribute(attr_name="repoId")
    data = UnicodeAttribute()  # the JSON the browser receives
    # PynamoDB's stub types the default as a datetime; a timedelta (expiry that long from now) is documented and works.
    expires_at = TTLAttribute(default=lambda: EVENT_RETENTION, attr_name="expiresAt")  # type: ignore[arg-type,return-value]


class Subscription(TableModel):
    """One connection's subscription to one repository, so a change finds its connections with one query."""

    class Meta(TableMeta):
        table_name = table("subscriptions")

    repo_id = UnicodeAttribute(hash_key=True, attr_name="repoId")
    connection_id = UnicodeAttribute(range_key=True, attr_name="connectionId")
    user_id = NumberAttribute(attr_name="userId")
    # PynamoDB's stub types the default as a datetime; a timedelta (expiry that long from now) is documented and works.
    expires_at = TTLAttribute(default=lambda: RETENTION, attr_name="expiresAt")  # type: ignore[arg-type,return-value]
