"""The overview for other tools: as JSON, and as CCTray XML for build monitors (CCMenu, Nevergreen, BuildNotify).

A signed-in browser reads them with its session; a build monitor with the user's feed token in the URL
(`?token=`, made on the settings page). Either way a feed lists only what GitHub lets that user see, and takes
the overview's filters from the same query parameters.

CCTray's format: https://cctray.org/v1/ — a <Projects> element of <Project> elements with name, activity
(Sleeping, Building or CheckingModifications), lastBuildStatus (Success, Failure, Exception or Unknown),
lastBuildLabel, lastBuildTime and webUrl.
"""

import re
from xml.etree import ElementTree

from django.contrib.auth import logout as auth_logout
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from accounts.flows import user_revoke
from accounts.tokens import NoToken
from dashboard.forms import BoardFilterForm
from dashboard.lib import github
from dashboard.lib.links import safe_github_url
from dashboard.surfaces import feed_view
from dashboard.views import board_read
from runs.board import Board, BoardRepo
from runs.summaries import RunSummary

# CCTray has one word for how a finished build went; cancelled and skipped runs say nothing, so "Unknown".
CCTRAY_STATUS = {"success": "Success", "failure": "Failure"}
# Queued runs are builds that have been asked for: CCTray's Building fits a monitor better than anything else.
CCTRAY_ACTIVITY = {"running": "Building", "queued": "Building"}
# Every character XML 1.0 does not allow (https://www.w3.org/TR/xml/#charsets): C0 controls but tab, newline and
# carriage return, U+FFFE and U+FFFF, and lone surrogates. ElementTree writes them as they are, and one of them in
# one workflow or branch name makes the whole document unreadable to a build monitor.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """`value` with every character XML cannot hold replaced by U+FFFD, the replacement character."""
    return NOT_XML.sub("\ufffd", value)


def _feed_board(request, record, refusal) -> Board | HttpResponse:
    """The board the feed shows, or the response refusing it (invalid filters, an authorization gone)."""
    form = BoardFilterForm(request.GET)
    if form.errors:
        errors = {name: [str(error) for error in errors] for name, errors in form.errors.items()}
        return JsonResponse({"errors": errors}, status=400)
    try:
        _, board, _ = board_read(record, form)
    except (github.BadCredentials, NoToken):
        # GitHub no longer accepts the owner's authorization and no webhook said so (revoked at GitHub, a refresh
        # refused): end it as the signed-in path does, so later polls are refused without asking GitHub again.
        user_revoke(record.user_id)
        if request.user.is_authenticated:
            auth_logout(request)
        return refusal()
    return board


def _run_url(request, repo: BoardRepo, run: RunSummary) -> str:
    return request.build_absolute_uri(reverse("run", args=[repo.access.owner, repo.access.name, run.run_id]))


def _moment(value) -> str | None:
    return value.isoformat() if value else None


@require_safe
@feed_view()
def overview_json(request, *, record, refusal):
    """The overview as JSON: counts by state, and each repository's latest runs and recent history."""
    board = _feed_board(request, record, refusal)
    if isinstance(board, HttpResponse):
        return board  # refused
    return JsonResponse(
        {
            "counts": board.counts,
            "hidden": board.hidden,
            "repos": [
                {
                    "full_name": repo.full_name,
                    "pinned": repo.pinned,
                    "state": repo.category,
                    "html_url": safe_github_url(repo.access.html_url),
                    "latest": [
                        {
                            **run.as_json(),
                            "state": run.category,
                            "url": _run_url(request, repo, run),
                            "html_url": safe_github_url(run.html_url),
                        }
                        for run in repo.latest
                    ],
                    "history": [{"run_id": run.run_id, "state": run.category} for run in repo.history],
                }
                for repo in board.repos
            ],
        }
    )


def _last_finished(repo: BoardRepo, run: RunSummary) -> RunSummary | None:
    """The run itself if it finished, else the workflow's latest finished run in the repository's history."""
    if run.finished:
        return run
    earlier = [other for other in repo.history if other.workflow_id == run.workflow_id and other.finished]
    return earlier[0] if earlier else None


def _cctray_project(request, repo: BoardRepo, run: RunSummary) -> dict[str, str]:
    """A workflow's <Project> attributes: its latest run's activity, and how its last finished run went."""
    finished = _last_finished(repo, run)
    shown = finished or run
    return {
        "name": f"{repo.full_name} :: {run.workflow_name or run.workflow_id}",
        "activity": CCTRAY_ACTIVITY.get(run.category, "Sleeping"),
        "lastBuildStatus": CCTRAY_STATUS.get(finished.category, "Unknown") if finished else "Unknown",
        "lastBuildLabel": str(shown.run_number or shown.run_id),
        "lastBuildTime": _moment(shown.updated_at) or "",
        "webUrl": _run_url(request, repo, run),
    }


@require_safe
@feed_view(as_text=True)
def cctray(request, *, record, refusal):
    """The overview as CCTray XML: one project per repository and workflow."""
    board = _feed_board(request, record, refusal)
    if isinstance(board, HttpResponse):
        return board  # refused
    projects = ElementTree.Element("Projects")
    for repo in board.repos:
        for run in repo.latest:
            attributes = _cctray_project(request, repo, run)
            ElementTree.SubElement(projects, "Project", {name: xml_text(value) for name, value in attributes.items()})
    body = ElementTree.tostring(projects, encoding="unicode", xml_declaration=True)
    return HttpResponse(body, content_type="application/xml; charset=utf-8")
