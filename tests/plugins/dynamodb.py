"""A real DynamoDB Local for the tests: one in-memory instance on a free port for the whole run.

The endpoint and a per-run table prefix go into the environment before Django reads its settings; the process
starts only when a test first asks for the `dynamodb` fixture, and stops when the run ends. Each test that
uses `dynamodb` gets empty tables.
"""

import json
import os

import pytest

from devstack import dynamodb_local

_PORT = dynamodb_local.free_port()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    os.environ["DYNAMODB_ENDPOINT_URL"] = f"http://127.0.0.1:{_PORT}"
    os.environ["DYNAMODB_TABLE_PREFIX"] = f"test-{os.getpid()}-"
    for name in ("DYNAMODB_CONNECT_TIMEOUT", "DYNAMODB_READ_TIMEOUT", "DYNAMODB_MAX_RETRIES", "DYNAMODB_REGION"):
        os.environ.pop(name, None)


@pytest.fixture(scope="session")
def dynamodb_server():
    """The DynamoDB Local process for this run, with every table created."""
    from django.core.management import call_command

    process = dynamodb_local.start(port=_PORT)
    try:
        call_command("createtables", stdout=open(os.devnull, "w"))  # noqa: SIM115
        yield os.environ["DYNAMODB_ENDPOINT_URL"]
    finally:
        from pipeline.local import reader_stop

        reader_stop()  # the stream reader some tests started, before what it reads goes
        dynamodb_local.stop(process)


@pytest.fixture
def dynamodb(dynamodb_server):
    """DynamoDB Local with every table empty at the start of the test."""
    from dashboard.lib.dynamo import table_models

    for model in table_models():
        _empty(model)


def _empty(model):
    with model.batch_write() as batch:
        for item in model.scan(attributes_to_get=_key_names(model)):
            batch.delete(item)


def _key_names(model):
    return [attr.attr_name for attr in model.get_attributes().values() if attr.is_hash_key or attr.is_range_key]


def tables_text() -> str:
    """Every item of every table as JSON text, raw from DynamoDB: what a copy of the tables would hold."""
    import boto3
    from django.conf import settings

    from dashboard.lib.dynamo import table_models

    client = boto3.client(
        "dynamodb",
        region_name=settings.DYNAMODB_REGION,
        endpoint_url=settings.DYNAMODB_ENDPOINT_URL,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    scan = client.get_paginator("scan")
    pages = [page for model in table_models() for page in scan.paginate(TableName=model.Meta.table_name)]
    return json.dumps([page["Items"] for page in pages], default=str)
