"""What the webhook benchmark reads from the simulator's deliveries (bench/webhook_load.py): when each change
happened, and how many messages realtime/coalesce.py's Coalescer makes of a run's changes. Nothing is timed."""

import json

from bench import webhook_load
from ghsim.testing import Received


def _delivery(event, action, **payload):
    return Received({"x-github-event": event}, json.dumps({"action": action, **payload}).encode())


def test_each_change_is_placed_at_its_payloads_own_time():
    deliveries = [
        _delivery("workflow_run", "requested", workflow_run={"id": 7, "updated_at": "2026-12-01T10:00:00Z"}),
        _delivery(
            "workflow_job",
            "in_progress",
            workflow_job={"run_id": 7, "created_at": "2026-12-01T10:00:00Z", "started_at": "2026-12-01T10:00:05Z"},
        ),
        _delivery(
            "workflow_job",
            "completed",
            workflow_job={
                "run_id": 7,
                "created_at": "2026-12-01T10:00:00Z",
                "started_at": "2026-12-01T10:00:05Z",
                "completed_at": "2026-12-01T10:01:00Z",
            },
        ),
        _delivery("installation", "created"),
    ]

    times = webhook_load.change_times(deliveries)

    assert list(times) == [7]
    assert [at - times[7][0] for at in times[7]] == [0, 5, 60]


def test_changes_of_one_second_make_one_message():
    assert webhook_load._coalesce([100.0, 100.0, 100.0], interval=1.0) == 1


def test_changes_within_the_interval_of_a_message_wait_for_its_end_together():
    # The first at once; the two that follow within the second go together at its end.
    assert webhook_load._coalesce([100.0, 100.5, 100.7], interval=1.0) == 2


def test_changes_further_apart_than_the_interval_each_go_at_once():
    assert webhook_load._coalesce([100.0, 102.0, 104.0], interval=1.0) == 3
