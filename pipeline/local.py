"""The local stream reader: what Lambda's event source mapping does deployed, done by the `make run` process.

It reads the events table's stream from DynamoDB Local (which implements the Streams API) and hands each batch
to the same handler the stream Lambda calls, in the same record shape, with the mapping's settings (infra/,
`aws_lambda_event_source_mapping.stream`): batches of up to 100 INSERT records, a failed record retried from
where it failed up to 3 times, a batch whose handler raised split in two, and exhausted records parked in the
failure destination (pipeline/failures.py). Where each shard was read to is kept in a file after each batch, so
a reader killed in the middle of a batch reads that batch again when it starts: nothing is lost, and what is sent
twice the browser ignores by id. A shard it has never read starts after its newest record, as the mapping's
LATEST does, and that place is kept at once, so a reader killed before its first batch still resumes there; a
shard that appears later (DynamoDB rolls them) is read from its start.
"""

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
from django.conf import settings

from dashboard.lib.dynamo import TableMeta, shared_client
from pipeline import dispatch
from pipeline.failures import LocalFailures
from realtime.models import Event

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
# The position of a shard to be read from its start (it was empty when the reader first came to it).
FROM_START = "start"
MAX_RETRIES = 3
SHARDS_EVERY_SECONDS = 5.0  # how often the stream's shards are listed again, to find new ones

Handler = Callable[[list[dict]], dict]


def streams_client() -> Any:
    """A botocore client for DynamoDB Streams, on the same endpoint and credentials as the tables."""
    session = botocore.session.get_session()
    if TableMeta.aws_access_key_id:
        session.set_credentials(TableMeta.aws_access_key_id, TableMeta.aws_secret_access_key)
    return session.create_client("dynamodbstreams", TableMeta.region, endpoint_url=TableMeta.host)


class Positions:
    """Where each shard of a stream was read to: the last sequence number handled, or "done" for a closed shard
    read to its end. One JSON file; the stream's ARN (which names the table's creation time) keeps another
    table's positions apart."""

    def __init__(self, path: Path, stream_arn: str):
        self.path = path
        self.stream_arn = stream_arn
        try:
            stored = json.loads(path.read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            stored = {}
        self._shards: dict[str, str] = stored.get(stream_arn, {}) if isinstance(stored, dict) else {}

    def get(self, shard_id: str) -> str | None:
        return self._shards.get(shard_id)

    def set(self, shard_id: str, position: str) -> None:
        self._shards[shard_id] = position
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({self.stream_arn: self._shards}), "utf-8")
        os.replace(temporary, self.path)  # whole or not at all, even if the process dies here


