"""Run parked stream records again: each failure record's range read back from the stream and handled anew."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipeline import dispatch
from pipeline.failures import Parked
from pipeline.local import BATCH_SIZE, lambda_record


class Destination(Protocol):
    def parked(self) -> list[Parked]: ...

    def remove(self, parked: Parked) -> None: ...


@dataclass
class Replay:
    replayed: int = 0  # failure records whose every record went through, and were removed
    records: int = 0
    kept: list[str] = field(default_factory=list)  # why each one left in place was


def _range(client: Any, batch: dict) -> list[dict]:
    """The records of one failure record's range, in the shape Lambda gives them (INSERTs, as the mapping's filter)."""
    iterator = client.get_shard_iterator(
        StreamArn=batch["streamArn"],
        ShardId=batch["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=batch["startSequenceNumber"],
    )["ShardIterator"]
    end = int(batch["endSequenceNumber"])
    found: list[dict] = []
    while iterator:
        answer = client.get_records(ShardIterator=iterator, Limit=BATCH_SIZE)
        records = answer.get("Records", [])
        for record in records:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return found
            if record.get("eventName") == "INSERT":
                found.append(lambda_record(record, batch["streamArn"]))
        if not records:
            return found  # the range's end is not written yet on an open shard: it never will be past this
        iterator = answer.get("NextShardIterator")
    return found


def parked_replay(
    destination: Destination,
    client: Any,
    *,
    handler: Callable[[list[dict]], dict] = dispatch.batch_handle,
    progress: Callable[[str], None] = lambda line: None,
) -> Replay:
    """Handle each parked range again; remove those that went through, keep (and say why) the others."""
    report = Replay()
    for parked in destination.parked():
        batch = parked.batch
        where = f"{batch['shardId']} {batch['startSequenceNumber']}..{batch['endSequenceNumber']}"
        try:
            records = _range(client, batch)
        except (client.exceptions.TrimmedDataAccessException, client.exceptions.ResourceNotFoundException):
            report.kept.append(f"{where}: no longer in the stream (it keeps 24 hours); reconciliation re-reads runs")
            continue
        failures = handler(records)["batchItemFailures"] if records else []
        if failures:
            report.kept.append(f"{where}: {len(failures)} record(s) failed again")
            continue
        destination.remove(parked)
        report.replayed += 1
        report.records += len(records)
        progress(f"replayed {len(records)} record(s) of {where}")
    return report
