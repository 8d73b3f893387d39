"""One batch of stream records to every consumer, and the records that failed back, as Lambda's partial batch
response wants them.

A consumer that raises on a batch is given its records one at a time, so the record it fails on is found and the
others still reach it; the other consumers get the whole batch either way. The failed records are reported by
sequence number: the stream retries from the first of them, and after its retries parks the record's place in
the failure destination, from which `manage.py stream_replay` runs it again.
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
"""

import logging
from collections.abc import Iterable

from dashboard.lib import metrics
from pipeline.consumers import CONSUMERS, Consumer
from pipeline.records import StreamRecord, Unreadable

logger = logging.getLogger(__name__)


def batch_handle(records: list[dict], consumers: Iterable[Consumer] = CONSUMERS) -> dict:
    """Hand a batch to every consumer; `{"batchItemFailures": [...]}` names the records that failed."""
    readable: list[StreamRecord] = []
    failed: set[str] = set()
    for record in records:
        try:
            readable.append(StreamRecord.parse(record))
        except Unreadable as error:
            sequence_number = _sequence_number(record)
            logger.error("stream record %s unreadable: %s", sequence_number, error)
            metrics.emit({"StreamRecordsFailed": 1}, consumer="(reading)")
            if sequence_number:
                failed.add(sequence_number)
            else:
                # Nothing to name it by: Lambda counts an empty identifier as the whole batch failing.
                return {"batchItemFailures": [{"itemIdentifier": ""}]}
    announcing = [record for record in readable if record.event is not None]
    for consumer in consumers:
        failed |= _consume(consumer, announcing)
    order = {_sequence_number(record): index for index, record in enumerate(records)}
    return {"batchItemFailures": [{"itemIdentifier": number} for number in sorted(failed, key=order.__getitem__)]}


def _consume(consumer: Consumer, records: list[StreamRecord]) -> set[str]:
    """The sequence numbers of the records `consumer` failed on."""
    if not records:
        return set()
    try:
        consumer.handle([record.event for record in records if record.event is not None])
        return set()
    except Exception:
        logger.exception(
            "consumer %s failed on a batch of %d; trying its records one by one", consumer.name, len(records)
        )
    failed = set()
    for record in records:
        try:
            consumer.handle([record.event] if record.event is not None else [])
        except Exception:
            logger.exception("consumer %s failed on stream record %s", consumer.name, record.sequence_number)
            failed.add(record.sequence_number)
    metrics.emit({"StreamRecordsFailed": len(failed)}, consumer=consumer.name)
    return failed


def _sequence_number(record: object) -> str:
    change = record.get("dynamodb") if isinstance(record, dict) else None
    number = change.get("SequenceNumber") if isinstance(change, dict) else None
    return number if isinstance(number, str) else ""
