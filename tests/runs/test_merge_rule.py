"""The merge rule: whatever order GitHub's events arrive in, with duplicates, the cache ends in-order."""

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runs.cache import job_record, run_record
from runs.models import WorkflowJob, WorkflowRun
from runs.states import JobState, RunState
from runs.summaries import summaries_read, summary_runs

EXAMPLE = json.loads(
    (Path(__file__).parent.parent.parent / "ghsim/data/rest/actions/get-workflow-run.200.json").read_text()
)
_run_ids = itertools.count(9_000_000)
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def run_event(run_id, *, attempt, status, conclusion=None, at, run_number=7, branch="main"):
    run = json.loads(json.dumps(EXAMPLE))
    run.update(
        id=run_id,
        run_attempt=attempt,
        status=status,
        conclusion=conclusion,
        updated_at=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        run_number=run_number,
        head_branch=branch,
    )
    run["repository"] = {**run["repository"], "full_name": "octo-org/octo-repo", "default_branch": "main"}
    return RunState.from_github(run)


def stored(run_id):
    item = WorkflowRun.get("octo-org/octo-repo", run_id)
    return (item.run_attempt, item.status, item.conclusion, item.updated_at, item.active_status)


@st.composite
def lifecycles(draw):
    """A run's true history: attempts of queued, (waiting,) in_progress, completed; timestamps may tie."""
    events, moment = [], START
    for attempt in range(1, draw(st.integers(1, 3)) + 1):
        statuses = ["queued", *(["waiting"] if draw(st.booleans()) else []), "in_progress", "completed"]
        for status in statuses:
            moment += timedelta(seconds=draw(st.integers(0, 2)))  # 0: a tie at GitHub's 1-second resolution
            conclusion = draw(st.sampled_from(["success", "failure", "cancelled"])) if status == "completed" else None
            events.append({"attempt": attempt, "status": status, "conclusion": conclusion, "at": moment})
    return events


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=lifecycles(), data=st.data())
def test_it_ends_in_the_in_order_state_for_any_order_with_duplicates(dynamodb, history, data):
    in_order, shuffled = next(_run_ids), next(_run_ids)
    for event in history:
        run_record(run_event(in_order, **event))
    duplicates = data.draw(st.lists(st.sampled_from(history), max_size=len(history)))
    for event in data.draw(st.permutations(history + duplicates)):
        run_record(run_event(shuffled, **event))

    last = history[-1]
    assert stored(in_order) == (last["attempt"], "completed", last["conclusion"], last["at"], None)
    assert stored(shuffled) == stored(in_order)


def test_it_never_lets_completed_fall_back(dynamodb):
    assert run_record(run_event(1, attempt=1, status="completed", conclusion="success", at=START))

    assert not run_record(run_event(1, attempt=1, status="in_progress", at=START + timedelta(minutes=5)))
    assert stored(1)[1:3] == ("completed", "success")


def test_it_moves_on_to_a_rerun(dynamodb):
    run_record(run_event(1, attempt=1, status="completed", conclusion="failure", at=START))

    assert run_record(run_event(1, attempt=2, status="queued", at=START + timedelta(minutes=1)))
    assert stored(1)[:2] == (2, "queued")
    assert stored(1)[4] == "queued"  # unfinished again: back in the active index


def test_it_changes_nothing_for_a_duplicate(dynamodb):
    event = run_event(1, attempt=1, status="in_progress", at=START)

    assert run_record(event)
    assert not run_record(event)


def test_it_keeps_the_latest_run_of_each_workflow_on_the_summary(dynamodb):
    run_record(run_event(2, attempt=1, status="completed", conclusion="success", at=START, run_number=8))
    run_record(run_event(1, attempt=1, status="completed", conclusion="failure", at=START, run_number=7))
    run_record(run_event(3, attempt=1, status="completed", conclusion="failure", at=START, run_number=9, branch="dev"))

    latest, recent = summary_runs(summaries_read(["octo-org/octo-repo"])["octo-org/octo-repo"])
    assert [(run.run_id, run.conclusion) for run in latest] == [(2, "success")]
    # Every run, of any branch, is in the recent history, each in its latest state.
    assert {run.run_id: run.conclusion for run in recent} == {1: "failure", 2: "success", 3: "failure"}


def test_a_late_state_of_an_older_run_updates_its_history_but_not_the_latest(dynamodb):
    run_record(run_event(2, attempt=1, status="in_progress", at=START, run_number=8))
    run_record(run_event(1, attempt=1, status="in_progress", at=START, run_number=7))
    run_record(run_event(1, attempt=1, status="completed", conclusion="failure", at=START, run_number=7))
    run_record(run_event(1, attempt=1, status="in_progress", at=START, run_number=7))  # reordered: ignored

    latest, recent = summary_runs(summaries_read(["octo-org/octo-repo"])["octo-org/octo-repo"])
    assert [run.run_id for run in latest] == [2]
    assert [(run.status, run.conclusion) for run in recent if run.run_id == 1] == [("completed", "failure")]


def test_the_recent_history_keeps_the_newest_runs(dynamodb):
    from runs.summaries import HISTORY_KEEP, HISTORY_PRUNE_AT

    for run_id in range(1, HISTORY_PRUNE_AT + 1):
        run_record(run_event(run_id, attempt=1, status="completed", conclusion="success", at=START, run_number=run_id))

    summary = summaries_read(["octo-org/octo-repo"])["octo-org/octo-repo"]
    latest, recent = summary_runs(summary)
    kept = list(range(HISTORY_PRUNE_AT - HISTORY_KEEP + 1, HISTORY_PRUNE_AT + 1))
    assert sorted(run.run_id for run in recent) == kept
    assert sorted(key for key in summary if key.startswith("ord_r_")) == sorted(f"ord_r_{run_id}" for run_id in kept)
    assert [run.run_id for run in latest] == [HISTORY_PRUNE_AT]


def _job(status, steps, job_id=5):
    return JobState.from_github(
        {"id": job_id, "run_id": 1, "name": "build", "status": status, "steps": steps, "started_at": None},
        repo_id="octo-org/octo-repo",
    )


def test_it_orders_job_states_by_status_and_step_progress(dynamodb):
    step = {"number": 1, "name": "Set up job", "started_at": "2026-11-24T12:00:00Z"}
    one_done = [{**step, "status": "completed", "conclusion": "success", "completed_at": "2026-11-24T12:00:01Z"}]
    two_steps = [*one_done, {**step, "number": 2, "name": "Test", "status": "in_progress"}]

    assert job_record(_job("in_progress", two_steps))
    assert not job_record(_job("in_progress", one_done))
    assert not job_record(_job("queued", []))
    assert [s.name for s in WorkflowJob.get("octo-org/octo-repo#1", 5).steps] == ["Set up job", "Test"]
