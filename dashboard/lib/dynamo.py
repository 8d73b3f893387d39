"""The DynamoDB data layer every app shares: one base Meta, one botocore client, and the table registry.

Models declare `class Meta(TableMeta): table_name = table("sessions")`; the region, endpoint, prefix, timeouts
and retries come from settings, so no table name or endpoint is ever written in a model.
"""

import threading
from typing import Any, TypeVar

import botocore.client
import botocore.session
from django.conf import settings
from pynamodb.attributes import Attribute
from pynamodb.connection import Connection
from pynamodb.expressions.update import RemoveAction, SetAction
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from dashboard.lib import metrics

_T = TypeVar("_T")


def table(name: str) -> str:
    """The full table name for this stage, e.g. `actions-dashboard-prod-sessions`."""
    return f"{settings.DYNAMODB_TABLE_PREFIX}{name}"


def _credentials() -> tuple[str | None, str | None]:
    # DynamoDB Local accepts any credentials but botocore refuses to sign without some, so a local endpoint
    # gets placeholders unless the environment supplies real ones. In AWS the Lambda role supplies them.
    if settings.DYNAMODB_ENDPOINT_URL:
        return "local", "local"
    return None, None


class TableMeta:
    """Connection settings shared by every table."""

    region = settings.DYNAMODB_REGION
    host = settings.DYNAMODB_ENDPOINT_URL or None
    connect_timeout_seconds = settings.DYNAMODB_CONNECT_TIMEOUT
    read_timeout_seconds = settings.DYNAMODB_READ_TIMEOUT
    max_retry_attempts = settings.DYNAMODB_MAX_RETRIES
    max_pool_connections = 20
    billing_mode = "PAY_PER_REQUEST"
    aws_access_key_id, aws_secret_access_key = _credentials()


_client = None
_client_lock = threading.Lock()

# Error codes by which DynamoDB refuses a request for throughput (on-demand tables too, past their limits).
THROTTLING = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def throttles_count(response: Any = None, operation: Any = None, **kwargs: Any) -> None:
    """botocore's `needs-retry` event, raised once per attempt: emit a metric for each throttled one.

    Returns None, so botocore's own retry handler still decides whether to retry.
    """
    if not response or not isinstance(response[1], dict):
        return None
    parsed = response[1]
    code = parsed.get("Error", {}).get("Code")
    # A transaction refused for throughput names it per item.
    reasons = parsed.get("CancellationReasons") or []
    if code in THROTTLING or any(reason.get("Code") == "ThrottlingError" for reason in reasons):
        metrics.emit({"DynamoDBThrottles": 1}, operation=getattr(operation, "name", None))
    return None


def shared_client() -> Any:
    """One botocore DynamoDB client for every table.

    PynamoDB builds a botocore session and client per model class, ~40 ms each on a cold Lambda start. A
    botocore client is thread-safe and not tied to a table, so one serves them all.
    """
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                config = botocore.client.Config(
                    connect_timeout=TableMeta.connect_timeout_seconds,
                    read_timeout=TableMeta.read_timeout_seconds,
                    max_pool_connections=TableMeta.max_pool_connections,
                    retries={"total_max_attempts": 1 + TableMeta.max_retry_attempts, "mode": "standard"},
                    parameter_validation=False,
                )
                session = botocore.session.get_session()
                if TableMeta.aws_access_key_id:
                    session.set_credentials(TableMeta.aws_access_key_id, TableMeta.aws_secret_access_key)
                client = session.create_client("dynamodb", TableMeta.region, endpoint_url=TableMeta.host, config=config)
                client.meta.events.register_first("needs-retry.dynamodb", throttles_count)
                _client = client
    return _client


class TableModel(Model):
    """Base of every DynamoDB model: hands PynamoDB the shared client instead of letting it build its own."""

    @classmethod
    def _get_connection(cls) -> Any:
        connection = super()._get_connection()
        # `TableConnection.connection` is PynamoDB's low-level Connection; its `_client` is the botocore client
        # it would otherwise create lazily (pynamodb 6.1, pinned). A test checks every model uses this one.
        if connection.connection._client is None:
            connection.connection._client = shared_client()
        return connection


def table_models() -> list[type[TableModel]]:
    """Every concrete model, from every installed app, in a stable order."""
    found: list[type[TableModel]] = []
    pending = list(TableModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if getattr(model.Meta, "table_name", None):
            found.append(model)
    return sorted(found, key=lambda model: model.Meta.table_name)


def transaction() -> TransactWrite:
    """A TransactWriteItems on the shared client: up to 100 conditional writes that all happen, or none."""
    connection = Connection(region=TableMeta.region, host=TableMeta.host)
    connection._client = shared_client()  # see TableModel._get_connection
    return TransactWrite(connection=connection)


def set_or_remove(attribute: Attribute[_T], value: _T | None) -> SetAction | RemoveAction:
    """An update action that sets the attribute, or removes it when the value is None (rather than storing NULL)."""
    return attribute.set(value) if value is not None else attribute.remove()


def _plain(attribute: dict[str, Any]) -> Any:
    """One attribute value in DynamoDB's form (`{"N": "3"}`) as a plain value."""
    ((kind, value),) = attribute.items()
    if kind == "N":
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: _plain(item) for key, item in value.items()}
    if kind == "L":
        return [_plain(item) for item in value]
    return value


def batch_get(
    request: dict[str, dict[str, Any]], *, raw: frozenset[str] = frozenset()
) -> dict[str, list[dict[str, Any]]]:
    """Items from one BatchGetItem (any tables, at most 100 keys), retrying what DynamoDB left unprocessed.

    Items come back as plain values, except those of the `raw` tables, left in DynamoDB's form for a model.
    """
    client = shared_client()
    found: dict[str, list[dict[str, Any]]] = {}
    pending: dict[str, dict[str, Any]] | None = request
    while pending:
        answer = client.batch_get_item(RequestItems=pending)
        for table_name, items in answer["Responses"].items():
            if table_name not in raw:
                items = [{key: _plain(value) for key, value in item.items()} for item in items]
            found.setdefault(table_name, []).extend(items)
        pending = answer.get("UnprocessedKeys") or None
    return found
