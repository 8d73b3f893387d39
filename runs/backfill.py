"""Loading a repository's recent runs the first time it is shown; later views read DynamoDB only."""

import itertools
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from django.conf import settings

from dashboard.lib import github
from dashboard.lib.dynamo import shared_client
from runs.cache import job_record, run_record
from runs.models import RepoSummary, WorkflowRun
from runs.states import JobState, MalformedRun, RunState
from runs.visibility import RepoAccess

logger = logging.getLogger(__name__)
PARALLEL_REPOS = 8


def installation_identity(installation_id: int) -> str:
    return f"installation:{installation_id}"


def repo_backfill(access: RepoAccess) -> int:
    """Store the runs created within the backfill window; return how many changed.

    One request per 100 runs. The first page is asked for with its last ETag: when GitHub answers 304 nothing
    changed, and the refresh cost nothing against the rate limit. That ETag is kept only once every run is
    stored: kept before, a backfill cut short would be answered 304 next time and its runs never loaded.
    """
    token = github.installation_token(access.installation_id)
    identity = installation_identity(access.installation_id)
    since = (datetime.now(UTC) - timedelta(days=settings.RUNS_BACKFILL_DAYS)).date().isoformat()
    params = {"created": f">={since}", "per_page": 100}
    path = f"/repos/{access.full_name}/actions/runs"
    with github.kept_after() as pages:
        first = github.get_if_changed(path, token=token, identity=identity, params=params, keep_etag=False)
        pages.append(first)
        changed = _runs_stored(access, first, token=token, identity=identity)
    return changed


def _runs_stored(access: RepoAccess, first: github.Page | None, *, token: str, identity: str) -> int:
    """Store the runs of a first page (None: unchanged) and of the pages after it; mark the repository backfilled."""
    changed = 0
    if first is not None:
        assert isinstance(first.body, dict)  # the list-runs endpoint answers an object
        rest = github.paginate_rest(first.next_url, token=token, identity=identity, key="workflow_runs")
        for run in itertools.chain(first.body["workflow_runs"], rest):
            try:
                state = RunState.from_github(run, default_branch=access.default_branch)
            except MalformedRun as error:
                logger.warning("backfill %s: skipped a run: %s", access.full_name, error)
                continue
            changed += run_record(state, installation_id=access.installation_id)
    shared_client().update_item(
        TableName=RepoSummary.Meta.table_name,
        Key={"repoId": {"S": access.full_name}},
        UpdateExpression="SET backfilledAt = :now",
        ExpressionAttributeValues={":now": {"S": datetime.now(UTC).isoformat()}},
    )
    return changed


def repos_backfill(accesses: list[RepoAccess]) -> dict[str, str]:
    """Backfill several repositories at once; return the ones that failed, with why."""
    failed: dict[str, str] = {}

    def one(access: RepoAccess) -> None:
        try:
            repo_backfill(access)
        except github.GitHubError as error:  # BadCredentials here can only be the App's, never the user's
            failed[access.full_name] = str(error) or type(error).__name__
            logger.warning("backfill %s failed: %s", access.full_name, failed[access.full_name])

    with ThreadPoolExecutor(max_workers=PARALLEL_REPOS) as pool:
        list(pool.map(one, accesses))
    return failed


def run_fetch(access: RepoAccess, run_id: int, *, token: str, identity: str) -> bool:
    """Read one run from GitHub into the cache (a run asked for before any webhook or backfill brought it).

    With the asking user's own token: GitHub checks their access, and a guess costs their budget, not the
    installation's that every user of it shares.
    """
    body = github.get(f"/repos/{access.full_name}/actions/runs/{run_id}", token=token, identity=identity)
    state = RunState.from_github(body, default_branch=access.default_branch)
    if state.repo_id != access.full_name:
        raise github.NotFound("the run belongs to another repository", status=404)
    return run_record(state, installation_id=access.installation_id)


def run_jobs_fetch(run: WorkflowRun) -> None:
    """Load a run's jobs and steps once, when no webhook has brought them; later views read DynamoDB."""
    if run.installation_id is None:
        return
    installation_id = int(run.installation_id)
    for job in github.paginate(
        f"/repos/{run.repo_id}/actions/runs/{run.run_id}/jobs",
        token=github.installation_token(installation_id),
        identity=installation_identity(installation_id),
        key="jobs",
        params={"filter": "all"},
    ):
        job_record(JobState.from_github(job, repo_id=run.repo_id))
    run.update(actions=[WorkflowRun.jobs_fetched_at.set(datetime.now(UTC))])
