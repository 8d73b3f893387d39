"""Webhook deliveries seen, so a redelivered or duplicated delivery changes nothing."""

from datetime import timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from dashboard.lib.dynamo import TableMeta, TableModel, table

# GitHub lets a failed delivery be redelivered for 3 days; remembering it for longer keeps redelivery idempotent.
RETENTION = timedelta(days=7)


class WebhookDelivery(TableModel):
    """One `X-GitHub-Delivery`, kept past GitHub's 3-day redelivery window."""

    class Meta(TableMeta):
        table_name = table("webhook-deliveries")

    delivery_id = UnicodeAttribute(hash_key=True, attr_name="deliveryId")
    event = UnicodeAttribute()
    action = UnicodeAttribute(null=True)
    state = UnicodeAttribute(default="received")
    received_at = UTCDateTimeAttribute(attr_name="receivedAt")
    # PynamoDB's stub types the default as a datetime; a timedelta (expiry that long from now) is documented and works.
    expires_at = TTLAttribute(default=lambda: RETENTION, attr_name="expiresAt")  # type: ignore[arg-type,return-value]
