"""GitHub's runs and jobs as typed states, parsed at the boundary, each with the order the merge rule compares.

A state's order sorts its states in the order they happen (docs/decisions.md#webhook-order): the attempt, then
how far along its status is, then GitHub's `updated_at` (for a job, its steps' progress).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from dashboard.lib.shapes import Fields, Malformed
from runs.models import on_default_branch

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


def parse_time(value: str | None) -> datetime | None:
    """A timestamp GitHub gave (`...Z`), as UTC; None for none."""
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
        times += [parse_time(step.get(key)) for step in self.steps for key in ("started_at", "completed_at")]
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
