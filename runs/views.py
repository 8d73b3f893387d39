"""The JSON API of runs: what the user may see, and the actions they may take, with GitHub's refusals explained.

Every read is checked against the user's visibility; a repository or run they may not see is a 404. Actions are
sent with the user's own token, so GitHub itself decides whether this user may re-run or cancel.
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from functools import wraps

from django.http import Http404, JsonResponse
from django.views.decorators.http import require_POST, require_safe
from pynamodb.exceptions import DoesNotExist

from accounts.tokens import user_access_token
from dashboard import github
from runs.backfill import repo_backfill, run_fetch, run_jobs_fetch
from runs.cache import summaries_read
from runs.models import WorkflowJob, WorkflowRun
from runs.overview import overview_read
from runs.serializers import job_json, repo_json, run_json
from runs.visibility import repo_access

MAX_PER_PAGE = 100
FILTERS = {
    "branch": WorkflowRun.head_branch,
    "status": WorkflowRun.status,
    "event": WorkflowRun.event,
    "actor": WorkflowRun.actor_login,
}
# The actions, named as GitHub's endpoints are, and what to say when GitHub accepted one.
ACTIONS = {
    "rerun": "Re-run requested.",
    "rerun-failed-jobs": "Re-run of the failed jobs requested.",
    "cancel": "Cancellation requested.",
}


def api_view(view):
    """Signed-in users only (401 otherwise); a repository or run they may not see answers 404 as JSON."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": "Sign in first."}, status=401)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return JsonResponse({"error": "Not found."}, status=404)
        except github.RateLimited as limited:
            response = JsonResponse(
                {"error": f"GitHub's rate limit is reached until {limited.retry_at.isoformat()}."}, status=429
            )
            response["Retry-After"] = str(max(1, int((limited.retry_at - datetime.now(UTC)).total_seconds())))
            return response
        except (github.GitHubUnavailable, github.AppCredentialsRejected):
            return JsonResponse({"error": "GitHub is not answering; try again shortly."}, status=502)

    return wrapper


@require_safe
@api_view
def user_detail(request):
    """The signed-in user, and what is left of their GitHub rate limit."""
    record = request.user.record
    return JsonResponse(
        {
            "user": {"id": record.user_id, "login": record.login, "name": record.name, "avatar_url": record.avatar_url},
            "github_rate_limit": github.budget(f"user:{record.user_id}").as_json(),
        }
    )


@require_safe
@api_view
def repo_list(request):
    """Every repository the user may see, with the latest run of each workflow on its default branch."""
    overview = overview_read(request.user.record)
    repos = [
        repo_json(access, overview.summaries.get(name, {}), load_error=overview.failed.get(name))
        for name, access in sorted(overview.visibility.repos.items())
    ]
    stale_reason = overview.visibility.stale_reason or (
        "GitHub could not be asked about some repositories." if overview.failed else None
    )
    return JsonResponse({"repos": repos, "stale": stale_reason is not None, "stale_reason": stale_reason})


def _cursor(value: str | None, repo_id: str) -> dict | None:
    """The DynamoDB key a page starts after; only ever a key of this repository's runs."""
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


def _per_page(request) -> int:
    try:
        return max(1, min(MAX_PER_PAGE, int(request.GET.get("per_page", 30))))
    except ValueError:
        return 30


