"""The JSON API of runs: what the user may see, and the actions they may take, with GitHub's refusals explained.

Every read is checked against the user's visibility; a repository or run they may not see is a 404. Actions are
sent with the user's own token, so GitHub itself decides whether this user may re-run or cancel.
"""

from django.http import JsonResponse
from django.views.decorators.http import require_POST, require_safe

from dashboard.lib import github
from dashboard.surfaces import api_view
from runs.actions import run_act
from runs.models import WorkflowRun
from runs.overview import overview_read
from runs.reads import backfill_if_new, run_detail_read, runs_page
from runs.serializers import job_json, repo_json, run_json
from runs.visibility import repo_access

MAX_PER_PAGE = 100
FILTERS = {
    "branch": WorkflowRun.head_branch,
    "status": WorkflowRun.status,
    "event": WorkflowRun.event,
    "actor": WorkflowRun.actor_login,
}


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
    stale_reason = backfill_if_new(access)
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
    page = runs_page(access.full_name, condition, cursor=request.GET.get("cursor"), per_page=_per_page(request))
    return JsonResponse(
        {
            "repo": repo_json(access, None),
            "runs": [run_json(run) for run in page.runs],
            "next_cursor": page.next_cursor,
            "stale": stale_reason is not None,
            "stale_reason": stale_reason,
        }
    )


@require_safe
@api_view
def run_detail(request, owner, repo, run_id):
    """One run with its jobs and their steps; the failing step of each failed job is named."""
    detail = run_detail_read(request.user.record, f"{owner}/{repo}", run_id)
    return JsonResponse(
        {
            "run": run_json(detail.run),
            "jobs": [job_json(job) for job in detail.jobs],
            "can_write": detail.can_write,
            "stale": detail.stale_reason is not None,
            "stale_reason": detail.stale_reason,
        }
    )


@require_POST
@api_view
def run_action(request, owner, repo, run_id, action):
    """Re-run, re-run failed jobs, or cancel, with the user's own token: GitHub checks that this user may."""
    result = run_act(request.user.record, f"{owner}/{repo}", run_id, action)
    if not result.ok:
        return JsonResponse({"error": result.message}, status=result.status)
    return JsonResponse({"ok": True, "message": result.message}, status=202)
