"""The run cache's one rule: a state is stored only if it is later than what is stored.

GitHub's webhooks arrive out of order and twice, and API reads race them. "Last event wins" leaves runs stuck
`in_progress`. So every state carries an order — (attempt, status rank, updated_at) — and is written with one
conditional put that succeeds only when nothing, or an earlier state, is stored. Two writers racing cannot
interleave, a duplicate changes nothing, `completed` never falls back, and a re-run (a higher attempt) moves on.
Webhooks and API backfill both go through here. The states and their order are runs/states.py; what a
repository's summary keeps is runs/summaries.py.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition

from dashboard.lib.dynamo import TableModel, transaction
from realtime.publish import change_event
from runs.models import RETENTION, Step, WorkflowJob, WorkflowRun
from runs.serializers import job_event_json, run_json
from runs.states import TERMINAL, JobState, RunState, parse_time
from runs.summaries import summary_record


def run_item(state: RunState, *, installation_id: int | None = None) -> WorkflowRun:
    return WorkflowRun(
        repo_id=state.repo_id,
        run_id=state.run_id,
        workflow_id=state.workflow_id,
        workflow_name=state.workflow_name,
        name=state.name,
        display_title=state.display_title,
        status=state.status,
        conclusion=state.conclusion,
        # Sparse: only unfinished runs are in the index reconciliation reads.
        active_status=None if state.status == TERMINAL else state.status,
        order=state.order,
        head_branch=state.head_branch,
        head_repository=state.head_repository,
        default_branch=state.default_branch,
        head_sha=state.head_sha,
        commit_message=state.commit_message,
        event=state.event,
        actor_login=state.actor_login,
        actor_type=state.actor_type,
        pull_requests=list(state.pull_requests),
        run_number=state.run_number,
        run_attempt=state.run_attempt,
        created_at=state.created_at,
        run_started_at=state.run_started_at,
        updated_at=state.updated_at,
        completed_at=state.completed_at,
        html_url=state.html_url,
        installation_id=installation_id,
        expires_at=RETENTION,
    )


def run_condition(state: RunState):
    """Store only over nothing, or over an earlier state of the same run."""
    return WorkflowRun.run_id.does_not_exist() | (WorkflowRun.order < state.order)


CONFLICT_ATTEMPTS = 4


@dataclass(frozen=True)
class Claim:
    """An item written in the same transaction as a change, on a condition: the caller's proof that the change is
    applied once (the webhook receiver's delivery record, on condition that it does not exist yet)."""

    item: TableModel
    condition: Condition


class AlreadyClaimed(Exception):
    """The claim's condition failed: whoever made it applied this change before (a duplicate delivery)."""


def _apply(item, condition, event, claim: Claim | None) -> bool:
    """One transaction: the claim (if its condition holds), the item (if later than what is stored), its event.

    Returns False when the item was not later; raises AlreadyClaimed when the claim's condition failed.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            with transaction() as writes:
                if claim is not None:
                    writes.save(claim.item, condition=claim.condition)
                writes.save(item, condition=condition)
                writes.save(event)
        except TransactWriteError as error:
            reasons = [reason.code if reason else None for reason in error.cancellation_reasons]
            if claim is not None and reasons and reasons[0] == "ConditionalCheckFailed":
                raise AlreadyClaimed(str(claim.item)) from error
            if "ConditionalCheckFailed" in reasons:
                return False
            # Two writers on the same run at the same moment: DynamoDB cancels one; it tries again, and the
            # merge rule then decides between them as it would have in sequence.
            if "TransactionConflict" in reasons and attempt < CONFLICT_ATTEMPTS:
                time.sleep(0.02 * attempt)
                continue
            raise
        return True
    return False  # not reached: the last attempt returns or raises


def run_record(state: RunState, *, installation_id: int | None = None, claim: Claim | None = None) -> bool:
    """Store a run state if it is later than the stored one, announcing it; True when it was stored."""
    item = run_item(state, installation_id=installation_id)
    if not _apply(item, run_condition(state), change_event("run", state.repo_id, run_json(item)), claim):
        return False
    summary_record(state)
    return True


def job_item(state: JobState) -> WorkflowJob:
    steps = [
        Step(
            number=int(step["number"]),
            name=str(step["name"]),
            status=str(step["status"]),
            conclusion=step.get("conclusion"),
            started_at=parse_time(step.get("started_at")),
            completed_at=parse_time(step.get("completed_at")),
        )
        for step in state.steps
    ]
    return WorkflowJob(
        run_key=state.run_key,
        job_id=state.job_id,
        run_id=state.run_id,
        run_attempt=state.run_attempt,
        name=state.name,
        status=state.status,
        conclusion=state.conclusion,
        order=state.order,
        started_at=state.started_at,
        completed_at=state.completed_at,
        updated_at=datetime.now(UTC),
        html_url=state.html_url,
        runner_name=state.runner_name,
        labels=list(state.labels),
        steps=steps,
        expires_at=RETENTION,
    )


def job_condition(state: JobState):
    return WorkflowJob.job_id.does_not_exist() | (WorkflowJob.order < state.order)


def job_record(state: JobState, *, claim: Claim | None = None) -> bool:
    """Store a job state if it is later than the stored one, announcing it; True when it was stored."""
    item = job_item(state)
    event = change_event("job", state.repo_id, {"run_id": state.run_id, **job_event_json(item)})
    return _apply(item, job_condition(state), event, claim)
