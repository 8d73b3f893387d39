"""What each DynamoDB table should look like, read off its PynamoDB model, and how to make it so.

`ensure_table` creates a missing table and adds missing indexes, TTL and stream to an existing one. It never deletes
or rewrites anything: a key that differs from the model is reported as a conflict for a person to resolve.
The same `TableSpec` is what the infra checks hold Terraform against.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import Attribute, TTLAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

Key = tuple[str, str]  # (attribute name, DynamoDB type: S, N or B)


class SchemaConflict(Exception):
    """A table exists with a schema that cannot be changed in place to match its model."""


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: Key
    range_key: Key | None
    projection: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    hash_key: Key
    range_key: Key | None
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None
    # The table's DynamoDB Stream (`Meta.stream_view_type`, e.g. NEW_IMAGE), or None for no stream.
    stream_view_type: str | None = None

    def attribute_definitions(self, *, indexes: tuple[IndexSpec, ...] | None = None) -> list[dict[str, Any]]:
        keys = {self.hash_key, *([self.range_key] if self.range_key else [])}
        for index in self.indexes if indexes is None else indexes:
            keys.add(index.hash_key)
            if index.range_key:
                keys.add(index.range_key)
        return [{"AttributeName": name, "AttributeType": kind} for name, kind in sorted(keys)]


def _keys(attributes: Iterable[Attribute[Any]]) -> tuple[Key, Key | None]:
    hash_key: Key | None = None
    range_key: Key | None = None
    for attribute in attributes:
        if attribute.is_hash_key:
            hash_key = (attribute.attr_name, attribute.attr_type)
        elif attribute.is_range_key:
            range_key = (attribute.attr_name, attribute.attr_type)
    if hash_key is None:
        raise ValueError("a table needs a hash key")
    return hash_key, range_key


def table_spec(model: type[Model]) -> TableSpec:
    """The schema a model declares."""
    hash_key, range_key = _keys(model.get_attributes().values())
    indexes = []
    for value in vars(model).values():
        if isinstance(value, GlobalSecondaryIndex):
            index_hash, index_range = _keys(value.Meta.attributes.values())
            projection = value.Meta.projection.projection_type
            indexes.append(IndexSpec(value.Meta.index_name, index_hash, index_range, projection))
    ttl = [attr.attr_name for attr in model.get_attributes().values() if isinstance(attr, TTLAttribute)]
    return TableSpec(
        name=model.Meta.table_name,
        hash_key=hash_key,
        range_key=range_key,
        indexes=tuple(sorted(indexes, key=lambda index: index.name)),
        ttl_attribute=ttl[0] if ttl else None,
        stream_view_type=getattr(model.Meta, "stream_view_type", None),
    )


def _key_schema(hash_key: Key, range_key: Key | None) -> list[dict[str, Any]]:
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    return schema


def _index_request(index: IndexSpec) -> dict[str, Any]:
    return {
        "IndexName": index.name,
        "KeySchema": _key_schema(index.hash_key, index.range_key),
        "Projection": {"ProjectionType": index.projection},
    }


def _existing_keys(key_schema: list[dict[str, Any]], types: dict[str, str]) -> tuple[Key, Key | None]:
    by_type = {item["KeyType"]: item["AttributeName"] for item in key_schema}
    hash_name, range_name = by_type["HASH"], by_type.get("RANGE")
    return (hash_name, types[hash_name]), ((range_name, types[range_name]) if range_name else None)


def ensure_table(client: Any, spec: TableSpec) -> list[str]:
    """Bring one table in line with its spec; return what was done, one line per action."""
    try:
        description = client.describe_table(TableName=spec.name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        description = None

    actions = []
    if description is None:
        request: dict[str, Any] = {
            "TableName": spec.name,
            "KeySchema": _key_schema(spec.hash_key, spec.range_key),
            "AttributeDefinitions": spec.attribute_definitions(),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if spec.indexes:
            request["GlobalSecondaryIndexes"] = [_index_request(index) for index in spec.indexes]
        if spec.stream_view_type:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
        client.create_table(**request)
        client.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        actions.append(f"created table {spec.name}")
    else:
        actions.extend(_ensure_indexes(client, spec, description))
        actions.extend(_ensure_stream(client, spec, description))
    actions.extend(_ensure_ttl(client, spec))
    return actions


def _ensure_indexes(client: Any, spec: TableSpec, description: dict[str, Any]) -> list[str]:
    types = {item["AttributeName"]: item["AttributeType"] for item in description["AttributeDefinitions"]}
    if _existing_keys(description["KeySchema"], types) != (spec.hash_key, spec.range_key):
        raise SchemaConflict(
            f"table {spec.name} has keys {description['KeySchema']} but the model declares "
            f"{_key_schema(spec.hash_key, spec.range_key)}; keys cannot change in place"
        )
    existing = {index["IndexName"]: index for index in description.get("GlobalSecondaryIndexes", [])}
    actions = []
    for index in spec.indexes:
        current = existing.get(index.name)
        if current is None:
            # DynamoDB adds one index per UpdateTable call, and only once the table is ACTIVE again.
            client.update_table(
                TableName=spec.name,
                AttributeDefinitions=spec.attribute_definitions(indexes=(index,)),
                GlobalSecondaryIndexUpdates=[{"Create": _index_request(index)}],
            )
            client.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            actions.append(f"added index {index.name} to {spec.name}")
        elif _existing_keys(current["KeySchema"], types) != (index.hash_key, index.range_key):
            raise SchemaConflict(f"index {index.name} of {spec.name} has other keys than the model declares")
    for name in sorted(set(existing) - {index.name for index in spec.indexes}):
        actions.append(f"left index {name} of {spec.name} in place (not in the model)")
    return actions


def _ensure_ttl(client: Any, spec: TableSpec) -> list[str]:
    if spec.ttl_attribute is None:
        return []
    ttl = client.describe_time_to_live(TableName=spec.name)["TimeToLiveDescription"]
    status, attribute = ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")
    if status in ("ENABLED", "ENABLING"):
        if attribute != spec.ttl_attribute:
            raise SchemaConflict(
                f"table {spec.name} expires items by {attribute} but the model declares {spec.ttl_attribute}"
            )
        return []
    client.update_time_to_live(
        TableName=spec.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
    )
    return [f"enabled TTL on {spec.name}.{spec.ttl_attribute}"]


def _ensure_stream(client: Any, spec: TableSpec, description: dict[str, Any]) -> list[str]:
    current = description.get("StreamSpecification") or {}
    if not spec.stream_view_type:
        return [f"left the stream of {spec.name} in place (not in the model)"] if current.get("StreamEnabled") else []
    if current.get("StreamEnabled"):
        if current.get("StreamViewType") != spec.stream_view_type:
            raise SchemaConflict(
                f"table {spec.name} streams {current.get('StreamViewType')} but the model declares "
                f"{spec.stream_view_type}; a stream's view type cannot change in place"
            )
        return []
    client.update_table(
        TableName=spec.name, StreamSpecification={"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
    )
    client.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return [f"enabled the {spec.stream_view_type} stream of {spec.name}"]
