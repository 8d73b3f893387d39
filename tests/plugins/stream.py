"""The local stream reader for the tests: the same one `make run` starts, reading the test DynamoDB Local.

A change reaches sockets and streams only through it, as deployed through the event source mapping. Its
positions and parked records go to a directory of this run. `stream.caught_up()` waits until everything written
before the call has been handled.
"""

import os
import tempfile

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    os.environ["STREAM_LOCAL_STATE_DIR"] = tempfile.mkdtemp(prefix="dashboard-stream-")
    # Each batch is delivered as it comes, unless a test asks for coalescing (tests/realtime/test_coalescing.py).
    os.environ["REALTIME_COALESCE_SECONDS"] = "0"
    os.environ.pop("STREAM_POLL_SECONDS", None)


@pytest.fixture
def stream(dynamodb):
    """This process's stream reader, started once (as the ASGI app starts it) and shared by the tests."""
    from pipeline.local import reader_start

    reader = reader_start()
    yield reader
    reader.caught_up()


class StreamLambda:
    """The deployed path: the stream Lambda's handler, given the records DynamoDB Local's stream really holds, in
    the shape Lambda gives them, batch by batch as the event source mapping would."""

    def __init__(self):
        from dashboard.lib.dynamo import shared_client
        from pipeline.local import streams_client
        from realtime.models import Event

        self.client = streams_client()
        self.arn = shared_client().describe_table(TableName=Event.Meta.table_name)["Table"]["LatestStreamArn"]
        shards = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        self.iterators = {
            shard["ShardId"]: self.client.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        }

    def records(self) -> list[dict]:
        """The INSERT records written since the last call (the mapping's filter), as Lambda shapes them."""
        from pipeline.local import lambda_record, trim_horizon

        found = []
        for shard_id, iterator in list(self.iterators.items()):
            while iterator:
                try:
                    answer = self.client.get_records(ShardIterator=iterator, Limit=100)
                except self.client.exceptions.TrimmedDataAccessException:  # see StreamReader._read_shard
                    iterator = trim_horizon(self.client, self.arn, shard_id)
                    continue
                found += [lambda_record(record, self.arn) for record in answer["Records"]]
                iterator = answer.get("NextShardIterator")
                if not answer["Records"]:
                    break
            self.iterators[shard_id] = iterator
        return [record for record in found if record["eventName"] == "INSERT"]

    def deliver(self) -> dict:
        """Invoke the stream Lambda's handler with what was written since the last call; its response."""
        from pipeline import lambda_stream

        return lambda_stream.handler({"Records": self.records()}, None)


@pytest.fixture
def stream_lambda(dynamodb):
    """Drive the stream Lambda's handler by hand; this process's local reader is stopped meanwhile, so nothing
    else delivers the changes."""
    from pipeline.local import reader_stop

    reader_stop()
    return StreamLambda()


@pytest.fixture
def management_api(settings, monkeypatch):
    """The API Gateway Management API stand-in (devstack/management_api.py), as the deployed stage's endpoint."""
    from devstack.management_api import ManagementApiStandIn
    from realtime import gateway

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "stand-in")  # botocore signs; the stand-in does not check
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "stand-in")
    with ManagementApiStandIn() as standin:
        settings.WEBSOCKET_API_ENDPOINT = standin.endpoint
        gateway.management_client.cache_clear()
        yield standin
    gateway.management_client.cache_clear()
