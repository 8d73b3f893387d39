"""The run cache's one rule: a state is stored only if it is later than what is stored.

GitHub's webhooks arrive out of order and twice, and API reads race them. "Last event wins" leaves runs stuck
`in_progress`. So every state carries an order — (attempt, status rank, updated_at) — and is written with one
conditional put that succeeds only when nothing, or an earlier state, is stored. Two writers racing cannot
interleave, a duplicate changes nothing, `completed` never falls back, and a re-run (a higher attempt) moves on.
Webhooks and API backfill both go through here.
"""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition

from dashboard.lib.dynamo import TableModel, shared_client, transaction
from dashboard.lib.shapes import Fields, Malformed
from realtime.publish import change_event, published
from runs.models import RETENTION, RepoSummary, Step, WorkflowJob, WorkflowRun, on_default_branch
from runs.serializers import job_json, run_json
from runs.summaries import RunSummary

# GitHub's statuses, by how far along they are (docs/decisions.md#webhook-order): queued and waiting < in_progress <
# completed; the sub-rank only breaks exact ties of updated_at (1-second resolution) in lifecycle order.
RUN_RANK = {
    "requested": 1,
    "pending": 1,
    "queued": 1,
    "waiting": 1,
    "action_required": 1,
    "in_progress": 2,
    "completed": 3,
}
JOB_RANK = {"pending": 1, "waiting": 1, "queued": 1, "requested": 1, "in_progress": 2, "completed": 3}
SUB_RANK = {"requested": 0, "pending": 1, "waiting": 2, "queued": 3, "action_required": 4}
TERMINAL = "completed"


# A run or job object from GitHub lacks what the cache needs, or has a field of another type (names the field).
MalformedRun = Malformed


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise MalformedRun(f"time {value!r}", "an ISO 8601 timestamp", value) from None


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "0000-00-00T00:00:00Z"


def run_order(attempt: int, status: str, updated_at: datetime | None) -> str:
    """A string that sorts states of one run in the order they happen."""
    return f"{attempt:06d}|{RUN_RANK.get(status, 1)}|{_stamp(updated_at)}|{SUB_RANK.get(status, 0)}"


@dataclass(frozen=True)
class RunState:
    """One workflow run as GitHub describes it (REST object or webhook `workflow_run`), parsed at the boundary."""

    repo_id: str
    run_id: int
    workflow_id: int | None
    workflow_name: str | None
    name: str | None
    display_title: str | None
    status: str
    conclusion: str | None
    head_branch: str | None
    head_repository: str | None  # only when the head is another repository (a fork)
    default_branch: str | None
    head_sha: str | None
    commit_message: str | None
    event: str | None
    actor_login: str | None
    actor_type: str | None
    run_number: int | None
    run_attempt: int
    created_at: datetime | None
    run_started_at: datetime | None
    updated_at: datetime
    html_url: str | None
    pull_requests: tuple[int, ...]

    @property
    def order(self) -> str:
        return run_order(self.run_attempt, self.status, self.updated_at)

    @property
    def completed_at(self) -> datetime | None:
        return self.updated_at if self.status == TERMINAL else None

    @property
    def on_default_branch(self) -> bool:
        return on_default_branch(self.head_branch, self.default_branch, self.head_repository)

    @classmethod
    def from_github(
        cls,
        run: object,
        *,
        workflow_name: str | None = None,
        default_branch: str | None = None,
        repository: dict | None = None,
        path: str = "workflow_run",
    ) -> "RunState":
        """A REST run object or a webhook's `workflow_run`, every field type-checked (MalformedRun names one).

        `default_branch` for REST run objects, whose short `repository` does not carry it; `repository`, a
        webhook's own (full) repository object, read before the run's short one.
        """
        fields = Fields(run, path)
        own = fields.obj("repository", required=repository is None)
        if repository is not None:
            full = Fields(repository, "repository")
        else:
            assert own is not None  # required just above when no `repository` is given
            full = own
        repo_id = full.str("full_name") or (own.str("full_name", required=True) if own else None)
        if repo_id is None:
            raise Malformed("repository.full_name", "a string", missing=True)
        commit = fields.obj("head_commit")
        actor = fields.obj("actor") or fields.obj("triggering_actor")
        head = fields.obj("head_repository")
        return cls(
            repo_id=repo_id,
            run_id=fields.int("id", required=True),
            workflow_id=fields.int("workflow_id"),
            workflow_name=workflow_name or fields.str("name"),
            name=fields.str("name"),
            display_title=fields.str("display_title"),
            status=fields.str("status", required=True),
            conclusion=fields.str("conclusion"),
            head_branch=fields.str("head_branch"),
            head_repository=_other_repository(head.str("full_name") if head else None, repo_id),
            default_branch=full.str("default_branch") or default_branch,
            head_sha=fields.str("head_sha"),
            commit_message=commit.str("message") if commit else None,
            event=fields.str("event"),
            actor_login=actor.str("login") if actor else None,
            actor_type=actor.str("type") if actor else None,
            run_number=fields.int("run_number"),
            run_attempt=fields.int("run_attempt") or 1,
            created_at=fields.time("created_at"),
            run_started_at=fields.time("run_started_at"),
            updated_at=fields.time("updated_at", required=True),
            html_url=fields.str("html_url"),
            pull_requests=tuple(number for pr in fields.objs("pull_requests") if (number := pr.int("number"))),
        )