def trim_horizon(client: Any, stream_arn: str, shard_id: str) -> str:
    """An iterator at the oldest record the shard still has."""
    request = {"StreamArn": stream_arn, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
    return client.get_shard_iterator(**request)["ShardIterator"]


def lambda_record(record: dict, stream_arn: str) -> dict:
    """A GetRecords record in the shape Lambda gives the function (the creation time in epoch seconds)."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {
        **{key: value for key, value in record.items() if key != "dynamodb"},
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


class StreamReader:
    """Reads the events table's stream on a thread of its own and hands each batch to `handler`."""

    def __init__(
        self,
        *,
        handler: Handler = dispatch.batch_handle,
        state_dir: Path | None = None,
        poll_seconds: float | None = None,
        client: Any = None,
    ):
        self.handler = handler
        state_dir = state_dir or Path(settings.STREAM_LOCAL_STATE_DIR)
        self.positions_path = state_dir / "positions.json"
        self.failures = LocalFailures(state_dir / "failures.jsonl")
        self.poll_seconds = settings.STREAM_POLL_SECONDS if poll_seconds is None else poll_seconds
        self.client = client or streams_client()
        self.ready = threading.Event()  # set once every shard has an iterator: later writes will be read
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._iterators: dict[str, str | None] = {}
        self._shards: list[dict] = []
        self._listed_at = 0.0
        self._fresh = True  # until its first round, a shard without a position starts at LATEST; later at its start
        self._caught_up = threading.Condition()
        self._caught_up_at = 0.0  # when a round of reads last found nothing new (monotonic)

    def start(self, *, wait_seconds: float = 30.0) -> "StreamReader":
        self._thread = threading.Thread(target=self._run, name="stream-reader", daemon=True)
        self._thread.start()
        if not self.ready.wait(wait_seconds):
            raise RuntimeError(f"the stream reader found no stream on {Event.Meta.table_name} in {wait_seconds:.0f} s")
        return self

    def caught_up(self, timeout: float = 10.0) -> bool:
        """Wait until everything written before this call has been handled (a read found nothing newer)."""
        asked_at = time.monotonic()
        with self._caught_up:
            return self._caught_up.wait_for(lambda: self._caught_up_at > asked_at, timeout)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._read_until_stopped()
            except Exception as error:
                if self._stopping.is_set():
                    return
                # DynamoDB Local stopped or restarting: say so in one line, and try again.
                logger.warning(
                    "the stream reader stopped (%s); starting again in a second",
                    error,
                    exc_info=logger.isEnabledFor(logging.DEBUG),
                )
                self._iterators.clear()
                self._stopping.wait(1.0)

    def _read_until_stopped(self) -> None:
        stream_arn = self._stream_arn()
        positions = Positions(self.positions_path, stream_arn)
        while not self._stopping.is_set():
            read_any = False
            for shard in self._open_shards(stream_arn, positions, fresh=self._fresh):
                read_any |= self._read_shard(stream_arn, shard["ShardId"], positions)
            self._fresh = False
            self.ready.set()
            if not read_any:
                with self._caught_up:
                    self._caught_up_at = time.monotonic()
                    self._caught_up.notify_all()
                self._stopping.wait(self.poll_seconds)

    def _stream_arn(self) -> str:
        while True:
            arn = shared_client().describe_table(TableName=Event.Meta.table_name)["Table"].get("LatestStreamArn")
            if arn:
                return arn
            logger.warning("%s has no stream yet (run manage.py createtables)", Event.Meta.table_name)
            if self._stopping.wait(1.0):
                raise RuntimeError("stopped")

    def _open_shards(self, stream_arn: str, positions: Positions, *, fresh: bool) -> list[dict]:
        """The shards to read, parents before children, each with an iterator where its reading resumes."""
        now = time.monotonic()
        if fresh or now - self._listed_at > SHARDS_EVERY_SECONDS:
            self._shards = self._described_shards(stream_arn)
            self._listed_at = now
        unfinished = {shard["ShardId"] for shard in self._shards if positions.get(shard["ShardId"]) != "done"}
        shards = []
        for shard in self._shards:
            shard_id = shard["ShardId"]
            if shard_id not in unfinished or shard.get("ParentShardId") in unfinished:
                continue  # read to its end, or a child whose parent is not: a shard's order goes on in its child
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._iterator(stream_arn, shard_id, positions, fresh=fresh)
            shards.append(shard)
        return shards

    def _described_shards(self, stream_arn: str) -> list[dict]:
        shards, start = [], None
        while True:
            request = {"StreamArn": stream_arn, **({"ExclusiveStartShardId": start} if start else {})}
            description = self.client.describe_stream(**request)["StreamDescription"]
            shards += description.get("Shards", [])
            start = description.get("LastEvaluatedShardId")
            if not start:
                return sorted(shards, key=lambda shard: int(shard["SequenceNumberRange"]["StartingSequenceNumber"]))

    def _iterator(self, stream_arn: str, shard_id: str, positions: Positions, *, fresh: bool) -> str | None:
        """Where reading a shard goes on: after its kept position; for a shard never read, after its newest record
        if the reader is starting (that place kept now), else from its start."""
        position = positions.get(shard_id)
        if position is None and fresh:
            position = self._newest(stream_arn, shard_id) or FROM_START
            positions.set(shard_id, position)
        if position and position != FROM_START:
            where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
        else:
            where = {"ShardIteratorType": "TRIM_HORIZON"}
        request = {"StreamArn": stream_arn, "ShardId": shard_id, **where}
        return self.client.get_shard_iterator(**request)["ShardIterator"]

    def _newest(self, stream_arn: str, shard_id: str) -> str | None:
        """The sequence number of the shard's newest record, read through to it (None for an empty shard).

        A LATEST iterator would do without reading, but it names no record, so its place could not be kept.
        """
        iterator: str | None = trim_horizon(self.client, stream_arn, shard_id)
        newest = None
        while iterator:
            answer = self.client.get_records(ShardIterator=iterator, Limit=1000)
            if not answer.get("Records"):
                return newest
            newest = answer["Records"][-1]["dynamodb"]["SequenceNumber"]
            iterator = answer.get("NextShardIterator")
        return newest

    def _read_shard(self, stream_arn: str, shard_id: str, positions: Positions) -> bool:
        """One GetRecords on a shard and its batch handled; whether any record came."""
        iterator = self._iterators.get(shard_id)
        if iterator is None:
            positions.set(shard_id, "done")
            return False
        try:
            answer = self.client.get_records(ShardIterator=iterator, Limit=BATCH_SIZE)
        except self.client.exceptions.ExpiredIteratorException:
            del self._iterators[shard_id]  # iterators last 15 minutes: a new one from the position next round
            return False
        except self.client.exceptions.TrimmedDataAccessException:
            # The iterator points before the shard's oldest record. DynamoDB Local answers so for an iterator taken
            # on an empty shard once its first record is written (it numbers that record 2, not 1); on AWS it means
            # records older than 24 hours went unread. Either way the shard's oldest record is where to go on.
            self._iterators[shard_id] = trim_horizon(self.client, stream_arn, shard_id)
            return True
        records = [lambda_record(record, stream_arn) for record in answer.get("Records", [])]
        inserts = [record for record in records if record.get("eventName") == "INSERT"]  # the mapping's filter
        if inserts:
            self._handle(stream_arn, shard_id, inserts, positions)
        if records:
            positions.set(shard_id, records[-1]["dynamodb"]["SequenceNumber"])
        self._iterators[shard_id] = answer.get("NextShardIterator")
        return bool(records)

    def _handle(self, stream_arn: str, shard_id: str, batch: list[dict], positions: Positions) -> None:
        """Deliver a batch as the event source mapping does (bisect on error, partial batch responses, 3 retries):
        go on from the first failure, split a batch failing at its first record, park a record that keeps failing."""
        invocations = 0
        while batch:
            invocations += 1
            failed_at = self._invoke(batch)
            if failed_at is None:
                break
            if failed_at > 0:
                # Handled up to there, so kept; the rest is tried again (Lambda's checkpoint at the lowest failure).
                positions.set(shard_id, batch[failed_at - 1]["dynamodb"]["SequenceNumber"])
                batch, invocations = batch[failed_at:], 0
                continue
            if len(batch) > 1:
                # Split in two, each half on its own: a record that keeps failing ends up alone, the rest go on.
                middle = len(batch) // 2
                self._handle(stream_arn, shard_id, batch[:middle], positions)
                self._handle(stream_arn, shard_id, batch[middle:], positions)
                return
            if invocations > MAX_RETRIES:
                self.failures.send(failure_record(stream_arn, shard_id, batch, invocations))
                logger.error("parked a stream record after %d tries (manage.py stream_replay)", invocations)
                break
        if batch:
            positions.set(shard_id, batch[-1]["dynamodb"]["SequenceNumber"])

    def _invoke(self, batch: list[dict]) -> int | None:
        """Call the handler once: None if every record went through, else the index of the first that did not."""
        try:
            response = self.handler(batch)
        except Exception:
            logger.exception("the stream handler raised on a batch of %d", len(batch))
            return 0
        return _first_failure(batch, response)


def _first_failure(batch: list[dict], response: Any) -> int | None:
    """The index of the first record the handler reported failed, or None if none did (the whole batch on a
    response Lambda would count as failing entirely)."""
    failures = (response or {}).get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return None
    numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
    identifiers = [failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures]
    if any(identifier not in numbers for identifier in identifiers):
        return 0
    return min(numbers.index(identifier) for identifier in identifiers)


def failure_record(stream_arn: str, shard_id: str, batch: list[dict], invocations: int) -> dict:
    """What the event source mapping sends its on-failure destination for a batch whose retries ran out."""

    def arrival(record: dict) -> str:
        created = record["dynamodb"].get("ApproximateCreationDateTime") or time.time()
        return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": "local:stream-reader",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invocations,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(batch[0]),
            "approximateArrivalOfLastRecord": arrival(batch[-1]),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    }


_reader: StreamReader | None = None
_reader_lock = threading.Lock()


def reader_start() -> StreamReader:
    """This process's reader, started once (the ASGI app calls it when STREAM_LOCAL_READER is on)."""
    global _reader
    with _reader_lock:
        if _reader is None:
            _reader = StreamReader().start()
    return _reader


def reader_stop() -> None:
    global _reader
    with _reader_lock:
        if _reader is not None:
            _reader.stop()
            _reader = None
