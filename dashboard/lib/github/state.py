"""What the GitHub client remembers between requests and across containers."""

from datetime import timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from dashboard.lib.dynamo import TableMeta, TableModel, table

# ETags are worth keeping while the data they stand for might still be asked for again.
ETAG_RETENTION = timedelta(days=7)


class GitHubState(TableModel):
    """One small fact about GitHub, by key: `etag#<sha256 of identity, url and parameters>`, `budget#<identity>`,
    `visibility-epoch`, `run-miss#<repo>#<run id>`, `run-lookups#<user id>#<window>`, `redelivered#<guid>` or
    `deliveries-listed-through`."""

    class Meta(TableMeta):
        table_name = table("github-state")

    key = UnicodeAttribute(hash_key=True)
    etag = UnicodeAttribute(null=True)
    remaining = NumberAttribute(null=True)
    limit = NumberAttribute(null=True)
    reset_at = UTCDateTimeAttribute(null=True, attr_name="resetAt")
    blocked_until = UTCDateTimeAttribute(null=True, attr_name="blockedUntil")
    epoch = NumberAttribute(null=True)
    tally = NumberAttribute(null=True)  # a counter within a window, e.g. `run-lookups#<user id>#<window>`
    delivery_id = NumberAttribute(null=True, attr_name="deliveryId")  # `deliveries-listed-through`: GitHub's id
    updated_at = UTCDateTimeAttribute(null=True, attr_name="updatedAt")
    expires_at = TTLAttribute(null=True, attr_name="expiresAt")