def _other_repository(name: str | None, full_name: str) -> str | None:
    """The head repository's name when it is not the run's repository (a fork), else None."""
    return name if name and name.lower() != full_name.lower() else None


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
        published([event])
        return True
    return False  # not reached: the last attempt returns or raises


def run_record(state: RunState, *, installation_id: int | None = None, claim: Claim | None = None) -> bool:
    """Store a run state if it is later than the stored one, announcing it; True when it was stored."""
    item = run_item(state, installation_id=installation_id)
    if not _apply(item, run_condition(state), change_event("run", state.repo_id, run_json(item)), claim):
        return False
    summary_record(state)
    return True


# --- The per-repository summary ----------------------------------------------------------------------------------


def _attribute(value) -> dict:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    return {"S": str(value)}


# How many recent runs (any branch, any workflow) a summary keeps for the overview's history marks and filters.
HISTORY_KEEP = 20
# Pruning costs a request, so it waits until this many have gathered.
HISTORY_PRUNE_AT = 30


def _summary_update(client, state: RunState, snapshot: dict, keys: list[str]) -> dict | None:
    """Set `snapshot` under each key of the summary where the stored one is earlier; the new item, or None.

    A snapshot is stored as compact JSON, its order beside it (`ord_<key>`) for the condition: one string per run
    is far cheaper for the overview to read back than a map of a dozen attributes.
    """
    names = {}
    for index, key in enumerate(keys):
        names[f"#k{index}"] = key
        names[f"#o{index}"] = f"ord_{key}"
    updates = [f"#k{index} = :snapshot, #o{index} = :ord" for index in range(len(keys))]
    conditions = [f"(attribute_not_exists(#o{index}) OR #o{index} < :ord)" for index in range(len(keys))]
    try:
        answer = client.update_item(
            TableName=RepoSummary.Meta.table_name,
            Key={"repoId": {"S": state.repo_id}},
            UpdateExpression="SET " + ", ".join(updates) + ", updatedAt = :now",
            ConditionExpression=" AND ".join(conditions),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                ":snapshot": {"S": json.dumps(snapshot, separators=(",", ":"))},
                ":ord": {"S": snapshot["ord"]},
                ":now": {"S": datetime.now(UTC).isoformat()},
            },
            ReturnValues="ALL_NEW",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return answer["Attributes"]


def summary_record(state: RunState) -> bool:
    """Put this run on its repository's summary: in the recent history, and as its workflow's latest on the
    default branch unless a later run is there. True when it changed the summary.

    Both go in one conditional update; only when one of them is older than what is stored (a late delivery of
    an older run) are they tried apart.
    """
    if state.workflow_id is None:
        return False
    snapshot = RunSummary.from_state(state).to_item()
    client = shared_client()
    history_key = f"r_{state.run_id}"
    keys = [history_key]
    # A run whose default branch is unknown, or from a fork's branch of the same name, is not the default branch's.
    if state.on_default_branch:
        keys.append(f"wf_{state.workflow_id}")
    item = _summary_update(client, state, snapshot, keys)
    if item is None and len(keys) > 1:
        item = _summary_update(client, state, snapshot, [history_key])
        item = _summary_update(client, state, snapshot, keys[1:]) or item
    if item is None:
        return False
    _history_prune(client, state.repo_id, item)
    return True


def _history_prune(client, repo_id: str, item: dict) -> None:
    """Drop all but the newest HISTORY_KEEP runs once HISTORY_PRUNE_AT have gathered.

    Unconditional: a run removed here is older than the kept ones, and if it changes again it comes back
    as an entry of its own, to be pruned next time.
    """
    runs = sorted((int(key[2:]) for key in item if key.startswith("r_")), reverse=True)
    if len(runs) < HISTORY_PRUNE_AT:
        return
    names = {}
    for index, run_id in enumerate(runs[HISTORY_KEEP:]):
        names[f"#r{index}"] = f"r_{run_id}"
        names[f"#o{index}"] = f"ord_r_{run_id}"
    client.update_item(
        TableName=RepoSummary.Meta.table_name,
        Key={"repoId": {"S": repo_id}},
        UpdateExpression="REMOVE " + ", ".join(names),
        ExpressionAttributeNames=names,
    )


