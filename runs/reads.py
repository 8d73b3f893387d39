"""A repository's stored runs and one run's jobs, as the pages and the JSON API read them.

Reads check the user's visibility first; a repository or run they may not see is a 404. A run not in the cache
is looked up on GitHub with the user's token, a bounded number of times. The actions on a run are
runs/actions.py.
"""

import base64
import binascii
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.http import Http404
from pynamodb.exceptions import DoesNotExist, UpdateError

from accounts.models import UserRecord
from accounts.tokens import user_access_token
from dashboard.lib import github
from dashboard.lib.github.state import GitHubState
from runs.actions import RERUN_WINDOW
from runs.backfill import repo_backfill, run_fetch, run_jobs_fetch
from runs.board import ANY_BRANCH, BoardFilters
from runs.models import WorkflowJob, WorkflowRun
from runs.summaries import FAILURE_CONCLUSIONS, QUEUED_STATUSES, summaries_read
from runs.visibility import RepoAccess, repo_access


def cursor_encode(key: dict | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def cursor_decode(value: str | None, repo_id: str) -> dict | None:
    """The DynamoDB key a page starts after; only ever a key of this repository's runs (else 404)."""
    if not value:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (ValueError, binascii.Error):
        raise Http404("Bad cursor.") from None
    valid = (
        isinstance(key, dict)
        and set(key) == {"repoId", "runId"}
        and key["repoId"] == {"S": repo_id}
        and isinstance(key["runId"], dict)
        and set(key["runId"]) == {"N"}
        and str(key["runId"]["N"]).isdigit()
    )
    if not valid:
        raise Http404("Bad cursor.")
    return key


def backfill_if_new(access: RepoAccess) -> str | None:
    """Load a repository's runs the first time anyone looks at it; why not, if GitHub could not be asked."""
    if "backfilledAt" in summaries_read([access.full_name]).get(access.full_name, {}):
        return None
    try:
        repo_backfill(access)
    except github.CANNOT_ASK as error:
        return str(error) or type(error).__name__
    return None


def _and(condition, term):
    return term if condition is None else condition & term


def board_condition(filters: BoardFilters, default_branch: str):
    """The board's filters as a DynamoDB filter on a repository's runs (the search applies to repositories)."""
    condition = None
    if filters.branch != ANY_BRANCH:
        condition = _and(condition, WorkflowRun.head_branch == (filters.branch or default_branch))
        # A fork's branch is not this repository's branch, whatever its name.
        condition = _and(condition, WorkflowRun.head_repository.does_not_exist())
    if filters.event:
        condition = _and(condition, WorkflowRun.event == filters.event)
    if filters.hide_pull_requests:
        condition = _and(condition, ~WorkflowRun.event.is_in("pull_request", "pull_request_target"))
    if filters.hide_bots:
        condition = _and(condition, WorkflowRun.actor_type.does_not_exist() | (WorkflowRun.actor_type != "Bot"))
    if filters.workflow:
        condition = _and(condition, WorkflowRun.workflow_name == filters.workflow)
    if filters.actor:
        condition = _and(condition, WorkflowRun.actor_login == filters.actor)
    status = {
        "failure": (WorkflowRun.status == "completed") & WorkflowRun.conclusion.is_in(*FAILURE_CONCLUSIONS),
        "success": (WorkflowRun.status == "completed") & (WorkflowRun.conclusion == "success"),
        "cancelled": (WorkflowRun.status == "completed") & (WorkflowRun.conclusion == "cancelled"),
        "running": WorkflowRun.status == "in_progress",
        "queued": WorkflowRun.status.is_in(*QUEUED_STATUSES),
    }.get(filters.status)
    if status is not None:
        condition = _and(condition, status)
    return condition


@dataclass
class RunPage:
    runs: list[WorkflowRun]
    next_cursor: str | None


def runs_page(repo_id: str, condition, *, cursor: str | None, per_page: int) -> RunPage:
    """Newest first; a filtered page reads on until it is full or the runs run out."""
    results = WorkflowRun.query(
        repo_id,
        scan_index_forward=False,
        filter_condition=condition,
        limit=per_page,
        last_evaluated_key=cursor_decode(cursor, repo_id),
    )
    runs = list(results)
    return RunPage(runs, cursor_encode(results.last_evaluated_key))


# A run not in the cache is looked up on GitHub. Misses are remembered, and each user may look up only so many
# unknown runs per window: guessing ids then costs little, and only the guesser's own GitHub budget.
MISS_MEMORY = timedelta(minutes=10)
LOOKUPS_PER_WINDOW = 30
LOOKUP_WINDOW_SECONDS = 600


class LookupsExhausted(github.RateLimited):
    """The user looked up too many runs the dashboard did not know, in this window."""

    reason = "Too many runs the dashboard does not know were looked up; try again later"


def _miss_key(full_name: str, run_id: int) -> str:
    return f"run-miss#{full_name}#{run_id}"


def _miss_remembered(full_name: str, run_id: int) -> bool:
    try:
        miss = GitHubState.get(_miss_key(full_name, run_id))
    except DoesNotExist:
        return False
    return miss.expires_at is not None and miss.expires_at > datetime.now(UTC)


def _miss_remember(full_name: str, run_id: int) -> None:
    now = datetime.now(UTC)
    GitHubState(key=_miss_key(full_name, run_id), updated_at=now, expires_at=now + MISS_MEMORY).save()


def _lookup_count(user_id: int) -> None:
    """Count one lookup against the user's window, in one conditional update; LookupsExhausted past the bound."""
    window = int(time.time()) // LOOKUP_WINDOW_SECONDS
    ends = datetime.fromtimestamp((window + 1) * LOOKUP_WINDOW_SECONDS, UTC)
    try:
        GitHubState(key=f"run-lookups#{user_id}#{window}").update(
            actions=[GitHubState.tally.add(1), GitHubState.expires_at.set(ends)],
            condition=GitHubState.tally.does_not_exist() | (GitHubState.tally < LOOKUPS_PER_WINDOW),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise LookupsExhausted("run lookups exhausted", status=429, retry_at=ends) from None


def run_of(record: UserRecord, full_name: str, run_id: int) -> WorkflowRun:
    """A run of a repository the user may see, from the cache, else read once from GitHub (404 if none)."""
    access = repo_access(record, full_name)
    try:
        return WorkflowRun.get(access.full_name, run_id)
    except DoesNotExist:
        pass
    if _miss_remembered(access.full_name, run_id):
        raise Http404("No such run.")
    _lookup_count(int(record.user_id))
    try:
        run_fetch(access, run_id, token=user_access_token(int(record.user_id)), identity=f"user:{record.user_id}")
        return WorkflowRun.get(access.full_name, run_id)
    except (github.NotFound, DoesNotExist):
        _miss_remember(access.full_name, run_id)
        raise Http404("No such run.") from None


@dataclass
class RunDetail:
    run: WorkflowRun
    jobs: list[WorkflowJob]
    can_write: bool
    stale_reason: str | None

    @property
    def rerun_until(self) -> datetime | None:
        """Until when GitHub lets the run be re-run: 30 days after it was created (None if that is unknown)."""
        return self.run.created_at + RERUN_WINDOW if self.run.created_at else None

    @property
    def rerun_closed(self) -> bool:
        """Whether GitHub's re-run window has closed, so re-run buttons would only earn a refusal."""
        return self.rerun_until is not None and self.rerun_until <= datetime.now(UTC)


def run_detail_read(record: UserRecord, full_name: str, run_id: int) -> RunDetail:
    """A run with its jobs, by attempt and start; jobs never fetched are read from GitHub once."""
    run = run_of(record, full_name, run_id)
    jobs = list(WorkflowJob.query(f"{run.repo_id}#{run.run_id}"))
    stale_reason = None
    if not jobs and run.jobs_fetched_at is None:
        try:
            run_jobs_fetch(run)
            jobs = list(WorkflowJob.query(f"{run.repo_id}#{run.run_id}"))
        except github.CANNOT_ASK as error:
            stale_reason = str(error) or type(error).__name__
    jobs.sort(key=lambda job: (job.run_attempt, job.started_at or job.updated_at, job.job_id))
    can_write = repo_access(record, run.repo_id).can_write
    return RunDetail(run, jobs, can_write, stale_reason)
