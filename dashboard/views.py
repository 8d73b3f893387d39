"""The dashboard's pages: server-rendered and complete without JavaScript, which adds live updates on top."""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from dashboard.cards import repo_card
from dashboard.forms import BoardFilterForm
from dashboard.lib.dynamo import shared_client
from dashboard.surfaces import page_view
from runs.actions import ACTIONS, run_act
from runs.board import board_build
from runs.insights import RunFacts, insights
from runs.models import WorkflowRun
from runs.overview import overview_read
from runs.reads import backfill_if_new, board_condition, run_detail_read, runs_page
from runs.visibility import repo_access

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


def _page_context(request, **context) -> dict:
    """What every signed-in page's template and script need."""
    kiosk = request.GET.get("kiosk") == "1"
    return {"kiosk": kiosk, **context}


def board_read(record, form: BoardFilterForm):
    """The overview's data and the board this view's filters make of it."""
    overview = overview_read(record)
    settings = overview.settings
    board = board_build(
        overview.visibility.repos,
        overview.summaries,
        form.filters(),
        selected=settings.selected_repos,
        pinned=settings.pinned_repos,
        failed=overview.failed,
    )
    for repo in board.repos:
        repo.url = reverse("repo", args=[repo.access.owner, repo.access.name])
    stale_reason = overview.visibility.stale_reason or (
        "GitHub could not be asked about some repositories." if overview.failed else None
    )
    return overview, board, stale_reason


def _client_settings(settings) -> dict:
    """The settings the page's script acts on (notifications and auto-refresh), never anything secret."""
    notifications = settings.notifications
    return {
        "auto_refresh": settings.auto_refresh,
        "pinned_repos": list(settings.pinned_repos),
        "notifications": {
            "enabled": notifications.enabled,
            "on_failure": notifications.on_failure,
            "on_recovery": notifications.on_recovery,
            "pinned_only": notifications.pinned_only,
            "default_branch_only": notifications.default_branch_only,
        },
    }


@require_safe
@page_view
def home(request):
    """The overview: every selected (else visible) repository's latest runs, pinned and failing first."""
    form = BoardFilterForm(request.GET)
    overview, board, stale_reason = board_read(request.user.record, form)
    context = _page_context(
        request,
        form=form,
        board=board,
        cards=[repo_card(repo, index, kiosk=request.GET.get("kiosk") == "1") for index, repo in enumerate(board.repos)],
        stale_reason=stale_reason,
        repo_names=[repo.full_name for repo in board.repos],
        client=_client_settings(overview.settings),
        page="overview",
    )
    return render(request, "dashboard/overview.html", context, status=400 if form.errors else 200)


@require_safe
@page_view
def repo_page(request, owner, repo):
    """A repository's run history, newest first, with the overview's filters (every branch by default)."""
    access = repo_access(request.user.record, f"{owner}/{repo}")
    stale_reason = backfill_if_new(access)
    form = BoardFilterForm(request.GET, any_branch_by_default=True)
    filters = form.filters()
    page = runs_page(
        access.full_name,
        board_condition(filters, access.default_branch),
        cursor=request.GET.get("cursor"),
        per_page=30,
    )
    context = _page_context(
        request,
        form=form,
        access=access,
        runs=page.runs,
        next_cursor=page.next_cursor,
        stale_reason=stale_reason,
        repo_names=[access.full_name],
        page="repo",
    )
    return render(request, "dashboard/repo.html", context, status=400 if form.errors else 200)


@require_safe
@page_view
def run_page(request, owner, repo, run_id):
    """One run: its jobs and steps with durations, the failing step named, and the actions the user may take."""
    detail = run_detail_read(request.user.record, f"{owner}/{repo}", run_id)
    context = _page_context(
        request,
        detail=detail,
        run=detail.run,
        jobs=detail.jobs,
        owner=owner,
        name=repo,
        repo_names=[detail.run.repo_id],
        page="run",
    )
    return render(request, "dashboard/run.html", context)


@require_POST
@page_view
def run_action_page(request, owner, repo, run_id, action):
    """The run page's buttons: ask GitHub, then show its answer on the run page."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    result = run_act(request.user.record, f"{owner}/{repo}", run_id, action)
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect(reverse("run", args=[owner, repo, run_id]))


@require_safe
@page_view
def insights_page(request, owner, repo):
    """Per-workflow success rate, durations, queue time, regressions and flaky commits, from stored runs only."""
    access = repo_access(request.user.record, f"{owner}/{repo}")
    stale_reason = backfill_if_new(access)
    facts = [RunFacts.from_run(run) for run in WorkflowRun.query(access.full_name)]
    context = _page_context(
        request,
        access=access,
        insights=insights(facts),
        runs_counted=len(facts),
        stale_reason=stale_reason,
        repo_names=[access.full_name],
        page="insights",
    )
    return render(request, "dashboard/insights.html", context)
