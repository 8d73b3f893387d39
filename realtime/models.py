"""Open browser connections (API Gateway WebSocket connections in production)."""

from datetime import timedelta

from pynamodb.attributes import ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from dashboard.dynamo import TableMeta, TableModel, table

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
    subscribed_repos = ListAttribute(of=UnicodeAttribute, default=list, attr_name="subscribedRepos")
    expires_at = TTLAttribute(default=lambda: RETENTION, attr_name="expiresAt")

    by_user = ConnectionsByUser()
