import io

import pytest
from django.core.management import call_command

from accounts.models import SessionRecord, UserRecord, UserSettings
from dashboard.lib.dynamo import shared_client, table, table_models
from dashboard.lib.github.state import GitHubState
from dashboard.lib.tables import IndexSpec, SchemaConflict, TableSpec, ensure_table, table_spec
from realtime.models import Connection, Event, Subscription
from runs.models import RepoSummary, WorkflowJob, WorkflowRun
from webhooks.models import WebhookDelivery

# Every table (README "DynamoDB tables"), with the keys, indexes and TTL each must have in DynamoDB.
EXPECTED = {
    SessionRecord: (("sessionId", "S"), None, {"userId-index": (("userId", "N"), ("createdAt", "S"))}, "expiresAt"),
    UserRecord: (("userId", "N"), None, {}, None),
    UserSettings: (("userId", "N"), None, {}, None),
    WorkflowRun: (
        ("repoId", "S"),
        ("runId", "N"),
        {"active-status-index": (("activeStatus", "S"), ("updatedAt", "S"))},
        "expiresAt",
    ),
    WorkflowJob: (("runKey", "S"), ("jobId", "N"), {}, "expiresAt"),
    Connection: (("connectionId", "S"), None, {"userId-index": (("userId", "N"), ("connectedAt", "S"))}, "expiresAt"),
    WebhookDelivery: (("deliveryId", "S"), None, {}, "expiresAt"),
    RepoSummary: (("repoId", "S"), None, {}, None),
    GitHubState: (("key", "S"), None, {}, "expiresAt"),
    Event: (("bucket", "S"), ("eventId", "S"), {}, "expiresAt"),
    Subscription: (("repoId", "S"), ("connectionId", "S"), {}, "expiresAt"),
}


def _described(name):
    client = shared_client()
    description = client.describe_table(TableName=name)["Table"]
    types = {item["AttributeName"]: item["AttributeType"] for item in description["AttributeDefinitions"]}

    def keys(schema):
        by_type = {item["KeyType"]: item["AttributeName"] for item in schema}
        range_name = by_type.get("RANGE")
        return (by_type["HASH"], types[by_type["HASH"]]), ((range_name, types[range_name]) if range_name else None)

    hash_key, range_key = keys(description["KeySchema"])
    indexes = {index["IndexName"]: keys(index["KeySchema"]) for index in description.get("GlobalSecondaryIndexes", [])}
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    ttl_attribute = ttl.get("AttributeName") if ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING") else None
    return hash_key, range_key, indexes, ttl_attribute, description["BillingModeSummary"]["BillingMode"]


def test_it_registers_every_table_of_the_design():
    assert set(table_models()) == set(EXPECTED)


@pytest.mark.parametrize("model", list(EXPECTED), ids=lambda model: model.__name__)
def test_it_creates_each_table_with_its_keys_indexes_and_ttl(dynamodb, model):
    hash_key, range_key, indexes, ttl_attribute, billing = _described(model.Meta.table_name)

    assert (hash_key, range_key, indexes, ttl_attribute) == EXPECTED[model]
    assert billing == "PAY_PER_REQUEST"


def test_it_changes_nothing_when_run_again(dynamodb):
    output = io.StringIO()

    call_command("createtables", stdout=output)

    lines = output.getvalue().splitlines()
    assert lines == [f"{model.Meta.table_name} is up to date" for model in table_models()]


def test_it_names_tables_by_the_stage_prefix(settings):
    assert table("sessions") == f"{settings.DYNAMODB_TABLE_PREFIX}sessions"
    assert SessionRecord.Meta.table_name == table("sessions")


def _spec(name, *indexes, ttl="expiresAt"):
    return TableSpec(name=table(name), hash_key=("itemId", "S"), range_key=None, indexes=indexes, ttl_attribute=ttl)


def test_it_adds_a_missing_index_and_ttl_to_an_existing_table(dynamodb):
    client = shared_client()
    ensure_table(client, _spec("evolving", ttl=None))
    index = IndexSpec("ownerId-index", ("ownerId", "N"), ("createdAt", "S"), "KEYS_ONLY")

    try:
        actions = ensure_table(client, _spec("evolving", index))

        assert actions == [
            f"added index ownerId-index to {table('evolving')}",
            f"enabled TTL on {table('evolving')}.expiresAt",
        ]
        assert ensure_table(client, _spec("evolving", index)) == []
    finally:
        client.delete_table(TableName=table("evolving"))


def test_it_reports_a_key_conflict_and_changes_nothing(dynamodb):
    client = shared_client()
    ensure_table(client, _spec("conflicting"))
    changed = TableSpec(
        name=table("conflicting"), hash_key=("otherId", "N"), range_key=None, indexes=(), ttl_attribute=None
    )

    try:
        with pytest.raises(SchemaConflict, match="keys cannot change in place"):
            ensure_table(client, changed)
        assert client.describe_table(TableName=table("conflicting"))["Table"]["KeySchema"] == [
            {"AttributeName": "itemId", "KeyType": "HASH"}
        ]
    finally:
        client.delete_table(TableName=table("conflicting"))


def test_it_reads_each_models_schema_from_its_declaration():
    spec = table_spec(WorkflowRun)

    assert spec.hash_key == ("repoId", "S")
    assert spec.range_key == ("runId", "N")
    assert [index.name for index in spec.indexes] == ["active-status-index"]
    assert spec.ttl_attribute == "expiresAt"
