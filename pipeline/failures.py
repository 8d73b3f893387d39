"""Where records go that the stream's retries could not get through, and how they are run again.

Deployed, the event source mapping sends an invocation record to an SQS queue (infra/, `*-stream-failures`)
when a record's retries are exhausted; locally the stream reader (pipeline/local.py) writes the same record to a
JSON-lines file. Either way it names the stream, the shard and the first and last sequence numbers: enough to
read the records again while the stream keeps them (24 hours), which `manage.py stream_replay` does.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (the record's shape)
"""

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Parked:
    """One failure record, with how to remove it once replayed."""

    record: dict[str, Any]
    receipt: str  # the SQS receipt handle, or the line's text in the local file

    @property
    def batch(self) -> dict[str, Any]:
        return self.record["DDBStreamBatchInfo"]


class LocalFailures:
    """The local destination: one JSON object per line, appended."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def send(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(json.dumps(record, separators=(",", ":")) + "\n")
                file.flush()
                os.fsync(file.fileno())

    def parked(self) -> list[Parked]:
        if not self.path.exists():
            return []
        return [Parked(json.loads(line), line) for line in self.path.read_text("utf-8").splitlines() if line.strip()]

    def remove(self, parked: Parked) -> None:
        with self._lock, _rewritten(self.path) as lines:
            if parked.receipt in lines:
                lines.remove(parked.receipt)


@contextmanager
def _rewritten(path: Path) -> Iterator[list[str]]:
    lines = path.read_text("utf-8").splitlines() if path.exists() else []
    yield lines
    temporary = path.with_suffix(".tmp")
    temporary.write_text("".join(line + "\n" for line in lines), "utf-8")
    os.replace(temporary, path)


class QueueFailures:
    """The deployed destination, an SQS queue (read by `stream_replay`; the event source mapping writes it)."""

    def __init__(self, client: Any, queue_url: str):
        self.client = client
        self.queue_url = queue_url

    def send(self, record: dict[str, Any]) -> None:
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(record))

    def parked(self) -> list[Parked]:
        found: list[Parked] = []
        while True:
            # A second's wait: an immediate answer samples only some of SQS's servers and may say empty wrongly.
            answer = self.client.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            messages = answer.get("Messages") or []
            if not messages:
                return found
            found += [Parked(json.loads(message["Body"]), message["ReceiptHandle"]) for message in messages]

    def remove(self, parked: Parked) -> None:
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=parked.receipt)
