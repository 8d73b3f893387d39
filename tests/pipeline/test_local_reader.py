"""The local stream reader against DynamoDB Local's real stream: what the event source mapping does deployed."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import dispatch
from pipeline.consumers import Consumer
from pipeline.failures import LocalFailures
from pipeline.local import StreamReader, streams_client
from pipeline.replay import parked_replay
from realtime.models import Event
from runs.cache import run_record
from tests.conftest import ROOT
from tests.realtime.test_websocket import _change
from tests.waiting import wait_until


def _journal(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _reader_process(journal: Path, state_dir: Path, mode: str) -> subprocess.Popen:
    env = {**os.environ, "STREAM_LOCAL_STATE_DIR": str(state_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.pipeline.journal_reader", str(journal), mode],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def test_a_reader_killed_in_the_middle_of_a_batch_loses_nothing_and_delivers_that_batch_again(dynamodb, tmp_path):
    journal, state_dir = tmp_path / "journal", tmp_path / "stream"
    reader = _reader_process(journal, state_dir, "hold")
    try:
        for run_id in range(3):
            run_record(_change("acme/api", run_id=30_000 + run_id))
        # Its first batch delivered, and held before its position is kept: killed there.
        wait_until(lambda: _journal(journal), what="the first batch to be delivered")
    finally:
        reader.send_signal(signal.SIGKILL)
        reader.wait()
    before_kill = _journal(journal)
    for run_id in range(3, 5):
        run_record(_change("acme/api", run_id=30_000 + run_id))  # written while no reader runs

    reader = _reader_process(journal, state_dir, "go")
    try:
        wait_until(lambda: len(set(_journal(journal))) == 5, what="every change, after the restart")
    finally:
        reader.send_signal(signal.SIGKILL)
        reader.wait()

    delivered = _journal(journal)
    assert len(set(delivered)) == 5  # nothing lost
    # The interrupted batch is delivered again, whole (at least once); the browser ignores an id it already has.
    assert {event_id for event_id in delivered if delivered.count(event_id) == 2} == set(before_kill)
    assert max(delivered.count(event_id) for event_id in delivered) == 2


@pytest.fixture
def reader(dynamodb, tmp_path):
    """A reader of this test's own, with a recording consumer and one that fails on chosen run ids."""
    seen: list[int] = []
    failing: set[int] = set()
    tried: list[int] = []

    def record(events):
        seen.extend(json.loads(event.data)["id"] for event in events)

    def fragile(events):
        for event in events:
            run_id = json.loads(event.data)["id"]
            tried.append(run_id)
            if run_id in failing:
                raise RuntimeError(f"cannot handle run {run_id}")

    consumers = (Consumer("recording", record), Consumer("fragile", fragile))
    started = StreamReader(
        handler=lambda records: dispatch.batch_handle(records, consumers), state_dir=tmp_path / "stream"
    ).start()
    started.seen, started.failing, started.tried = seen, failing, tried
    yield started
    started.stop()


def test_a_consumer_failing_on_one_record_blocks_neither_the_others_nor_the_batch_and_the_record_is_parked(
    reader, tmp_path
):
    reader.failing.add(40_001)
    for run_id in range(40_000, 40_003):
        run_record(_change("acme/api", run_id=run_id))
    assert reader.caught_up()

    assert sorted(set(reader.seen)) == [40_000, 40_001, 40_002]  # the other consumer got every record
    assert {40_000, 40_002} <= set(reader.tried)  # and the failing one got the records it does not fail on
    (parked,) = reader.failures.parked()
    batch = parked.batch
    assert parked.record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert batch["batchSize"] == 1
    assert batch["startSequenceNumber"] == batch["endSequenceNumber"]
    assert f"table/{Event.Meta.table_name}/stream/" in batch["streamArn"]

    # Enough to replay it: once the consumer is mended, stream_replay runs the parked record again.
    reader.failing.clear()
    reader.tried.clear()
    report = parked_replay(LocalFailures(reader.failures.path), streams_client(), handler=reader.handler)

    assert (report.replayed, report.records, report.kept) == (1, 1, [])
    assert reader.tried == [40_001]
    assert reader.failures.parked() == []


def test_an_unreadable_record_is_reported_by_its_sequence_number_and_the_rest_go_on():
    got = []
    consumers = (Consumer("recording", lambda events: got.extend(events)),)
    records = [
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "100", "NewImage": {"bucket": "not an image"}}},
        {"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "101", "Keys": {}}},
    ]

    assert dispatch.batch_handle(records, consumers) == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert got == []
