"""What the browsers are told and who listens: the events published to them, and (in production) the API Gateway
WebSocket connections with their subscriptions."""

import zlib
from datetime import UTC, datetime, timedelta

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
# Each hour's events are spread over this many partitions, chosen by repository, so that no partition key takes
# more than its share of the writes (DynamoDB gives one partition key 1,000 write units a second; the scale model
# in bench/scale.py has the busiest hour).
BUCKET_SHARDS = 10


def _hour(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H")


def event_bucket(moment: datetime, repo_id: str) -> str:
    """The partition of a repository's events of one hour: `<UTC hour>#<shard>`, e.g. `2026-11-24T23#7`."""
    return f"{_hour(moment)}#{zlib.crc32(repo_id.encode()) % BUCKET_SHARDS}"


class Event(TableModel):
    """One change published to browsers, in a partition of its hour so catching up is a few queries.

    The event is written in the same transaction as the change it announces, so a change that happened is
    announced exactly once, and one that did not is never announced. The table's stream carries each new event
    to the pipeline's consumers (pipeline/).
    """

    class Meta(TableMeta):
        table_name = table("events")
        # The pipeline's source (pipeline/): each new event, as written, reaches its consumers through it.
        stream_view_type = "NEW_IMAGE"

    bucket = UnicodeAttribute(hash_key=True)  # event_bucket(): the UTC hour and a shard, e.g. 2026-11-24T23#7
    event_id = UnicodeAttribute(range_key=True, attr_name="eventId")  # sorts by time: <epoch ms>-<random>
    kind = UnicodeAttribute()  # "run", "job", or "visibility" (what users may see changed)
    repo_id = UnicodeAttribute(attr_name="repoId")
    data = UnicodeAttribute()  # the JSON the browser receives
    # PynamoDB's stub types the default as a datetime; a timedelta (expiry that long from now) is documented and works.
    expires_at = TTLAttribute(default=lambda: EVENT_RETENTION, attr_name="expiresAt")  # type: ignore[arg-type,return-value]

    @classmethod
    def since(cls, start: datetime, *, until: datetime | None = None) -> list["Event"]:
        """Every event from `start` on (consistent reads), in id order: one query per shard of each hour."""
        until = until or datetime.now(UTC)
        after = f"{int(start.timestamp() * 1000):013d}"
        found: list[Event] = []
        hour = start.replace(minute=0, second=0, microsecond=0)
        while hour <= until:
            for shard in range(BUCKET_SHARDS):
                found += cls.query(f"{_hour(hour)}#{shard}", cls.event_id >= after, consistent_read=True)
            hour += timedelta(hours=1)
        return sorted(found, key=lambda event: event.event_id)


class Subscription(TableModel):
    """One connection's subscription to one repository, so a change finds its connections with one query."""

    class Meta(TableMeta):
        table_name = table("subscriptions")

    repo_id = UnicodeAttribute(hash_key=True, attr_name="repoId")
    connection_id = UnicodeAttribute(range_key=True, attr_name="connectionId")
    user_id = NumberAttribute(attr_name="userId")
    # PynamoDB's stub types the default as a datetime; a timedelta (expiry that long from now) is documented and works.
    expires_at = TTLAttribute(default=lambda: RETENTION, attr_name="expiresAt")  # type: ignore[arg-type,return-value]