def _plain(attribute: dict):
    ((kind, value),) = attribute.items()
    if kind == "N":
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: _plain(item) for key, item in value.items()}
    if kind == "L":
        return [_plain(item) for item in value]
    return value


def batch_get(request: dict[str, dict], *, raw: frozenset[str] = frozenset()) -> dict[str, list[dict]]:
    """Items from one BatchGetItem (any tables, at most 100 keys), retrying what DynamoDB left unprocessed.

    Items come back as plain values, except those of the `raw` tables, left in DynamoDB's form for a model.
    """
    client = shared_client()
    found: dict[str, list[dict]] = {}
    pending: dict[str, dict] | None = request
    while pending:
        answer = client.batch_get_item(RequestItems=pending)
        for table_name, items in answer["Responses"].items():
            if table_name not in raw:
                items = [{key: _plain(value) for key, value in item.items()} for item in items]
            found.setdefault(table_name, []).extend(items)
        pending = answer.get("UnprocessedKeys") or None
    return found


def summaries_request(repo_ids: list[str]) -> dict[str, dict]:
    return {RepoSummary.Meta.table_name: {"Keys": [{"repoId": {"S": repo_id}} for repo_id in repo_ids]}}


def summaries_read(repo_ids: list[str]) -> dict[str, dict]:
    """The summaries of many repositories in as few requests as DynamoDB allows (100 keys per BatchGetItem)."""
    found: dict[str, dict] = {}
    for start in range(0, len(repo_ids), 100):
        items = batch_get(summaries_request(repo_ids[start : start + 100]))
        found.update({item["repoId"]: item for item in items.get(RepoSummary.Meta.table_name, [])})
    return found


# --- Jobs ----------------------------------------------------------------------------------------------------------


def job_order(status: str, steps: list[dict], latest: datetime | None) -> str:
    """Jobs have no updated_at; steps done and the latest step time order their in-progress states."""
    done = sum(1 for step in steps if step.get("status") == TERMINAL)
    started = sum(1 for step in steps if step.get("status") == "in_progress")
    return f"{JOB_RANK.get(status, 1)}|{done:04d}|{started:04d}|{_stamp(latest)}|{SUB_RANK.get(status, 0)}"


@dataclass(frozen=True)
class JobState:
    """One job of a run, with its steps, parsed at the boundary."""

    repo_id: str
    run_id: int
    job_id: int
    run_attempt: int
    name: str
    status: str
    conclusion: str | None
    started_at: datetime | None
    completed_at: datetime | None
    html_url: str | None
    runner_name: str | None
    labels: tuple[str, ...]
    steps: tuple[dict, ...]

    @property
    def run_key(self) -> str:
        return f"{self.repo_id}#{self.run_id}"

    @property
    def order(self) -> str:
        times = [self.started_at, self.completed_at]
        times += [_time(step.get(key)) for step in self.steps for key in ("started_at", "completed_at")]
        latest = max((moment for moment in times if moment), default=None)
        return job_order(self.status, list(self.steps), latest)

    @classmethod
    def from_github(cls, job: dict, *, repo_id: str, path: str = "workflow_job") -> "JobState":
        """A REST job object or a webhook's `workflow_job`, every field type-checked (MalformedRun names one)."""
        fields = Fields(job, path)
        return cls(
            repo_id=repo_id,
            run_id=fields.int("run_id", required=True),
            job_id=fields.int("id", required=True),
            run_attempt=fields.int("run_attempt") or 1,
            name=fields.str("name", required=True),
            status=fields.str("status", required=True),
            conclusion=fields.str("conclusion"),
            started_at=fields.time("started_at"),
            completed_at=fields.time("completed_at"),
            html_url=fields.str("html_url"),
            runner_name=fields.str("runner_name"),
            labels=fields.strs("labels"),
            steps=tuple(_step(step) for step in fields.objs("steps")),
        )


def _step(step: Fields) -> dict:
    """One step, checked: its timestamps are kept as GitHub wrote them, once known to parse."""
    for name in ("started_at", "completed_at"):
        step.time(name)
    return {
        "number": step.int("number", required=True),
        "name": step.str("name", required=True),
        "status": step.str("status", required=True),
        "conclusion": step.str("conclusion"),
        "started_at": step.str("started_at"),
        "completed_at": step.str("completed_at"),
    }


def job_item(state: JobState) -> WorkflowJob:
    steps = [
        Step(
            number=int(step["number"]),
            name=str(step["name"]),
            status=str(step["status"]),
            conclusion=step.get("conclusion"),
            started_at=_time(step.get("started_at")),
            completed_at=_time(step.get("completed_at")),
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
    event = change_event("job", state.repo_id, {"run_id": state.run_id, **job_json(item)})
    return _apply(item, job_condition(state), event, claim)
