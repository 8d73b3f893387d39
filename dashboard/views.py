import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from dashboard import github
from dashboard.dynamo import shared_client
from runs.models import WorkflowRun

logger = logging.getLogger(__name__)


@require_safe
@never_cache
def healthz(request):
    """Whether the app can reach DynamoDB: 200 if it answers, 503 with the reason if not."""
    try:
        # DescribeTable on a known table needs no account-wide permission, unlike ListTables.
        shared_client().describe_table(TableName=WorkflowRun.Meta.table_name)
    except (BotoCoreError, ClientError) as error:
        logger.warning("healthz: DynamoDB unavailable: %s", type(error).__name__)
        return JsonResponse(
            {"status": "unavailable", "dynamodb": f"DynamoDB did not answer: {_describe(error)}"}, status=503
        )
    return JsonResponse({"status": "ok", "dynamodb": "ok"})


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Message") or error.response.get("Error", {}).get("Code", "error")
    return str(error)


@require_safe
def home(request):
    """The front page: a sign-in button, or the latest run of each workflow of every visible repository, live."""
    if not request.user.is_authenticated:
        return render(request, "dashboard/home.html")
    from runs.overview import overview_read
    from runs.serializers import repo_json

    try:
        overview = overview_read(request.user.record)
    except (github.GitHubUnavailable, github.RateLimited) as error:
        return render(request, "dashboard/home.html", {"unavailable": str(error) or "GitHub is not answering."})
    repos = [
        repo_json(access, overview.summaries.get(name, {}), load_error=overview.failed.get(name))
        for name, access in sorted(overview.visibility.repos.items())
    ]
    return render(request, "dashboard/home.html", {"repos": repos, "stale_reason": overview.visibility.stale_reason})