@require_safe
@api_view
def repo_runs(request, owner, repo):
    """A repository's runs, newest first, filtered by branch, status, event, workflow and actor, paginated."""
    access = repo_access(request.user.record, f"{owner}/{repo}")
    stale_reason = None
    if "backfilledAt" not in summaries_read([access.full_name]).get(access.full_name, {}):
        try:
            repo_backfill(access)
        except (github.GitHubUnavailable, github.RateLimited, github.AppCredentialsRejected) as error:
            stale_reason = str(error) or type(error).__name__
    condition = None
    for name, attribute in FILTERS.items():
        if request.GET.get(name):
            term = attribute == request.GET[name]
            if name == "status":  # GitHub's status filter also takes a conclusion
                term = term | (WorkflowRun.conclusion == request.GET[name])
            condition = term if condition is None else condition & term
    if request.GET.get("workflow"):
        workflow = request.GET["workflow"]
        term = (
            (WorkflowRun.workflow_id == int(workflow))
            if workflow.isdigit()
            else (WorkflowRun.workflow_name == workflow)
        )
        condition = term if condition is None else condition & term
    results = WorkflowRun.query(
        access.full_name,
        scan_index_forward=False,
        filter_condition=condition,
        limit=_per_page(request),
        last_evaluated_key=_cursor(request.GET.get("cursor"), access.full_name),
    )
    runs = [run_json(run) for run in results]
    after = results.last_evaluated_key
    next_cursor = base64.urlsafe_b64encode(json.dumps(after).encode()).decode() if after else None
    return JsonResponse(
        {
            "repo": repo_json(access, None),
            "runs": runs,
            "next_cursor": next_cursor,
            "stale": stale_reason is not None,
            "stale_reason": stale_reason,
        }
    )


def _run_of(request, owner, repo, run_id) -> WorkflowRun:
    """A run of a repository the user may see, from the cache, else read once from GitHub."""
    access = repo_access(request.user.record, f"{owner}/{repo}")
    try:
        return WorkflowRun.get(access.full_name, run_id)
    except DoesNotExist:
        pass
    try:
        run_fetch(access, run_id)
        return WorkflowRun.get(access.full_name, run_id)
    except (github.NotFound, DoesNotExist):
        raise Http404("No such run.") from None


@require_safe
@api_view
def run_detail(request, owner, repo, run_id):
    """One run with its jobs and their steps; the failing step of each failed job is named."""
    run = _run_of(request, owner, repo, run_id)
    jobs = list(WorkflowJob.query(f"{run.repo_id}#{run.run_id}"))
    stale_reason = None
    if not jobs and run.jobs_fetched_at is None:
        try:
            run_jobs_fetch(run)
            jobs = list(WorkflowJob.query(f"{run.repo_id}#{run.run_id}"))
        except (github.GitHubUnavailable, github.RateLimited, github.AppCredentialsRejected) as error:
            stale_reason = str(error) or type(error).__name__
    jobs.sort(key=lambda job: (job.run_attempt, job.started_at or job.updated_at, job.job_id))
    can_write = repo_access(request.user.record, run.repo_id).can_write
    return JsonResponse(
        {
            "run": run_json(run),
            "jobs": [job_json(job) for job in jobs],
            "can_write": can_write,
            "stale": stale_reason is not None,
            "stale_reason": stale_reason,
        }
    )


@require_POST
@api_view
def run_action(request, owner, repo, run_id, action):
    """Re-run, re-run failed jobs, or cancel, with the user's own token: GitHub checks that this user may."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    access = repo_access(request.user.record, f"{owner}/{repo}")
    user_id = request.user.pk
    try:
        github.post(
            f"/repos/{access.full_name}/actions/runs/{run_id}/{action}",
            token=user_access_token(user_id),
            identity=f"user:{user_id}",
        )
    except github.Forbidden as refusal:
        message = f"GitHub refused: {refusal}. Re-running and cancelling need write access to {access.full_name}."
        return JsonResponse({"error": message}, status=403)
    except github.NotFound:
        return JsonResponse({"error": "GitHub does not know this run, or will not let you act on it."}, status=404)
    except github.Conflict as conflict:
        return JsonResponse({"error": f"GitHub refused: {conflict}"}, status=409)
    except github.ValidationFailed as invalid:
        return JsonResponse({"error": f"GitHub refused: {invalid}"}, status=422)
    return JsonResponse({"ok": True, "message": ACTIONS[action]}, status=202)
